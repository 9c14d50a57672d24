import SpindleFutures
import SpindleSystem
import Synchronization

/// A pool of worker processes that run worker functions (Python's `multiprocessing.Pool`).
///
/// The workers start with the pool and are daemons: they end with the program, however it ends.
/// Each worker runs one task at a time, in the order it received them: a worker has a window of
/// tasks in flight, written to it many to a write, and answers them many to a write. The window
/// stays at one task while tasks are slow and grows (up to 128) while they are fast, so a long
/// task holds back about a millisecond's worth of other tasks at most; the rest stay queued for
/// whichever worker has room. A worker that dies (a crash, `kill -9`) fails the tasks it had
/// received and not answered with `MultiprocessingError.workerDied` (one was running, and it may
/// have run others whose results it had not sent yet) — the caller is never left waiting — and is
/// replaced; tasks it had not received yet go to another worker. With `maxTasksPerChild`, a worker
/// is sent exactly that many tasks, exits after the last, and a new process takes its place.
///
/// ```swift
/// let pool = try Pool(processes: 4)
/// let squares = try pool.map(square, 0..<100)
/// pool.close()
/// try pool.join()
/// ```
///
/// `scoped { }` is Python's `with Pool() as pool:`: it terminates the pool when the body ends.
public final class Pool: @unchecked Sendable {
    /// The number of worker processes.
    public let processes: Int
    /// How many tasks a worker runs before a new process replaces it (`nil`: no limit).
    public let maxTasksPerChild: Int?
    let engine: PoolEngine

    private static let counter = Atomic<Int>(0)

    /// Starts a pool.
    /// - Parameters:
    ///   - processes: The number of worker processes; by default `Multiprocessing.cpuCount`.
    ///   - initializer: A worker function (with its argument) every worker runs once when it starts.
    ///     When it throws, the pool is broken: its tasks fail with `workerStartFailed`.
    ///   - maxTasksPerChild: How many tasks a worker runs before it is replaced; `nil` for no limit.
    /// - Throws: `MultiprocessingError.invalidState` for a count below 1;
    ///   `.workerStartFailed` when the worker program cannot be started.
    public init(processes: Int? = nil, initializer: WorkerCall? = nil, maxTasksPerChild: Int? = nil) throws(MultiprocessingError) {
        let count = processes ?? Multiprocessing.cpuCount
        guard count >= 1 else { throw .invalidState("Number of processes must be at least 1") }
        if let maxTasksPerChild, maxTasksPerChild < 1 {
            throw .invalidState("maxtasksperchild must be a positive int or None")
        }
        self.processes = count
        self.maxTasksPerChild = maxTasksPerChild
        let number = Self.counter.wrappingAdd(1, ordering: .relaxed).newValue
        let policy = PoolPolicy(
            breakOnWorkerDeath: false, finishWorkAtExit: false, namePrefix: "SpawnPoolWorker-\(number)", maxWindow: 128,
            workerDied: { pid, code in MultiprocessingError.workerDied(pid: pid, exitcode: code) },
            broken: { reason in MultiprocessingError.workerStartFailed(reason) },
            terminated: { MultiprocessingError.poolTerminated })
        engine = PoolEngine(size: count, maxTasksPerChild: maxTasksPerChild, initializer: initializer?.request, policy: policy)
        try engine.start(launchNow: true)
        PoolEngine.registerForExit(engine)
    }

    deinit { engine.terminate() }

    private func submit(_ jobs: [PoolJob]) throws(MultiprocessingError) {
        do {
            try engine.submit(jobs)
        } catch {
            switch error {
            case .notRunning: throw .invalidState("Pool not running")
            case .broken(let reason): throw .workerStartFailed(reason)
            }
        }
    }

    // MARK: - One call

    /// Runs `function` on `argument` in a worker and waits for the result (Python's `apply`).
    /// - Parameters:
    ///   - function: A worker function the worker program registers.
    ///   - argument: Its argument.
    /// - Returns: The result.
    /// - Throws: The `RemoteError` the function threw, `MultiprocessingError.workerDied` when its
    ///   worker died, or the errors of `applyAsync`.
    public func apply<Argument, Result>(_ function: WorkerFunction<Argument, Result>, _ argument: Argument) throws -> Result {
        try applyAsync(function, argument).get()
    }

