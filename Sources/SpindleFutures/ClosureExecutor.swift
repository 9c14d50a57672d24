/// A `FutureExecutor` that runs work in this process, so it also takes closures (Python's
/// `executor.submit(fn, *args)` with any callable): `ThreadPoolExecutor`.
///
/// A process pool is a `FutureExecutor` but not a `ClosureExecutor`: what it runs must cross
/// into another process, so it takes `ExecutorFunction`s only, and passing it a closure is a
/// compile-time error rather than a run-time one.
public protocol ClosureExecutor: FutureExecutor {
    /// Schedules `work` and returns its future.
    /// - Parameter work: The work.
    /// - Returns: The future of its result.
    /// - Throws: `FutureError.shutDown` after `shutdown`; `FutureError.broken` when the executor
    ///   can run nothing more.
    func submit<Result: Sendable>(_ work: @escaping @Sendable () throws -> Result) throws(FutureError) -> Future<Result>
}

extension ClosureExecutor {
    /// Schedules `function(argument)`, calling the function's body on one of this executor's
    /// threads.
    /// - Parameters:
    ///   - function: The function.
    ///   - argument: Its argument.
    /// - Returns: The future of the result.
    /// - Throws: `FutureError.shutDown` after `shutdown`; `FutureError.broken` when broken.
    public func submit<Function: ExecutorFunction>(
        _ function: Function, _ argument: Function.Argument
    ) throws(FutureError) -> Future<Function.Result> {
        try submit { try function(argument) }
    }

    /// Applies `function` to every item, calling its body on this executor's threads; results
    /// come back in the items' order.
    /// - Parameters:
    ///   - function: The function.
    ///   - items: The arguments; all are submitted at once.
    ///   - timeout: Seconds, from this call, within which every result must be read.
    ///   - chunksize: How many items one submitted job handles.
    /// - Returns: The results, in order.
    /// - Throws: `FutureError` when the work cannot be submitted.
    public func map<Function: ExecutorFunction>(
        _ function: Function, _ items: some Sequence<Function.Argument>, timeout: Double? = nil, chunksize: Int = 1
    ) throws(FutureError) -> FutureMap<Function.Result> {
        try map(items, timeout: timeout, chunksize: chunksize) { try function($0) }
    }

    /// Applies `transform` to every item concurrently; results come back in the items' order.
    ///
    /// Every item is submitted at once; the results are collected lazily, as the returned
    /// sequence is read. Reading a result later than `timeout` seconds after this call throws
    /// `FutureError.timedOut`; a failed item's error is thrown when its result is read.
    /// - Parameters:
    ///   - items: The inputs.
    ///   - timeout: Seconds, from this call, within which every result must be read.
    ///   - chunksize: How many items one submitted job handles (a larger chunk costs less
    ///     overhead per item for very small work).
    ///   - transform: The work for one item.
    /// - Returns: The results, in order.
    /// - Throws: `FutureError` when the work cannot be submitted.
    public func map<Item: Sendable, Result: Sendable>(
        _ items: some Sequence<Item>,
        timeout: Double? = nil,
        chunksize: Int = 1,
        _ transform: @escaping @Sendable (Item) throws -> Result
    ) throws(FutureError) -> FutureMap<Result> {
        let deadline = FutureMap<Result>.deadline(after: timeout)
        if chunksize <= 1 {
            var futures: [Future<Result>] = []
            for item in items {
                do {
                    futures.append(try submit { try transform(item) })
                } catch {
                    for future in futures { future.cancel() }
                    throw error
                }
            }
            return FutureMap(single: futures, deadline: deadline)
        }
        var chunks: [Future<[Result]>] = []
        var chunk: [Item] = []
        chunk.reserveCapacity(chunksize)
        func flush() throws(FutureError) {
            let batch = chunk
            chunk.removeAll(keepingCapacity: true)
            do {
                chunks.append(try submit { try batch.map(transform) })
            } catch {
                for future in chunks { future.cancel() }
                throw error
            }
        }
        for item in items {
            chunk.append(item)
            if chunk.count == chunksize { try flush() }
        }
        if !chunk.isEmpty { try flush() }
        return FutureMap(chunked: chunks, deadline: deadline)
    }
}
