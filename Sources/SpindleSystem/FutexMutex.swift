import Synchronization

// The futex mutex algorithm shared by SpindleThreading's public `Lock` and by `Locked`, the
// guarded state of Spindle's own primitives. The word is 0 (free), 1 (held) or 2 (held, with
// sleepers). Every acquisition is an atomic operation in user space, so the thread sanitizer sees
// the ordering (Synchronization.Mutex on Linux acquires priority-inheritance futexes in the
// kernel, which the sanitizer cannot see).

/// Tries to take the mutex without waiting.
/// - Parameter word: The mutex word.
/// - Returns: Whether it was taken.
@inlinable @inline(__always)
package func futexMutexTryLock(_ word: UnsafeMutablePointer<Atomic<UInt32>>) -> Bool {
    word.pointee.compareExchange(expected: 0, desired: 1, ordering: .acquiring).exchanged
}

/// Takes the mutex, waiting until `deadline`.
/// - Parameters:
///   - word: The mutex word.
///   - deadline: When to give up.
/// - Returns: Whether it was taken.
package func futexMutexLockContended(_ word: UnsafeMutablePointer<Atomic<UInt32>>, until deadline: Deadline) -> Bool {
    // A short spin catches a holder that is about to release, without a system call.
    for _ in 0..<100 {
        let state = word.pointee.load(ordering: .relaxed)
        if state == 0, futexMutexTryLock(word) { return true }
        if state == 2 { break }
        cpuRelax()
    }
    // Mark the mutex contended; whoever releases it then wakes a sleeper.
    while word.pointee.exchange(2, ordering: .acquiring) != 0 {
        if Futex.wait(word, expected: 2, deadline: deadline) == .timedOut {
            return word.pointee.compareExchange(expected: 0, desired: 2, ordering: .acquiring).exchanged
        }
    }
    return true
}

/// Takes the mutex, waiting as long as it takes.
/// - Parameter word: The mutex word.
@inlinable @inline(__always)
package func futexMutexLock(_ word: UnsafeMutablePointer<Atomic<UInt32>>) {
    if !futexMutexTryLock(word) { futexMutexLockSlow(word) }
}

@usableFromInline
package func futexMutexLockSlow(_ word: UnsafeMutablePointer<Atomic<UInt32>>) {
    _ = futexMutexLockContended(word, until: .never)
}

/// Wakes one sleeper of the mutex.
/// - Parameter word: The mutex word.
@usableFromInline
package func futexMutexWakeOne(_ word: UnsafeMutablePointer<Atomic<UInt32>>) {
    Futex.wake(word, count: 1)
}

/// Releases the mutex.
/// - Parameter word: The mutex word.
/// - Returns: The word's previous value: 0 means it was not held (nothing was done but clearing it).
@inlinable @inline(__always)
@discardableResult
package func futexMutexUnlock(_ word: UnsafeMutablePointer<Atomic<UInt32>>) -> UInt32 {
    let previous = word.pointee.exchange(0, ordering: .releasing)
    if previous == 2 { futexMutexWakeOne(word) }
    return previous
}

/// State guarded by a futex mutex: the `Mutex` of Spindle's own primitives.
package final class Locked<State>: @unchecked Sendable {
    @usableFromInline let word: UnsafeMutablePointer<Atomic<UInt32>>
    @usableFromInline let state: UnsafeMutablePointer<State>

    /// Creates the guarded state.
    /// - Parameter initial: The state.
    package init(_ initial: State) {
        word = allocateFutexWord(0)
        state = .allocate(capacity: 1)
        state.initialize(to: initial)
    }

    deinit {
        state.deinitialize(count: 1)
        state.deallocate()
        deallocateFutexWord(word)
    }

    /// Runs `body` on the state with the mutex held.
    /// - Parameter body: The critical section.
    /// - Returns: What `body` returns.
    /// - Throws: What `body` throws.
    @inlinable @inline(__always)
    package func withLock<Result, Failure: Error>(_ body: (inout State) throws(Failure) -> Result) throws(Failure) -> Result {
        futexMutexLock(word)
        defer { futexMutexUnlock(word) }
        return try body(&state.pointee)
    }
}
