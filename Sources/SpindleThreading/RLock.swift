#if canImport(Glibc)
import Glibc
#endif
import SpindleSystem
import Synchronization

/// A re-entrant lock (Python's `threading.RLock`): its owner may acquire it again, and must
/// release it as many times; only the owner may release it.
public final class RLock: @unchecked Sendable {
    @usableFromInline let inner: Lock
    /// The owning thread's `pthread_t`, or 0.
    @usableFromInline let owner = Atomic<UInt>(0)
    /// How many times the owner holds it; read and written by the owner only.
    @usableFromInline let count = Atomic<Int>(0)

    /// Creates an unlocked re-entrant lock.
    /// - Parameters:
    ///   - file: Where it is created (recorded for deadlock reports).
    ///   - line: The line it is created on.
    public init(file: StaticString = #fileID, line: UInt = #line) {
        inner = Lock(kind: "RLock", file: file, line: line)
    }

    /// Acquires the lock, or takes it once more if the calling thread already owns it.
    /// - Parameters:
    ///   - blocking: Whether to wait when another thread owns it.
    ///   - timeout: Seconds to wait at most; `nil` or -1 waits for as long as it takes.
    /// - Returns: Whether the lock was acquired.
    /// - Throws: `ThreadingError.Kind.invalidArgument` for a bad timeout.
    @inlinable
    @discardableResult
    public func acquire(
        blocking: Bool = true, timeout: Double? = nil, file: StaticString = #fileID, line: UInt = #line
    ) throws(ThreadingError) -> Bool {
        let me = pthread_self()
        if owner.load(ordering: .relaxed) == me {
            // Only the owner writes the count: a plain load and store, no read-modify-write.
            count.store(count.load(ordering: .relaxed) &+ 1, ordering: .relaxed)
            return true
        }
        guard try inner.acquire(blocking: blocking, timeout: timeout, file: file, line: line) else { return false }
        owner.store(me, ordering: .relaxed)
        count.store(1, ordering: .relaxed)
        return true
    }

    /// Releases one level of ownership; the lock is free when the count reaches zero.
    /// - Throws: `ThreadingError.Kind.notOwner` when the calling thread does not own the lock.
    @inlinable
    public func release() throws(ThreadingError) {
        guard owner.load(ordering: .relaxed) == pthread_self() else {
            throw ThreadingError(.notOwner, "cannot release un-acquired lock")
        }
        let remaining = count.load(ordering: .relaxed) &- 1
        count.store(remaining, ordering: .relaxed)
        if remaining == 0 {
            owner.store(0, ordering: .relaxed)
            if deadlockTrackingActive() { inner.willRelease() }
            inner.unlock()
        }
    }

    /// Whether the calling thread owns the lock.
    public var isOwned: Bool { owner.load(ordering: .relaxed) == pthread_self() }

    /// Whether any thread owns the lock.
    public var locked: Bool { inner.locked }

    /// How many times the calling thread holds the lock (0 when it does not own it).
    public var recursionCount: Int { isOwned ? count.load(ordering: .relaxed) : 0 }

    /// Runs `body` while holding the lock (Python's `with rlock:`).
    /// - Parameter body: The critical section; it may take the lock again.
    /// - Returns: What `body` returns.
    /// - Throws: What `body` throws; the lock is released either way.
    @inlinable
    public func withLock<Result, Failure: Error>(
        file: StaticString = #fileID, line: UInt = #line, _ body: () throws(Failure) -> Result
    ) throws(Failure) -> Result {
        let me = pthread_self()
        if owner.load(ordering: .relaxed) == me {
            count.store(count.load(ordering: .relaxed) &+ 1, ordering: .relaxed)
        } else {
            inner.withLockAcquire(file: file, line: line)
            owner.store(me, ordering: .relaxed)
            count.store(1, ordering: .relaxed)
        }
        defer { try! release() }
        return try body()
    }

    /// Gives up every level of ownership at once, for `Condition.wait`; returns the count.
    func releaseAll() -> Int {
        let saved = count.load(ordering: .relaxed)
        count.store(0, ordering: .relaxed)
        owner.store(0, ordering: .relaxed)
        inner.releaseForWait()
        return saved
    }

    /// Takes the lock back with the count `releaseAll` returned.
    func reacquire(count saved: Int) {
        inner.reacquireAfterWait()
        owner.store(pthread_self(), ordering: .relaxed)
        count.store(saved, ordering: .relaxed)
    }
}
