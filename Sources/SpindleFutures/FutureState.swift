import SpindleSystem
import Synchronization

/// The values of a future's state word: the phase in the low byte, two flags above it.
///
/// Every change of phase is one atomic read-modify-write of the word, so completing a future
/// nobody waits on takes no lock. The listeners (blocked threads, suspended tasks, callbacks,
/// observers) are guarded by the `locked` bit, a spin lock taken only to add or remove a listener
/// and, by the completer, to take them all when the `listened` bit says there are some.
@usableFromInline
enum FutureState {
    @usableFromInline static let pending: UInt32 = 0
    @usableFromInline static let running: UInt32 = 1
    /// A completer claimed the future and is storing its outcome; still not done.
    @usableFromInline static let completing: UInt32 = 2
    @usableFromInline static let cancelled: UInt32 = 3
    @usableFromInline static let cancelledAndNotified: UInt32 = 4
    @usableFromInline static let finished: UInt32 = 5

    @usableFromInline static let phaseMask: UInt32 = 0xFF
    /// The listeners' spin lock is held.
    @usableFromInline static let locked: UInt32 = 0x100
    /// A listener was added at some point: the completer must take the lock and notify.
    @usableFromInline static let listened: UInt32 = 0x200

    @inlinable @inline(__always)
    static func phase(_ word: UInt32) -> UInt32 { word & phaseMask }

    /// Whether the phase is one of the done ones (cancelled or finished).
    @inlinable @inline(__always)
    static func isDone(_ word: UInt32) -> Bool { phase(word) >= cancelled }

    /// Python's name of the phase, for descriptions.
    static func name(_ word: UInt32) -> String {
        switch phase(word) {
        case pending: return "pending"
        case running, completing: return "running"
        case cancelled: return "cancelled"
        case cancelledAndNotified: return "cancelledAndNotified"
        default: return "finished"
        }
    }
}

/// One waiter for a future: a blocked thread's parker or a suspended task's waiter.
enum FutureSleeper {
    case thread(Parker)
    case task(Waiter<Void>)

    func isSame(as other: FutureSleeper) -> Bool {
        switch (self, other) {
        case (.thread(let a), .thread(let b)): return a === b
        case (.task(let a), .task(let b)): return a === b
        default: return false
        }
    }

    func wake() {
        switch self {
        case .thread(let parker): parker.unpark(WaitToken.granted)
        case .task(let waiter): waiter.resolve(WaitToken.granted)
        }
    }
}

/// Who is told when a future is done; guarded by the state word's `locked` bit.
struct FutureListeners {
    var sleepers: [FutureSleeper] = []
    /// Done callbacks, each called with the future (as `AnyObject`, so this type is not generic).
    var callbacks: [@Sendable (AnyObject) -> Void] = []
    /// Internal observers (of `Futures.wait` and `asCompleted`), removable by id.
    var observers: [(id: UInt64, notify: @Sendable () -> Void)] = []

    var isEmpty: Bool { sleepers.isEmpty && callbacks.isEmpty && observers.isEmpty }

    /// Wakes the sleepers, then tells the observers, then runs the callbacks (in the order added).
    func notify(_ future: AnyObject) {
        for sleeper in sleepers { sleeper.wake() }
        for observer in observers { observer.notify() }
        for callback in callbacks { callback(future) }
    }
}

/// The spin lock in a state word's `locked` bit.
enum FutureListenerLock {
    /// Takes the lock unless the future is done; sets the `listened` bit with it.
    /// - Parameter word: The state word.
    /// - Returns: Whether the lock was taken (`false`: the future is done, nothing is held).
    static func lockIfNotDone(_ word: borrowing Atomic<UInt32>) -> Bool {
        var spins = 0
        var current = word.load(ordering: .relaxed)
        while true {
            if FutureState.isDone(current) { return false }
            if current & FutureState.locked == 0 {
                let (exchanged, original) = word.compareExchange(
                    expected: current, desired: current | FutureState.locked | FutureState.listened,
                    ordering: .acquiringAndReleasing)
                if exchanged { return true }
                current = original
                continue
            }
            backOff(&spins)
            current = word.load(ordering: .relaxed)
        }
    }

    /// Takes the lock whatever the phase.
    /// - Parameter word: The state word.
    static func lock(_ word: borrowing Atomic<UInt32>) {
        var spins = 0
        while true {
            let current = word.load(ordering: .relaxed)
            if current & FutureState.locked == 0,
                word.compareExchange(expected: current, desired: current | FutureState.locked, ordering: .acquiring)
                    .exchanged
            {
                return
            }
            backOff(&spins)
        }
    }

    /// Releases the lock.
    /// - Parameter word: The state word.
    static func unlock(_ word: borrowing Atomic<UInt32>) {
        word.bitwiseAnd(~FutureState.locked, ordering: .releasing)
    }

    /// The holder only appends or removes an array element: spin briefly, then let it run.
    private static func backOff(_ spins: inout Int) {
        spins += 1
        if spins < 64 { cpuRelax() } else { yieldProcessor() }
    }
}
