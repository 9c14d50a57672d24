/// Something that runs work and hands back futures (Python's `concurrent.futures.Executor`):
/// `ThreadPoolExecutor`, and SpindleMultiprocessing's `ProcessPoolExecutor`.
///
/// Code written against this protocol runs on either: it submits `ExecutorFunction`s (a name, a
/// body, Codable argument and result), which a thread pool calls here and a process pool sends
/// to a worker process. Closures are taken by `ClosureExecutor`, the executors that run work in
/// this process. (The Swift standard library owns the name `Executor`, hence `FutureExecutor`.)
public protocol FutureExecutor: AnyObject, Sendable {
    /// Schedules `function(argument)` and returns its future.
    /// - Parameters:
    ///   - function: The function.
    ///   - argument: Its argument.
    /// - Returns: The future of the result.
    /// - Throws: `FutureError.shutDown` after `shutdown`; `FutureError.broken` when the executor
    ///   can run nothing more.
    func submit<Function: ExecutorFunction>(
        _ function: Function, _ argument: Function.Argument
    ) throws(FutureError) -> Future<Function.Result>

    /// Applies `function` to every item; results come back in the items' order, collected
    /// lazily as they are read (Python's `Executor.map`).
    ///
    /// Reading a result later than `timeout` seconds after this call throws
    /// `FutureError.timedOut`; a failed item's error is thrown when its result is read.
    /// - Parameters:
    ///   - function: The function.
    ///   - items: The arguments; all are submitted at once.
    ///   - timeout: Seconds, from this call, within which every result must be read.
    ///   - chunksize: How many items one submitted job handles.
    /// - Returns: The results, in order.
    /// - Throws: `FutureError` when the work cannot be submitted.
    func map<Function: ExecutorFunction>(
        _ function: Function, _ items: some Sequence<Function.Argument>, timeout: Double?, chunksize: Int
    ) throws(FutureError) -> FutureMap<Function.Result>

    /// Stops accepting work and releases the executor's resources.
    /// - Parameters:
    ///   - wait: Whether to wait until the submitted work has finished.
    ///   - cancelFutures: Whether to cancel the work that has not started.
    func shutdown(wait: Bool, cancelFutures: Bool)
}

extension FutureExecutor {
    /// Applies `function` to every item, with no timeout and one item per job.
    /// - Parameters:
    ///   - function: The function.
    ///   - items: The arguments.
    /// - Returns: The results, in order.
    /// - Throws: `FutureError` when the work cannot be submitted.
    public func map<Function: ExecutorFunction>(
        _ function: Function, _ items: some Sequence<Function.Argument>
    ) throws(FutureError) -> FutureMap<Function.Result> {
        try map(function, items, timeout: nil, chunksize: 1)
    }

    /// Stops accepting work and waits for the submitted work to finish.
    public func shutdown() { shutdown(wait: true, cancelFutures: false) }

    /// Runs `body` with the executor, then shuts it down and waits for its work (Python's
    /// `with executor:`), however `body` ends.
    /// - Parameter body: The code that uses the executor.
    /// - Returns: What `body` returns.
    /// - Throws: What `body` throws.
    @discardableResult
    public func scoped<Result>(_ body: (Self) throws -> Result) rethrows -> Result {
        defer { shutdown(wait: true, cancelFutures: false) }
        return try body(self)
    }

    /// Runs `body` with the executor from async code, then shuts it down and waits for its work.
    /// - Parameter body: The code that uses the executor.
    /// - Returns: What `body` returns.
    /// - Throws: What `body` throws.
    @discardableResult
    public func scoped<Result>(_ body: (Self) async throws -> Result) async rethrows -> Result {
        defer { shutdown(wait: true, cancelFutures: false) }
        return try await body(self)
    }
}
