import DequeModule
import SpindleSystem
import Synchronization

/// A condition variable (Python's `threading.Condition`) over a `Lock` or an `RLock`.
///
/// Waiting and notifying require holding the lock. `notify(n)` wakes exactly `n` waiters (or all
/// there are) in the order they began to wait, and a waiter whose timeout expires at the moment it
/// is notified reports the notification rather than losing it.
public final class Condition: @unchecked Sendable {
    enum Underlying {
        case lock(Lock)
        case rlock(RLock)
    }

    /// The underlying lock's site, for thread dumps.
    var site: LockSite {
        switch underlying {
        case .lock(let lock): return lock.site
        case .rlock(let lock): return lock.inner.site
        }
    }

    let underlying: Underlying
    let waiters = Locked(Deque<Parker>())

    /// Creates a condition over `lock`.
    /// - Parameter lock: The lock that guards the state the condition is about.
    public init(lock: Lock) { underlying = .lock(lock) }

    /// Creates a condition over `lock`.
    /// - Parameter lock: The re-entrant lock that guards the state the condition is about.
    public init(lock: RLock) { underlying = .rlock(lock) }

    /// Creates a condition over a new `RLock`, as Python does by default.
    public convenience init() { self.init(lock: RLock()) }

    /// Acquires the underlying lock.
    /// - Parameters:
    ///   - blocking: Whether to wait.
    ///   - timeout: Seconds to wait at most.
    /// - Returns: Whether it was acquired.
    /// - Throws: `ThreadingError.Kind.invalidArgument` for a bad timeout.
    @discardableResult
    public func acquire(blocking: Bool = true, timeout: Double? = nil) throws(ThreadingError) -> Bool {
        switch underlying {
        case .lock(let lock): return try lock.acquire(blocking: blocking, timeout: timeout)
        case .rlock(let lock): return try lock.acquire(blocking: blocking, timeout: timeout)
        }
    }

    /// Releases the underlying lock.
    /// - Throws: What the underlying lock's `release` throws.
    public func release() throws(ThreadingError) {
        switch underlying {
        case .lock(let lock): try lock.release()
        case .rlock(let lock): try lock.release()
        }
    }

    /// Runs `body` holding the underlying lock (Python's `with cond:`).
    /// - Parameter body: The critical section, which may wait and notify.
    /// - Returns: What `body` returns.
    /// - Throws: What `body` throws.
    public func withLock<Result, Failure: Error>(_ body: () throws(Failure) -> Result) throws(Failure) -> Result {
        switch underlying {
        case .lock(let lock): return try lock.withLock(body)
        case .rlock(let lock): return try lock.withLock(body)
        }
    }

    /// Whether the calling thread may wait and notify. For a plain `Lock`, which has no owner,
    /// this is "the lock is held" (as in CPython).
    var isOwned: Bool {
        switch underlying {
        case .lock(let lock): return lock.locked
        case .rlock(let lock): return lock.isOwned
        }
    }

    /// Releases the lock, waits until notified or until the timeout, and takes the lock back.
    /// - Parameter timeout: Seconds to wait at most; `nil` waits until notified. A negative
    ///   timeout does not wait, as in Python.
    /// - Returns: `false` when the timeout expired, `true` when notified.
    /// - Throws: `ThreadingError.Kind.notOwner` when the calling thread does not hold the lock.
    @discardableResult
    public func wait(timeout: Double? = nil) throws(ThreadingError) -> Bool {
        guard isOwned else { throw ThreadingError(.notOwner, "cannot wait on un-acquired lock") }
        let parker = Parker.forCurrentThread()
        waiters.withLock { $0.append(parker) }
        let deadline = Deadline.after(seconds: timeout.map { max(0, $0) })
        let saved: Int
        switch underlying {
        case .lock(let lock):
            lock.releaseForWait()
            saved = 0
        case .rlock(let lock):
            saved = lock.releaseAll()
        }
        var token = (try? DeadlockMonitor.block(on: .condition(site), mayThrow: false) {
            parker.park(until: deadline)
        }) ?? 0
        switch underlying {
        case .lock(let lock): lock.reacquireAfterWait()
        case .rlock(let lock): lock.reacquire(count: saved)
        }
        if token == 0 {
            let stillQueued = waiters.withLock { queue -> Bool in
                guard let index = queue.firstIndex(where: { $0 === parker }) else { return false }
                queue.remove(at: index)
                return true
            }
            if stillQueued { return false }
            token = parker.awaitToken()
        }
        return true
    }

    /// Waits until `predicate` holds or the timeout expires, re-checking after every wake-up.
    /// - Parameters:
    ///   - timeout: Seconds to wait at most, across all wake-ups; `nil` waits as long as it takes.
    ///   - predicate: The condition, evaluated with the lock held.
    /// - Returns: The predicate's last value.
    /// - Throws: `ThreadingError` from `wait`, or what `predicate` throws.
    @discardableResult
    public func waitFor(timeout: Double? = nil, _ predicate: () throws -> Bool) throws -> Bool {
        let deadline = Deadline.after(seconds: timeout)
        var result = try predicate()
        while !result {
            var remaining: Double? = nil
            if let left = deadline.remainingSeconds {
                if left <= 0 { break }
                remaining = left
            }
            try wait(timeout: remaining)
            result = try predicate()
        }
        return result
    }

    /// Wakes up to `n` threads waiting on the condition, longest-waiting first.
    /// - Parameter n: How many to wake.
    /// - Throws: `ThreadingError.Kind.notOwner` when the calling thread does not hold the lock.
    public func notify(_ n: Int = 1) throws(ThreadingError) {
        guard isOwned else { throw ThreadingError(.notOwner, "cannot notify on un-acquired lock") }
        guard n > 0 else { return }
        let chosen = waiters.withLock { queue -> [Parker] in
            let count = Swift.min(n, queue.count)
            let taken = Array(queue.prefix(count))
            queue.removeFirst(count)
            return taken
        }
        for parker in chosen { parker.unpark(WaitToken.granted) }
    }

    /// Wakes every thread waiting on the condition.
    /// - Throws: `ThreadingError.Kind.notOwner` when the calling thread does not hold the lock.
    public func notifyAll() throws(ThreadingError) {
        try notify(Int.max)
    }
}
