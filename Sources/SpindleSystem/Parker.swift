import Glibc
import Synchronization

/// A wake-up for one blocked thread: the thread parks until another thread unparks it with a
/// non-zero token, or until a deadline.
///
/// Each thread reuses one parker for all its waits (`forCurrentThread()`), so a blocking wait
/// allocates nothing for it. A token is delivered exactly once per wait; a thread that timed out
/// but then learns (under its owner's lock) that it was chosen after all calls `awaitToken()` to
/// collect the token that is on its way. A waker may still touch the parker's word after the
/// waiter has moved on to its next wait: that can only cause a spurious wake-up, which `park`
/// absorbs.
package final class Parker: @unchecked Sendable {
    @usableFromInline let word: UnsafeMutablePointer<Atomic<UInt32>>

    package init() { word = allocateFutexWord(0) }
    deinit { deallocateFutexWord(word) }

    private static let key: pthread_key_t = {
        var key = pthread_key_t()
        let rc = pthread_key_create(&key) { pointer in
            guard let pointer else { return }
            Unmanaged<Parker>.fromOpaque(pointer).release()
        }
        precondition(rc == 0, "pthread_key_create failed for parkers: \(rc)")
        return key
    }()

    /// The calling thread's parker, ready for a new wait.
    /// - Returns: The parker.
    package static func forCurrentThread() -> Parker {
        let parker: Parker
        if let pointer = pthread_getspecific(key) {
            parker = Unmanaged<Parker>.fromOpaque(pointer).takeUnretainedValue()
        } else {
            parker = Parker()
            pthread_setspecific(key, Unmanaged.passRetained(parker).toOpaque())
        }
        parker.word.pointee.store(0, ordering: .relaxed)
        return parker
    }

    /// Clears the word for a new wait, as `forCurrentThread()` does, for a thread that keeps its
    /// parker at hand; call it on the parker's own thread before queuing it anywhere.
    package func reset() { word.pointee.store(0, ordering: .relaxed) }

    /// Parks until a token arrives or the deadline passes.
    ///
    /// It first spins briefly and then yields the processor a few times, which catches a token
    /// that comes within microseconds (the common case between two busy threads) without the
    /// cost of sleeping in the kernel, and without starving a waker that shares the processor.
    /// - Parameter deadline: When to give up.
    /// - Returns: The token, or 0 when the deadline passed first.
    package func park(until deadline: Deadline = .never) -> UInt32 {
        for _ in 0..<20 {
            let token = word.pointee.load(ordering: .acquiring)
            if token != 0 { return token }
            cpuRelax()
        }
        for _ in 0..<10 {
            let token = word.pointee.load(ordering: .acquiring)
            if token != 0 { return token }
            sched_yield()
        }
        while true {
            let token = word.pointee.load(ordering: .acquiring)
            if token != 0 && token != Self.sleeping { return token }
            // Say that we sleep, so that the unparker knows to enter the kernel to wake us.
            if token == 0,
                !word.pointee.compareExchange(expected: 0, desired: Self.sleeping, ordering: .acquiring).exchanged
            {
                continue
            }
            if Futex.wait(word, expected: Self.sleeping, deadline: deadline) == .timedOut {
                let last = word.pointee.load(ordering: .acquiring)
                return last == Self.sleeping ? 0 : last
            }
        }
    }

    /// The word's value while its thread sleeps in the kernel (tokens are small numbers).
    private static var sleeping: UInt32 { 0x8000_0000 }

    /// Waits for a token that is certain to come (the unparker has already chosen this parker).
    /// - Returns: The token.
    package func awaitToken() -> UInt32 { park(until: .never) }

    /// Delivers `token` (non-zero) and wakes the parked thread.
    /// - Parameter token: The token.
    package func unpark(_ token: UInt32) {
        precondition(token != 0, "a parker token must be non-zero")
        if word.pointee.exchange(token, ordering: .acquiringAndReleasing) == Self.sleeping {
            Futex.wake(word)
        }
    }
}
