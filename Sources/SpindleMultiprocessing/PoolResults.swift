import SpindleFutures
import SpindleQueue
import SpindleSystem

/// The results of `Pool.imap` and `Pool.imapUnordered`, collected as they are read (Python's
/// `IMapIterator` and `IMapUnorderedIterator`).
///
/// Read it from a thread with `next(timeout:)` or `results()`, or from a task with
/// `for try await`. Each item's own outcome comes back: an item whose function threw throws
/// when it is reached, and the items after it can still be read.
public final class PoolResults<Element: Sendable>: AsyncSequence, @unchecked Sendable {
    typealias Chunk = Future<[Result<Element, any Error>]>

    enum Mode {
        /// In the items' order: the chunks in order, and a buffer of the current chunk's items.
        case ordered
        /// In completion order: every item's outcome is queued when its chunk finishes.
        case unordered(Queue<Result<Element, any Error>>)
    }

    private let chunks: [Chunk]
    private let sizes: [Int]
    private let total: Int
    private let mode: Mode
    private let deadline: Deadline
    private let timeoutError: @Sendable () -> any Error
    private let position = Locked<(chunk: Int, buffered: [Result<Element, any Error>], taken: Int)>((0, [], 0))

    /// Creates the results of `chunks`, which hold `sizes` items each.
    init(
        chunks: [Chunk], sizes: [Int], ordered: Bool, deadline: Deadline = .never,
        timeoutError: @escaping @Sendable () -> any Error
    ) {
        self.chunks = chunks
        self.sizes = sizes
        total = sizes.reduce(0, +)
        self.deadline = deadline
        self.timeoutError = timeoutError
        if ordered {
            mode = .ordered
        } else {
            let queue = Queue<Result<Element, any Error>>()
            mode = .unordered(queue)
            for (chunk, size) in zip(chunks, sizes) {
                chunk.addDoneCallback { future in
                    let outcomes: [Result<Element, any Error>]
                    do {
                        outcomes = try future.result(timeout: 0)
                    } catch {
                        outcomes = Array(repeating: .failure(error), count: size)
                    }
                    for outcome in outcomes { try? queue.putNowait(outcome) }
                }
            }
        }
    }

    /// How many results there are in all.
    public var count: Int { total }

    /// Takes the next result, waiting for it.
    /// - Parameter timeout: Seconds to wait at most for this result; `nil` waits as long as it
    ///   takes (an executor's map also stops at its own deadline).
    /// - Returns: The result, or `nil` after the last.
    /// - Throws: The item's error; `MultiprocessingError.timedOut` (for a pool) or
    ///   `FutureError.timedOut` (for an executor) when the wait times out, in which case the
    ///   same result can be asked for again.
    public func next(timeout: Double? = nil) throws -> Element? {
        let wait = waitSeconds(timeout)
        switch mode {
        case .ordered:
            while true {
                if let buffered = takeBuffered() { return try buffered.get() }
                guard let index = currentChunk() else { return nil }
                let outcomes: [Result<Element, any Error>]
                do {
                    outcomes = try chunks[index].result(timeout: wait)
                } catch FutureError.timedOut {
                    throw timeoutError()
                } catch {
                    outcomes = Array(repeating: .failure(error), count: sizes[index])
                }
                if let first = advance(from: index, with: outcomes) { return try first.get() }
            }
        case .unordered(let queue):
            guard claim() else { return nil }
            do {
                return try queue.get(timeout: wait).get()
            } catch let error as QueueError where error == .empty {
                unclaim()
                throw timeoutError()
            }
        }
    }

    /// Takes the next result, suspending the task while it waits.
    /// - Returns: The result, or `nil` after the last.
    /// - Throws: As `next(timeout:)`, or `CancellationError`.
    public func nextAsync() async throws -> Element? {
        let wait = waitSeconds(nil)
        switch mode {
        case .ordered:
            while true {
                if let buffered = takeBuffered() { return try buffered.get() }
                guard let index = currentChunk() else { return nil }
                let outcomes: [Result<Element, any Error>]
                do {
                    outcomes = try await chunks[index].value(timeout: wait)
                } catch FutureError.timedOut {
                    throw timeoutError()
                } catch let cancellation as CancellationError {
                    throw cancellation
                } catch {
                    outcomes = Array(repeating: .failure(error), count: sizes[index])
                }
                if let first = advance(from: index, with: outcomes) { return try first.get() }
            }
        case .unordered(let queue):
            guard claim() else { return nil }
            do {
                return try await queue.get(timeout: wait).get()
            } catch let error as QueueError where error == .empty {
                unclaim()
                throw timeoutError()
            }
        }
    }

    /// Every remaining result, in this sequence's order.
    /// - Returns: The results.
    /// - Throws: As `next(timeout:)`, for the first result that fails.
    public func results() throws -> [Element] {
        var all: [Element] = []
        all.reserveCapacity(total)
        while let result = try next() { all.append(result) }
        return all
    }

    private func waitSeconds(_ timeout: Double?) -> Double? {
        let left = deadline.remainingSeconds
        switch (timeout, left) {
        case (nil, nil): return nil
        case (let t?, nil): return Swift.max(0, t)
        case (nil, let l?): return l
        case (let t?, let l?): return Swift.max(0, Swift.min(t, l))
        }
    }

    private func takeBuffered() -> Result<Element, any Error>? {
        position.withLock { position in
            position.buffered.isEmpty ? nil : position.buffered.removeFirst()
        }
    }

    private func currentChunk() -> Int? {
        position.withLock { position in position.chunk < chunks.count ? position.chunk : nil }
    }

    /// Moves past chunk `index` (if no other reader did) and returns its first outcome, keeping the rest.
    private func advance(from index: Int, with outcomes: [Result<Element, any Error>]) -> Result<Element, any Error>? {
        position.withLock { position in
            guard position.chunk == index else { return nil }  // another reader took it: read again
            position.chunk += 1
            guard let first = outcomes.first else { return nil }
            position.buffered.append(contentsOf: outcomes.dropFirst())
            return first
        }
    }

    private func claim() -> Bool {
        position.withLock { position in
            guard position.taken < total else { return false }
            position.taken += 1
            return true
        }
    }

    private func unclaim() { position.withLock { $0.taken -= 1 } }

    /// Reads the results from a task.
    public struct AsyncIterator: AsyncIteratorProtocol {
        let results: PoolResults

        /// Takes the next result.
        /// - Returns: The result, or `nil` after the last.
        /// - Throws: As `PoolResults.next(timeout:)`.
        public mutating func next() async throws -> Element? { try await results.nextAsync() }
    }

    /// Makes an iterator.
    /// - Returns: The iterator.
    public func makeAsyncIterator() -> AsyncIterator { AsyncIterator(results: self) }
}
