/// Something that runs work and hands back futures (Python's `concurrent.futures.Executor`).
///
/// (The Swift standard library owns the name `Executor`, hence `FutureExecutor`.)
public protocol FutureExecutor: AnyObject, Sendable {
    /// Schedules `work` and returns its future.
    /// - Parameter work: The work.
    /// - Returns: The future of its result.
    /// - Throws: `FutureError.shutDown` after `shutdown`; `FutureError.broken` when the executor
    ///   can run nothing more.
    func submit<Result: Sendable>(_ work: @escaping @Sendable () throws -> Result) throws(FutureError) -> Future<Result>

    /// Stops accepting work and releases the executor's resources.
    /// - Parameters:
    ///   - wait: Whether to wait until the submitted work has finished.
    ///   - cancelFutures: Whether to cancel the work that has not started.
    func shutdown(wait: Bool, cancelFutures: Bool)
}

extension FutureExecutor {
    /// Stops accepting work and waits for the submitted work to finish.
    public func shutdown() { shutdown(wait: true, cancelFutures: false) }

    /// Runs `body` with the executor, then shuts it down and waits for its work (Python's
    /// `with executor:`), however `body` ends.
    /// - Parameter body: The code that uses the executor.
    /// - Returns: What `body` returns.
    /// - Throws: What `body` throws.
    public func scoped<Result>(_ body: (Self) throws -> Result) rethrows -> Result {
        defer { shutdown(wait: true, cancelFutures: false) }
        return try body(self)
    }

    /// Runs `body` with the executor from async code, then shuts it down and waits for its work.
    /// - Parameter body: The code that uses the executor.
    /// - Returns: What `body` returns.
    /// - Throws: What `body` throws.
    public func scoped<Result>(_ body: (Self) async throws -> Result) async rethrows -> Result {
        defer { shutdown(wait: true, cancelFutures: false) }
        return try await body(self)
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
