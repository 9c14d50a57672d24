import SpindleSystem

/// The results of `FutureExecutor.map`, in the items' order, collected as they are read.
///
/// Read it from a thread with `next()` or `results()`, or from a task with `for try await`. When
/// it is freed before every result was read, the work that has not started is cancelled.
public final class FutureMap<Result: Sendable>: AsyncSequence, @unchecked Sendable {
    enum Futures {
        case single([Future<Result>])
        case chunked([Future<[Result]>])
        /// Chunks whose items each carry their own outcome (a process pool's): a failed item
        /// throws when it is reached, and the items after it can still be read.
        case outcomes([Future<[Swift.Result<Result, any Error>]>])
    }

    private let futures: Futures
    private let deadline: Deadline
    /// The next chunk to claim, and the current chunk's items not yet read, last first.
    private let position = Locked<(future: Int, buffered: [Swift.Result<Result, any Error>])>((0, []))

    static func deadline(after timeout: Double?) -> Deadline { .after(seconds: timeout.map { Swift.max(0, $0) }) }

    init(single futures: [Future<Result>], deadline: Deadline) {
        self.futures = .single(futures)
        self.deadline = deadline
    }

    init(chunked futures: [Future<[Result]>], deadline: Deadline) {
        self.futures = .chunked(futures)
        self.deadline = deadline
    }

    /// The results of chunks whose items each carry their own outcome.
    /// - Parameters:
    ///   - futures: The chunks, in the items' order.
    ///   - deadline: When every result must have been read.
    package init(outcomes futures: [Future<[Swift.Result<Result, any Error>]>], deadline: Deadline) {
        self.futures = .outcomes(futures)
        self.deadline = deadline
    }

    deinit {
        switch futures {
        case .single(let all): for future in all { future.cancel() }
        case .chunked(let all): for future in all { future.cancel() }
        case .outcomes(let all): for future in all { future.cancel() }
        }
    }

    private var count: Int {
        switch futures {
        case .single(let all): return all.count
        case .chunked(let all): return all.count
        case .outcomes(let all): return all.count
        }
    }

    /// Takes the next result, waiting for it.
    /// - Returns: The result, or `nil` after the last.
    /// - Throws: The error the item's work threw, `FutureError.timedOut` when the result is not
    ///   ready by the map's deadline, or `FutureError.cancelled`.
    public func next() throws -> Result? {
        if let buffered = takeBuffered() { return try buffered.get() }
        guard let index = claim() else { return nil }
        let remaining = deadline.remainingSeconds
        switch futures {
        case .single(let all):
            return try all[index].result(timeout: remaining)
        case .chunked(let all):
            return try refill(with: all[index].result(timeout: remaining).map { .success($0) })
        case .outcomes(let all):
            return try refill(with: all[index].result(timeout: remaining))
        }
    }

    /// Takes the next result, suspending the task while it waits.
    /// - Returns: The result, or `nil` after the last.
    /// - Throws: As `next()`, or `CancellationError`.
    public func nextAsync() async throws -> Result? {
        if let buffered = takeBuffered() { return try buffered.get() }
        guard let index = claim() else { return nil }
        let remaining = deadline.remainingSeconds
        switch futures {
        case .single(let all):
            return try await all[index].value(timeout: remaining)
        case .chunked(let all):
            return try refill(with: await all[index].value(timeout: remaining).map { .success($0) })
        case .outcomes(let all):
            return try refill(with: await all[index].value(timeout: remaining))
        }
    }

    /// Every remaining result, in order.
    /// - Returns: The results.
    /// - Throws: As `next()`, for the first result that fails.
    public func results() throws -> [Result] {
        var all: [Result] = []
        while let result = try next() { all.append(result) }
        return all
    }

    private func takeBuffered() -> Swift.Result<Result, any Error>? {
        position.withLock { position in
            position.buffered.popLast()
        }
    }

    private func claim() -> Int? {
        position.withLock { position in
            guard position.future < count else { return nil }
            defer { position.future += 1 }
            return position.future
        }
    }

    /// Buffers a chunk's items after its first, and returns the first.
    private func refill(with chunk: [Swift.Result<Result, any Error>]) throws -> Result? {
        guard let first = chunk.first else { return nil }
        position.withLock { $0.buffered = chunk.dropFirst().reversed() }  // taken from the end
        return try first.get()
    }

    /// Reads the results from a task.
    public struct AsyncIterator: AsyncIteratorProtocol {
        let map: FutureMap

        /// Takes the next result.
        /// - Returns: The result, or `nil` after the last.
        /// - Throws: As `FutureMap.next()`.
        public mutating func next() async throws -> Result? { try await map.nextAsync() }
    }

    /// Makes an iterator.
    /// - Returns: The iterator.
    public func makeAsyncIterator() -> AsyncIterator { AsyncIterator(map: self) }
}
