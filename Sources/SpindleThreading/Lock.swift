import SpindleSystem
import Synchronization

/// A primitive lock (Python's `threading.Lock`): held by at most one thread at a time, and
/// releasable by any thread.
///
/// It is a single futex word: 0 unlocked, 1 locked, 2 locked with sleepers. An uncontended
/// acquire and release are one atomic operation each and never enter the kernel.
public final class Lock: @unchecked Sendable {
    @usableFromInline let word: UnsafeMutablePointer<Atomic<UInt32>>
    /// Who holds it, for deadlock detection (the holder's record, or 0); kept only while
    /// detection is on.
    let owner = Atomic<UInt>(0)
    /// Where the lock was made, and what it is to a user ("Lock", or "RLock" for an RLock's core).
    let site: LockSite
    /// A number no other lock has, for the lock-order graph (addresses are reused).
    let serial = DeadlockMonitor.serials.wrappingAdd(1, ordering: .relaxed).newValue

    /// Creates an unlocked lock.
    /// - Parameters:
    ///   - file: Where it is created (recorded for deadlock reports).
    ///   - line: The line it is created on.
    public init(file: StaticString = #fileID, line: UInt = #line) {
        word = allocateFutexWord(0)
        site = LockSite(kind: "Lock", file: file, line: line)
    }

    init(kind: StaticString, file: StaticString, line: UInt) {
        word = allocateFutexWord(0)
        site = LockSite(kind: kind, file: file, line: line)
    }

    deinit { deallocateFutexWord(word) }

    /// Acquires the lock.
    /// - Parameters:
    ///   - blocking: Whether to wait when the lock is held; `false` tries once.
    ///   - timeout: Seconds to wait at most; `nil` or -1 waits for as long as it takes.
    ///   - file: The call site (recorded for lock-order reports).
    ///   - line: The call site's line.
    /// - Returns: `true` when the lock was acquired, `false` when it was not (non-blocking or timed out).
    /// - Throws: `ThreadingError.Kind.invalidArgument` for a negative timeout, or a timeout with
    ///   `blocking: false`; `ThreadingError.Kind.deadlock` when deadlock detection is in throw mode
    ///   and this wait would close a cycle.
    @inlinable
    @discardableResult
    public func acquire(
        blocking: Bool = true, timeout: Double? = nil, file: StaticString = #fileID, line: UInt = #line
    ) throws(ThreadingError) -> Bool {
        if blocking, timeout == nil, futexMutexTryLock(word) {
            if deadlockTrackingActive() { didAcquire(file: file, line: line) }
            return true
        }
        return try acquireSlow(blocking: blocking, timeout: timeout, file: file, line: line)
    }

    @usableFromInline
    func acquireSlow(blocking: Bool, timeout: Double?, file: StaticString, line: UInt) throws(ThreadingError) -> Bool {
        let seconds = try ThreadingError.validateAcquire(blocking: blocking, timeout: timeout)
        let acquired: Bool
        if !blocking {
            acquired = futexMutexTryLock(word)
        } else if futexMutexTryLock(word) {
            acquired = true
        } else {
            acquired = try DeadlockMonitor.blockOn(self, forever: seconds == nil) {
                futexMutexLockContended(word, until: .after(seconds: seconds))
            }
        }
        if acquired, deadlockTrackingActive() { didAcquire(file: file, line: line) }
        return acquired
    }

    /// Acquires the lock, waiting as long as it takes: the non-throwing form for Spindle's own
    /// data structures.
    @inlinable
    package func lock() { futexMutexLock(word) }

    /// Releases the lock. Any thread may release it, as in Python.
    /// - Throws: `ThreadingError.Kind.releaseUnlocked` when the lock was not held.
    @inlinable
    public func release() throws(ThreadingError) {
        if deadlockTrackingActive() { willRelease() }
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
    public func withLock<Result, Failure: Error>(
        file: StaticString = #fileID, line: UInt = #line, _ body: () throws(Failure) -> Result
    ) throws(Failure) -> Result {
        withLockAcquire(file: file, line: line)
        defer {
            if deadlockTrackingActive() { willRelease() }
            unlock()
        }
        return try body()
    }

    /// Acquires for `withLock` (tracked when detection is on).
    @usableFromInline
    func withLockAcquire(file: StaticString, line: UInt) {
        if !futexMutexTryLock(word) {
            lockBlocking(file: file, line: line)
        } else if deadlockTrackingActive() {
            didAcquire(file: file, line: line)
        }
    }

    /// Releases for `Condition.wait` (tracked when detection is on).
    func releaseForWait() {
        if deadlockTrackingActive() { willRelease() }
        unlock()
    }

    /// Takes the lock back after `Condition.wait` (tracked when detection is on).
    func reacquireAfterWait() {
        if !futexMutexTryLock(word) {
            _ = try? DeadlockMonitor.blockOn(self, forever: true, mayThrow: false) {
                futexMutexLockContended(word, until: .never)
            }
        }
        if deadlockTrackingActive() { didAcquire(file: site.file, line: site.line) }
    }

    /// The contended path of `withLock`: a deadlock it would close is reported (it cannot throw).
    @usableFromInline
    func lockBlocking(file: StaticString, line: UInt) {
        _ = try? DeadlockMonitor.blockOn(self, forever: true, mayThrow: false) {
            futexMutexLockContended(word, until: .never)
        }
        if deadlockTrackingActive() { didAcquire(file: file, line: line) }
    }
}
