import SpindleQueue
import SpindleSystem
import SpindleThreading
import Synchronization

/// An executor that runs work on a pool of threads (Python's
/// `concurrent.futures.ThreadPoolExecutor`).
///
/// Threads start lazily, one per submission while none is idle, up to `maxWorkers`; idle threads
/// are reused. A failing initializer breaks the pool: every pending and later future fails with
/// `FutureError.broken`. At program exit the pool finishes the work already submitted.
public final class ThreadPoolExecutor: FutureExecutor, @unchecked Sendable {
    /// The most threads the pool runs.
    public let maxWorkers: Int
    /// The prefix of the workers' names ("PREFIX_N").
    public let threadNamePrefix: String
    let core: PoolCore

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

    public func submit<Result: Sendable>(
        _ work: @escaping @Sendable () throws -> Result
    ) throws(FutureError) -> Future<Result> {
        let future = Future(work: work)
        try core.enqueue(future)
        return future
    }

    public func shutdown(wait: Bool, cancelFutures: Bool) {
        core.shutdown(wait: wait, cancelFutures: cancelFutures)
    }

    /// The number of worker threads started so far.
    public var workerCount: Int { core.state.withLock { $0.threads.count } }
}

/// The pool's shared parts. Workers hold this, not the executor, so that an executor nobody
/// holds any more shuts down (and its idle workers end).
final class PoolCore: @unchecked Sendable {
    struct State {
        var threads: [SpindleThread] = []
        var shutdown = false
        var broken: String?
    }

    let maxWorkers: Int
    let prefix: String
    let initializer: (@Sendable () throws -> Void)?
    enum Message: Sendable {
        case run(any RunnableFuture)
        /// The sentinel that tells a worker to finish (each passes it on).
        case stop
    }

    let work = Queue<Message>()
    let idle = Semaphore(0)
    let state = Locked(State())

    init(maxWorkers: Int, prefix: String, initializer: (@Sendable () throws -> Void)?) {
        self.maxWorkers = maxWorkers
        self.prefix = prefix
        self.initializer = initializer
    }

    func enqueue(_ item: any RunnableFuture) throws(FutureError) {
        try state.withLock { (state: inout State) throws(FutureError) in
            if let broken = state.broken { throw FutureError.broken(broken) }
            if state.shutdown { throw FutureError.shutDown }
            try? work.putNowait(.run(item))  // unbounded: never full
            adjustThreadCount(&state)
        }
    }

    /// Starts a worker unless one is idle (Python's `_adjust_thread_count`).
    private func adjustThreadCount(_ state: inout State) {
        if (try? idle.acquire(blocking: false)) == true { return }
        guard state.threads.count < maxWorkers else { return }
        let worker = SpindleThread(name: "\(prefix)_\(state.threads.count)", daemon: false) { [self] in
            workerLoop()
        }
        state.threads.append(worker)
        do {
            try worker.start()
        } catch {
            state.threads.removeLast()
        }
    }

    private func workerLoop() {
        if let initializer {
            do {
                try initializer()
            } catch {
                initializerFailed(error)
                return
            }
        }
        while true {
            guard case .run(let item) = try? work.get() else {
                try? work.putNowait(.stop)  // pass the sentinel on to the next worker
                return
            }
            item.run { try? idle.release() }
        }
    }

    private func initializerFailed(_ error: any Error) {
        let reason = "A thread initializer failed, the thread pool is not usable anymore (\(error))"
        state.withLock { $0.broken = reason }
        // Fail every pending item; put the sentinels back for the other workers.
        var sentinels = 0
        while let message = try? work.getNowait() {
            switch message {
            case .run(let item): item.fail(FutureError.broken(reason))
            case .stop: sentinels += 1
            }
        }
        for _ in 0..<sentinels { try? work.putNowait(.stop) }
    }

    func shutdown(wait: Bool, cancelFutures: Bool) {
        let threads = state.withLock { state -> [SpindleThread] in
            state.shutdown = true
            return state.threads
        }
        if cancelFutures {
            var sentinels = 0
            while let message = try? work.getNowait() {
                switch message {
                case .run(let item): item.cancel()
                case .stop: sentinels += 1
                }
            }
            for _ in 0..<sentinels { try? work.putNowait(.stop) }
        }
        try? work.putNowait(.stop)
        if wait {
            for thread in threads where thread !== SpindleThread.current { _ = try? thread.join() }
        }
    }

    // At program exit every live pool gets its sentinel, so that its workers finish the queued
    // work and end, and the exit-time join of non-daemon threads completes.
    private static let live = Locked<[ObjectIdentifier: WeakCore]>([:])
    private static let exitHookInstalled = Atomic<Bool>(false)

    struct WeakCore { weak var core: PoolCore? }

    static func registerForExit(_ core: PoolCore) {
        live.withLock { live in
            live = live.filter { $0.value.core != nil }
            live[ObjectIdentifier(core)] = WeakCore(core: core)
        }
        if exitHookInstalled.compareExchange(expected: false, desired: true, ordering: .relaxed).exchanged {
            SpindleThread.registerAtExit {
                let cores = PoolCore.live.withLock { $0.values.compactMap(\.core) }
                for core in cores { core.shutdown(wait: false, cancelFutures: false) }
            }
        }
    }
}
