import CSpindle
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// The Linux futex: sleep while a 32-bit word holds a value, wake sleepers of a word.
package enum Futex {
    /// How a futex wait ended.
    package enum WaitResult: Sendable {
        /// Woken, or the word no longer held the expected value (check it again).
        case woken
        /// The deadline passed.
        case timedOut
    }

    /// Sleeps while `word` holds `expected`, until woken or `deadline`.
    /// Signals interrupting the sleep are absorbed (the caller re-checks its word anyway).
    /// - Parameters:
    ///   - word: The word, which must stay allocated for the duration.
    ///   - expected: The value the word must hold for the thread to sleep.
    ///   - deadline: When to give up.
    ///   - shared: Whether the word is in memory shared between processes.
    /// - Returns: `.timedOut` when the deadline passed, `.woken` otherwise.
    @inlinable
    package static func wait(
        _ word: UnsafeMutablePointer<Atomic<UInt32>>,
        expected: UInt32,
        deadline: Deadline = .never,
        shared: Bool = false
    ) -> WaitResult {
        let raw = UnsafeMutableRawPointer(word).assumingMemoryBound(to: UInt32.self)
        if spindle_futex_wait(raw, expected, deadline.futexDeadline, shared ? 1 : 0) == 0 {
            return .woken
        }
        return errno == ETIMEDOUT ? .timedOut : .woken
    }

    /// Wakes up to `count` threads sleeping on `word`.
    /// - Parameters:
    ///   - word: The word.
    ///   - count: How many to wake at most (`Int32.max` for all).
    ///   - shared: Whether the word is in memory shared between processes.
    @inlinable
    package static func wake(_ word: UnsafeMutablePointer<Atomic<UInt32>>, count: Int32 = 1, shared: Bool = false) {
        let raw = UnsafeMutableRawPointer(word).assumingMemoryBound(to: UInt32.self)
        _ = spindle_futex_wake(raw, count, shared ? 1 : 0)
    }
}

/// Allocates a futex word initialised to `value`; free it with `deallocateFutexWord`.
/// - Parameter value: The initial value.
/// - Returns: The word.
@inlinable
package func allocateFutexWord(_ value: UInt32 = 0) -> UnsafeMutablePointer<Atomic<UInt32>> {
    let word = UnsafeMutablePointer<Atomic<UInt32>>.allocate(capacity: 1)
    word.initialize(to: Atomic(value))
    return word
}

/// Frees a word from `allocateFutexWord`.
/// - Parameter word: The word.
@inlinable
package func deallocateFutexWord(_ word: UnsafeMutablePointer<Atomic<UInt32>>) {
    word.deinitialize(count: 1)
    word.deallocate()
}

/// The kernel id of the calling thread.
package var currentNativeThreadID: Int32 { spindle_gettid() }

/// The main thread's pthread and kernel id, recorded before `main` ran.
package var mainThreadIdentity: (pthread: pthread_t, tid: Int32) { (spindle_main_pthread(), spindle_main_tid()) }

/// Seconds since the epoch on the real-time clock.
package var wallClockSeconds: Double { Double(spindle_realtime_ns()) / 1e9 }

/// Tells the CPU the caller is spinning.
@inlinable @inline(__always)
package func cpuRelax() { spindle_cpu_relax() }

/// Gives the processor to another runnable thread (`sched_yield`), for a spinning waiter whose
/// lock holder may have been preempted.
package func yieldProcessor() { _ = sched_yield() }

/// Names the calling thread for the OS (`ps -L`, debuggers); 15 bytes at most are kept.
/// - Parameter name: A NUL-terminated name.
package func setOSThreadName(_ name: UnsafePointer<CChar>) { _ = spindle_set_thread_name(name) }

/// Whether deadlock detection tracks lock owners (its mode is report or throw).
@inlinable @inline(__always)
package func deadlockTrackingActive() -> Bool { spindle_deadlock_mode_get() != 0 }

/// The deadlock detection mode: 0 off, 1 report, 2 throw.
package var deadlockModeValue: Int32 {
    get { spindle_deadlock_mode_get() }
    set { spindle_deadlock_mode_set(newValue) }
}

/// The calling thread's deadlock-detection record, as an unretained pointer (or nil).
@inlinable @inline(__always)
package var currentLockRecordPointer: UnsafeMutableRawPointer? {
    get { spindle_lock_record_get() }
    set { spindle_lock_record_set(newValue) }
}
