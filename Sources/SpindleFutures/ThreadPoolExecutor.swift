import SpindleSystem
import Synchronization

/// An executor that runs work on a pool of threads (Python's
/// `concurrent.futures.ThreadPoolExecutor`).
///
/// Threads start lazily, one per submission while none is idle, up to `maxWorkers`; idle threads
/// are reused. A failing initializer breaks the pool: every pending and later future fails with
/// `FutureError.broken`. At program exit the pool finishes the work already submitted.
public final class ThreadPoolExecutor: ClosureExecutor, @unchecked Sendable {
    /// The most threads the pool runs.
    public let maxWorkers: Int
    /// The prefix of the workers' names ("PREFIX_N").
    public let threadNamePrefix: String
    @usableFromInline let core: PoolCore

    private static let counter = Atomic<Int>(0)

    /// Creates a pool.
    /// - Parameters:
    ///   - maxWorkers: The most threads; by default min(32, cores + 4), as in Python.
    ///   - threadNamePrefix: The workers' name prefix; by default "ThreadPoolExecutor-N".
    ///   - initializer: Run by every worker thread before its first work item.
    public init(
        maxWorkers: Int? = nil, threadNamePrefix: String = "",
        initializer: (@Sendable () throws -> Void)? = nil
    ) {
        let workers = maxWorkers ?? Swift.min(32, ProcessorCount.online + 4)
        precondition(workers > 0, "maxWorkers must be greater than 0, not \(workers)")
        self.maxWorkers = workers
        let number = Self.counter.wrappingAdd(1, ordering: .relaxed).oldValue
        self.threadNamePrefix = threadNamePrefix.isEmpty ? "ThreadPoolExecutor-\(number)" : threadNamePrefix
        core = PoolCore(maxWorkers: workers, prefix: self.threadNamePrefix, initializer: initializer)
        PoolCore.registerForExit(core)
    }

    deinit { core.shutdown(wait: false, cancelFutures: false) }

    // Inlinable, so that the caller's specialisation of `Future<Result>` is what the worker runs:
    // the job's `run` closure captures nothing and costs no allocation once specialised.
    @inlinable
    public func submit<Result: Sendable>(
        _ work: @escaping @Sendable () throws -> Result
    ) throws(FutureError) -> Future<Result> {
        let future = Future(work: work)
        try core.enqueue(
            PoolJob(future: future) { item, beforeCompletion in
                unsafeDowncast(item, to: Future<Result>.self).runWork(beforeCompletion: beforeCompletion)
            })
        return future
    }

    public func shutdown(wait: Bool, cancelFutures: Bool) {
        core.shutdown(wait: wait, cancelFutures: cancelFutures)
    }

    /// The number of worker threads started so far.
    public var workerCount: Int { core.workerCount }
}
