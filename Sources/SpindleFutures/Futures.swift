import SpindleQueue
import SpindleSystem
import SpindleThreading
import Synchronization

/// The module functions of Python's `concurrent.futures`: `wait` and `as_completed`.
public enum Futures {
    static let observerIDs = Atomic<UInt64>(0)

    static func nextObserverID() -> UInt64 { observerIDs.wrappingAdd(1, ordering: .relaxed).newValue }

    /// Waits until some or all of `futures` are done.
    /// - Parameters:
    ///   - futures: The futures (duplicates count once).
    ///   - timeout: Seconds to wait at most; `nil` waits as long as it takes.
    ///   - returnWhen: Which completion ends the wait.
    /// - Returns: The futures done by then, and the others.
    public static func wait<Value>(
        _ futures: some Sequence<Future<Value>>,
        timeout: Double? = nil,
        returnWhen: ReturnWhen = .allCompleted
    ) -> (done: Set<Future<Value>>, notDone: Set<Future<Value>>) {
        let all = Set(futures)
        func split() -> (done: Set<Future<Value>>, notDone: Set<Future<Value>>) {
            let done = all.filter(\.done)
            return (done, all.subtracting(done))
        }
        @Sendable func satisfied(_ done: Set<Future<Value>>) -> Bool {
            switch returnWhen {
            case .allCompleted: return done.count == all.count
            case .firstCompleted: return !done.isEmpty || all.isEmpty
            case .firstException:
                return done.count == all.count || done.contains { !$0.cancelled && (try? $0.exception(timeout: 0)) != nil }
            }
        }
        let initial = split()
        if satisfied(initial.done) { return initial }

        let event = Event()
        let id = nextObserverID()
        let check: @Sendable () -> Void = { if satisfied(all.filter(\.done)) { event.set() } }
        for future in initial.notDone where !future.addObserver(id: id, check) { check() }
        event.wait(timeout: timeout)
        for future in initial.notDone { future.removeObserver(id: id) }
        return split()
    }

    /// The futures in the order they finish: those already done first, then each as it is done.
    /// - Parameters:
    ///   - futures: The futures (duplicates count once).
    ///   - timeout: Seconds, from this call, within which every future must be done; reading past
    ///     it throws `FutureError.timedOut`.
    /// - Returns: A sequence to read with `next()` or `for try await`.
    public static func asCompleted<Value>(
        _ futures: some Sequence<Future<Value>>,
        timeout: Double? = nil
    ) -> AsCompleted<Value> {
        AsCompleted(Array(Set(futures)), deadline: .after(seconds: timeout.map { max(0, $0) }))
    }
}

/// The futures of `Futures.asCompleted`, in the order they finish.
public final class AsCompleted<Value: Sendable>: AsyncSequence, @unchecked Sendable {
    private let finished = SimpleQueue<Future<Value>>()
    private let pending: [Future<Value>]
    private let deadline: Deadline
    private let id = Futures.nextObserverID()
    private let remaining: Locked<Int>

    init(_ futures: [Future<Value>], deadline: Deadline) {
        self.deadline = deadline
        self.remaining = Locked(futures.count)
        var pending: [Future<Value>] = []
        let finished = self.finished
        for future in futures {
            if future.done || !future.addObserver(id: id, { finished.put(future) }) {
                finished.put(future)
            } else {
                pending.append(future)
            }
        }
        self.pending = pending
    }

    deinit {
        for future in pending { future.removeObserver(id: id) }
    }

    /// The next future to finish, waiting for it.
    /// - Returns: The future, or `nil` when all have been returned.
    /// - Throws: `FutureError.timedOut` when the deadline passes first.
    public func next() throws(FutureError) -> Future<Value>? {
        guard claim() else { return nil }
        do {
            return try finished.get(timeout: deadline.remainingSeconds)
        } catch {
            remaining.withLock { $0 += 1 }
            throw FutureError.timedOut
        }
    }

    /// The next future to finish, suspending the task while it waits.
    /// - Returns: The future, or `nil` when all have been returned.
    /// - Throws: `FutureError.timedOut`, or `CancellationError`.
    public func nextAsync() async throws -> Future<Value>? {
        guard claim() else { return nil }
        do {
            return try await finished.get(timeout: deadline.remainingSeconds)
        } catch let error as CancellationError {
            remaining.withLock { $0 += 1 }
            throw error
        } catch {
            remaining.withLock { $0 += 1 }
            throw FutureError.timedOut
        }
    }

    private func claim() -> Bool {
        remaining.withLock { count in
            guard count > 0 else { return false }
            count -= 1
            return true
        }
    }

    /// Reads the futures from a task.
    public struct AsyncIterator: AsyncIteratorProtocol {
        let sequence: AsCompleted

        /// The next future to finish.
        /// - Returns: The future, or `nil` after the last.
        /// - Throws: As `AsCompleted.nextAsync()`.
        public mutating func next() async throws -> Future<Value>? { try await sequence.nextAsync() }
    }

    /// Makes an iterator.
    /// - Returns: The iterator.
    public func makeAsyncIterator() -> AsyncIterator { AsyncIterator(sequence: self) }
}
