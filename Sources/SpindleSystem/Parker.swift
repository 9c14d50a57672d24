import Synchronization

/// A one-shot wake-up for one blocked thread: the thread parks until another thread unparks it
/// with a non-zero token, or until a deadline.
///
/// The token is delivered exactly once; a thread that timed out but then learns (under its owner's
/// lock) that it was chosen after all calls `awaitToken()` to collect the token that is on its way.
package final class Parker: @unchecked Sendable {
    @usableFromInline let word: UnsafeMutablePointer<Atomic<UInt32>>

    package init() { word = allocateFutexWord(0) }
    deinit { deallocateFutexWord(word) }

    /// Parks until a token arrives or the deadline passes.
    /// - Parameter deadline: When to give up.
    /// - Returns: The token, or 0 when the deadline passed first.
    package func park(until deadline: Deadline = .never) -> UInt32 {
        var spins = 0
        while true {
            let token = word.pointee.load(ordering: .acquiring)
            if token != 0 { return token }
            if spins < 64 {
                spins += 1
                continue
            }
            if Futex.wait(word, expected: 0, deadline: deadline) == .timedOut {
                return word.pointee.load(ordering: .acquiring)
            }
        }
    }

    /// Waits for a token that is certain to come (the unparker has already chosen this parker).
    /// - Returns: The token.
    package func awaitToken() -> UInt32 { park(until: .never) }

    /// Delivers `token` (non-zero) and wakes the parked thread.
    /// - Parameter token: The token.
    package func unpark(_ token: UInt32) {
        precondition(token != 0, "a parker token must be non-zero")
        word.pointee.store(token, ordering: .releasing)
        Futex.wake(word)
    }
}