    /// Starts `function` on `argument` in a worker (Python's `apply_async`).
    /// - Parameters:
    ///   - function: A worker function the worker program registers.
    ///   - argument: Its argument.
    ///   - callback: Called in this process with the result, before it is ready to `get`.
    ///   - errorCallback: Called in this process with the error, when the call fails.
    /// - Returns: The result to come.
    /// - Throws: `MultiprocessingError.invalidState` ("Pool not running") after `close` or
    ///   `terminate`; `.encodingFailed` when the argument cannot be encoded.
    public func applyAsync<Argument, Result>(
        _ function: WorkerFunction<Argument, Result>, _ argument: Argument,
        callback: (@Sendable (Result) -> Void)? = nil, errorCallback: (@Sendable (any Error) -> Void)? = nil
    ) throws(MultiprocessingError) -> AsyncResult<Result> {
        let request = try function.request([argument])
        let future = Future<Result>()
        let job = makeJob(
            request, future: future, beforeResult: Self.callbacks(callback, errorCallback),
            transform: { outcome in try function.decodeChunk(outcome, count: 1)[0].get() })
        try submit([job])
        return AsyncResult(future: future)
    }

    static func callbacks<Value>(
        _ callback: (@Sendable (Value) -> Void)?, _ errorCallback: (@Sendable (any Error) -> Void)?
    ) -> (@Sendable (Swift.Result<Value, any Error>) -> Void)? {
        if callback == nil && errorCallback == nil { return nil }
        return { outcome in
            switch outcome {
            case .success(let value): callback?(value)
            case .failure(let error): errorCallback?(error)
            }
        }
    }

    // MARK: - Maps

    /// Python's default chunk size for `map`: the items spread over four chunks per worker.
    private func defaultChunksize(_ count: Int) -> Int {
        let (quotient, remainder) = count.quotientAndRemainder(dividingBy: processes * 4)
        return Swift.max(1, quotient + (remainder > 0 ? 1 : 0))
    }

    /// Applies `function` to every item in the workers; results come back in the items' order
    /// (Python's `map`).
    /// - Parameters:
    ///   - function: A worker function the worker program registers.
    ///   - items: The arguments.
    ///   - chunksize: How many items one task carries; by default the items are cut into about
    ///     four chunks per worker, as in Python.
    /// - Returns: The results.
    /// - Throws: The first failing item's error (a `RemoteError`, `workerDied` for every item
    ///   of a chunk whose worker died), or the errors of `applyAsync`.
    public func map<Argument, Result>(
        _ function: WorkerFunction<Argument, Result>, _ items: some Sequence<Argument>, chunksize: Int? = nil
    ) throws -> [Result] {
        try mapAsync(function, items, chunksize: chunksize).get()
    }

    /// Starts `map` and returns at once (Python's `map_async`).
    /// - Parameters:
    ///   - function: A worker function the worker program registers.
    ///   - items: The arguments.
    ///   - chunksize: How many items one task carries (see `map`).
    ///   - callback: Called in this process with all the results, before they are ready to `get`.
    ///   - errorCallback: Called in this process with the first failing item's error.
    /// - Returns: All the results to come, in order.
    /// - Throws: As `applyAsync`.
    public func mapAsync<Argument, Result>(
        _ function: WorkerFunction<Argument, Result>, _ items: some Sequence<Argument>, chunksize: Int? = nil,
        callback: (@Sendable ([Result]) -> Void)? = nil, errorCallback: (@Sendable (any Error) -> Void)? = nil
    ) throws(MultiprocessingError) -> AsyncResult<[Result]> {
        let all = Array(items)
        let size = chunksize ?? defaultChunksize(all.count)
        let (jobs, futures, _) = try makeChunkJobs(function, items: all, chunksize: size)
        let whole = gather(futures, beforeResult: Self.callbacks(callback, errorCallback))
        try submit(jobs)
        return AsyncResult(future: whole)
    }

    /// Applies `function` to every item in the workers, handing the results out in the items'
    /// order as they come (Python's `imap`).
    /// - Parameters:
    ///   - function: A worker function the worker program registers.
    ///   - items: The arguments.
    ///   - chunksize: How many items one task carries.
    /// - Returns: The results, read with `next(timeout:)`, `results()` or `for try await`.
    /// - Throws: As `applyAsync`.
    public func imap<Argument, Result>(
        _ function: WorkerFunction<Argument, Result>, _ items: some Sequence<Argument>, chunksize: Int = 1
    ) throws(MultiprocessingError) -> PoolResults<Result> {
        try iterate(function, items, chunksize: chunksize, ordered: true)
    }

