import SpindleSystem
import Synchronization

/// A primitive lock (Python's `threading.Lock`): held by at most one thread at a time, and
/// releasable by any thread.
///
/// It is a single futex word: 0 unlocked, 1 locked, 2 locked with sleepers. An uncontended
/// acquire and release are one atomic operation each and never enter the kernel.
public final class Lock: @unchecked Sendable {
    @usableFromInline let word: UnsafeMutablePointer<Atomic<UInt32>>

    /// Creates an unlocked lock.
    public init() { word = allocateFutexWord(0) }

    deinit { deallocateFutexWord(word) }

    /// Acquires the lock.
    /// - Parameters:
    ///   - blocking: Whether to wait when the lock is held; `false` tries once.
    ///   - timeout: Seconds to wait at most; `nil` or -1 waits for as long as it takes.
    /// - Returns: `true` when the lock was acquired, `false` when it was not (non-blocking or timed out).
    /// - Throws: `ThreadingError.Kind.invalidArgument` for a negative timeout, or a timeout with
    ///   `blocking: false`.
    @inlinable
    @discardableResult
    public func acquire(blocking: Bool = true, timeout: Double? = nil) throws(ThreadingError) -> Bool {
        if blocking, timeout == nil, futexMutexTryLock(word) { return true }
        return try acquireSlow(blocking: blocking, timeout: timeout)
    }

    @usableFromInline
    func acquireSlow(blocking: Bool, timeout: Double?) throws(ThreadingError) -> Bool {
        let seconds = try ThreadingError.validateAcquire(blocking: blocking, timeout: timeout)
        if !blocking { return futexMutexTryLock(word) }
        return futexMutexLockContended(word, until: .after(seconds: seconds))
    }

    /// Acquires the lock, waiting as long as it takes: the non-throwing form for Spindle's own
    /// data structures.
    @inlinable
    package func lock() { futexMutexLock(word) }

    /// Releases the lock. Any thread may release it, as in Python.
    /// - Throws: `ThreadingError.Kind.releaseUnlocked` when the lock was not held.
    @inlinable
    public func release() throws(ThreadingError) {
        if futexMutexUnlock(word) == 0 {
            throw ThreadingError(.releaseUnlocked, "release unlocked lock")
        }
    }

    /// Releases a lock the caller knows it holds.
    @inlinable
    package func unlock() { futexMutexUnlock(word) }

    /// Whether some thread holds the lock.
    public var locked: Bool { word.pointee.load(ordering: .relaxed) != 0 }

    /// Runs `body` while holding the lock (Python's `with lock:`).
    /// - Parameter body: The critical section.
    /// - Returns: What `body` returns.
    /// - Throws: What `body` throws; the lock is released either way.
    @inlinable
    public func withLock<Result, Failure: Error>(_ body: () throws(Failure) -> Result) throws(Failure) -> Result {
        lock()
        defer { unlock() }
        return try body()
    }
}
