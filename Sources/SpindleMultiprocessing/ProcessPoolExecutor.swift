import SpindleFutures
import SpindleSystem
import Synchronization

/// An executor that runs worker functions in a pool of processes (Python's
/// `concurrent.futures.ProcessPoolExecutor`), handing back SpindleFutures `Future`s.
///
/// It is a `FutureExecutor`, so code written against that protocol runs on it as it runs on a
/// `ThreadPoolExecutor`: `submit` and `map` take an `ExecutorFunction` (a `WorkerFunction`) and
/// its argument, and a worker process runs the body its program registered under that name. It
/// is not a `ClosureExecutor`: a closure cannot cross into another process, so handing it one is
/// a compile-time error, not code that looks parallel and isolated and runs neither.
///
/// When a worker dies (a crash, `kill -9`), the pool is broken, as in Python: the futures of the
/// running and pending work fail with `FutureError.broken` (Python's `BrokenProcessPool`), later
/// submissions throw it, and nothing waits forever. At program exit the executor finishes the
/// work already submitted, as Python's does.
public final class ProcessPoolExecutor: FutureExecutor, @unchecked Sendable {
    /// The number of worker processes.
    public let maxWorkers: Int
    let engine: PoolEngine

    private static let counter = Atomic<Int>(0)

    /// The `FutureError.broken` text of a worker that died, in Python's words.
    static let brokenText =
        "A process in the process pool was terminated abruptly while the future was running or pending."

    /// Creates an executor; its worker processes start at once, in the background.
    /// - Parameters:
    ///   - maxWorkers: The number of worker processes; by default `Multiprocessing.cpuCount`.
    ///   - initializer: A worker function (with its argument) every worker runs when it starts;
    ///     when it throws, the executor is broken.
    ///   - maxTasksPerChild: How many calls a worker runs before a new process replaces it.
    public init(maxWorkers: Int? = nil, initializer: WorkerCall? = nil, maxTasksPerChild: Int? = nil) {
        let workers = maxWorkers ?? Multiprocessing.cpuCount
        precondition(workers > 0, "maxWorkers must be greater than 0, not \(workers)")
        precondition(maxTasksPerChild.map { $0 >= 1 } ?? true, "maxTasksPerChild must be >= 1")
        self.maxWorkers = workers
        let number = Self.counter.wrappingAdd(1, ordering: .relaxed).newValue
        let policy = PoolPolicy(
            breakOnWorkerDeath: true, finishWorkAtExit: true, namePrefix: "ProcessPoolExecutor-\(number)", maxWindow: 1,
            workerDied: { pid, code in
                let how = code.map { $0 < 0 ? "killed by signal \(-$0)" : "exit status \($0)" } ?? "ended"
                return FutureError.broken("\(ProcessPoolExecutor.brokenText) (worker \(pid): \(how))")
            },
            broken: { reason in
                reason.hasPrefix(ProcessPoolExecutor.brokenText)
                    ? FutureError.broken(reason)
                    : FutureError.broken("A child process terminated abruptly, the process pool is not usable anymore (\(reason))")
            },
            terminated: { FutureError.cancelled })
        engine = PoolEngine(size: workers, maxTasksPerChild: maxTasksPerChild, initializer: initializer?.request, policy: policy)
        try? engine.start(launchNow: false)
        PoolEngine.registerForExit(engine)
    }

    deinit { engine.close() }

    /// Schedules `function(argument)` in a worker process.
    /// - Parameters:
    ///   - function: A function the worker program registers (a `WorkerFunction`, or any
    ///     `ExecutorFunction` whose name and types the worker program registers).
    ///   - argument: Its argument.
    /// - Returns: The future of the result. Its `result()` throws the function's `RemoteError`,
    ///   `FutureError.broken` when a worker died, `MultiprocessingError.unknownFunction` when the
    ///   workers have no such function, or `MultiprocessingError.encodingFailed` when the
    ///   argument could not be encoded.
    /// - Throws: `FutureError.shutDown` after `shutdown`; `FutureError.broken` once broken.
    public func submit<Function: ExecutorFunction>(
        _ function: Function, _ argument: Function.Argument
    ) throws(FutureError) -> Future<Function.Result> {
        let remote = WorkerFunction<Function.Argument, Function.Result>.remote(function.name)
        let future = Future<Function.Result>()
        let request: TaskRequest
        do {
            request = try remote.request([argument])
        } catch {
            try checkRunning()
            _ = future.setRunningOrNotifyCancel()
            try? future.setException(error)
            return future
        }
        let job = makeJob(request, future: future) { outcome in
            try remote.decodeChunk(outcome, count: 1)[0].get()
        }
        try submit([job])
        return future
    }

    /// Applies `function` to every item in the workers; the results come in the items' order,
    /// as they are read (Python's `Executor.map`).
    /// - Parameters:
    ///   - function: A function the worker program registers.
    ///   - items: The arguments; all are submitted at once.
    ///   - timeout: Seconds, from this call, within which every result must be read.
    ///   - chunksize: How many items one call carries (fewer messages for very small work).
    /// - Returns: The results; reading one throws its item's error (the items after it can
    ///   still be read), or `FutureError.timedOut`.
    /// - Throws: `FutureError.shutDown` or `.broken` when the work cannot be submitted.
    public func map<Function: ExecutorFunction>(
        _ function: Function, _ items: some Sequence<Function.Argument>,
        timeout: Double? = nil, chunksize: Int = 1
    ) throws(FutureError) -> FutureMap<Function.Result> {
        let remote = WorkerFunction<Function.Argument, Function.Result>.remote(function.name)
        let deadline = Deadline.after(seconds: timeout.map { Swift.max(0, $0) })
        let jobs: [PoolJob]
        let futures: [Future<[Swift.Result<Function.Result, any Error>]>]
        do {
            (jobs, futures, _) = try makeChunkJobs(remote, items: Array(items), chunksize: chunksize)
        } catch {
            try checkRunning()
            let failed = Future<[Swift.Result<Function.Result, any Error>]>()
            _ = failed.setRunningOrNotifyCancel()
            try? failed.setException(error)
            return FutureMap(outcomes: [failed], deadline: deadline)
        }
        try submit(jobs)
        return FutureMap(outcomes: futures, deadline: deadline)
    }

    private func submit(_ jobs: [PoolJob]) throws(FutureError) {
        do {
            try engine.submit(jobs)
        } catch {
            switch error {
            case .notRunning: throw .shutDown
            case .broken(let reason): throw engine.policy.broken(reason) as? FutureError ?? .broken(reason)
            }
        }
    }

    private func checkRunning() throws(FutureError) {
        try engine.state.withLock { (state: inout PoolEngine.State) throws(FutureError) in
            if let broken = state.broken { throw .broken(broken) }
            if state.phase != .running { throw .shutDown }
        }
    }

    /// Stops accepting work and releases the worker processes.
    /// - Parameters:
    ///   - wait: Whether to wait until the submitted work is done and the workers have exited.
    ///   - cancelFutures: Whether to cancel the work that has not started.
    public func shutdown(wait: Bool = true, cancelFutures: Bool = false) {
        if cancelFutures {
            engine.close(cancelling: FutureError.cancelled)
        } else {
            engine.close()
        }
        if wait { engine.join() }
    }

    /// The pids of the worker processes running now.
    public var workerPIDs: [Int32] { engine.workerPIDs }
}