    /// As `imap`, but the results come in the order they finish (Python's `imap_unordered`).
    /// - Parameters:
    ///   - function: A worker function the worker program registers.
    ///   - items: The arguments.
    ///   - chunksize: How many items one task carries.
    /// - Returns: The results, in completion order.
    /// - Throws: As `applyAsync`.
    public func imapUnordered<Argument, Result>(
        _ function: WorkerFunction<Argument, Result>, _ items: some Sequence<Argument>, chunksize: Int = 1
    ) throws(MultiprocessingError) -> PoolResults<Result> {
        try iterate(function, items, chunksize: chunksize, ordered: false)
    }

    private func iterate<Argument, Result>(
        _ function: WorkerFunction<Argument, Result>, _ items: some Sequence<Argument>, chunksize: Int, ordered: Bool
    ) throws(MultiprocessingError) -> PoolResults<Result> {
        guard chunksize >= 1 else { throw .invalidState("Chunksize must be 1+, not \(chunksize)") }
        let (jobs, futures, sizes) = try makeChunkJobs(function, items: Array(items), chunksize: chunksize)
        let results = PoolResults(chunks: futures, sizes: sizes, ordered: ordered) { MultiprocessingError.timedOut }
        try submit(jobs)
        return results
    }

    /// Applies a function of several parameters to every tuple of arguments (Python's `starmap`).
    /// - Parameters:
    ///   - function: A worker function declared with one closure parameter per argument.
    ///   - items: The argument tuples.
    ///   - chunksize: How many items one task carries (see `map`).
    /// - Returns: The results, in order.
    /// - Throws: As `map`.
    public func starmap<each Element: Codable & Sendable, Result>(
        _ function: WorkerFunction<ArgumentTuple<repeat each Element>, Result>,
        _ items: some Sequence<(repeat each Element)>, chunksize: Int? = nil
    ) throws -> [Result] {
        try starmapAsync(function, items, chunksize: chunksize).get()
    }

    /// Starts `starmap` and returns at once (Python's `starmap_async`).
    /// - Parameters:
    ///   - function: A worker function declared with one closure parameter per argument.
    ///   - items: The argument tuples.
    ///   - chunksize: How many items one task carries.
    ///   - callback: Called in this process with all the results.
    ///   - errorCallback: Called in this process with the first failing item's error.
    /// - Returns: All the results to come, in order.
    /// - Throws: As `applyAsync`.
    public func starmapAsync<each Element: Codable & Sendable, Result>(
        _ function: WorkerFunction<ArgumentTuple<repeat each Element>, Result>,
        _ items: some Sequence<(repeat each Element)>, chunksize: Int? = nil,
        callback: (@Sendable ([Result]) -> Void)? = nil, errorCallback: (@Sendable (any Error) -> Void)? = nil
    ) throws(MultiprocessingError) -> AsyncResult<[Result]> {
        var tuples: [ArgumentTuple<repeat each Element>] = []
        for item in items { tuples.append(ArgumentTuple(repeat each item)) }
        return try mapAsync(function, tuples, chunksize: chunksize, callback: callback, errorCallback: errorCallback)
    }

    // MARK: - Ending

    /// Stops taking tasks; the workers finish the queued ones and exit (Python's `close`).
    public func close() { engine.close() }

    /// Ends the workers now (SIGKILL) and waits for them; queued and running tasks fail with
    /// `MultiprocessingError.poolTerminated` (Python's `terminate`).
    public func terminate() {
        engine.terminate()
        engine.join()
    }

    /// Waits for the workers to exit, after `close` or `terminate` (Python's `join`).
    /// - Throws: `MultiprocessingError.invalidState` ("Pool is still running") before either.
    public func join() throws(MultiprocessingError) {
        guard engine.phase != .running else { throw .invalidState("Pool is still running") }
        engine.join()
    }

    /// Runs `body` with the pool, then terminates it and waits for its workers, however `body`
    /// ends (Python's `with Pool() as pool:`, which terminates too).
    /// - Parameter body: The code that uses the pool.
    /// - Returns: What `body` returns.
    /// - Throws: What `body` throws.
    @discardableResult
    public func scoped<T>(_ body: (Pool) throws -> T) rethrows -> T {
        defer { terminate() }
        return try body(self)
    }

    /// Runs `body` with the pool from async code, then terminates it.
    /// - Parameter body: The code that uses the pool.
    /// - Returns: What `body` returns.
    /// - Throws: What `body` throws.
    @discardableResult
    public func scoped<T>(_ body: (Pool) async throws -> T) async rethrows -> T {
        defer { terminate() }
        return try await body(self)
    }

    /// The pids of the worker processes running now (a worker being replaced is missing).
    public var workerPIDs: [Int32] { engine.workerPIDs }
}
