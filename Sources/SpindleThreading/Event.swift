import DequeModule
import SpindleSystem
import Synchronization

/// A flag threads and tasks can wait for (Python's `threading.Event`).
public final class Event: @unchecked Sendable {
    struct State {
        var flag = false
        var waiters = Deque<PrimitiveWaiter>()
    }

    let state = Locked(State())
    /// A copy of the flag for the lock-free fast path of `isSet` and `wait`.
    let flag = Atomic<Bool>(false)

    /// Creates an event whose flag is clear.
    public init() {}

    /// Whether the flag is set.
    public var isSet: Bool { flag.load(ordering: .acquiring) }

    /// Sets the flag and wakes every waiter.
    public func set() {
        let (single, many) = state.withLock { state -> (PrimitiveWaiter?, Deque<PrimitiveWaiter>) in
            state.flag = true
            flag.store(true, ordering: .releasing)
            // A lone waiter (the common case) leaves the queue's buffer in place for the next wait.
            if state.waiters.count == 1 { return (state.waiters.popFirst(), []) }
            defer { state.waiters = [] }
            return (nil, state.waiters)
        }
        single?.resolve(WaitToken.granted)
        for waiter in many { waiter.resolve(WaitToken.granted) }
    }

    /// Clears the flag.
    public func clear() {
        state.withLock { state in
            state.flag = false
            flag.store(false, ordering: .releasing)
        }
    }

    /// Blocks until the flag is set or the timeout expires.
    /// - Parameter timeout: Seconds to wait at most; `nil` waits as long as it takes. A negative
    ///   timeout does not wait, as in Python.
    /// - Returns: `true` when the flag was set, `false` on timeout.
    @discardableResult
    public func wait(timeout: Double? = nil) -> Bool {
        if flag.load(ordering: .acquiring) { return true }
        let deadline = Deadline.after(seconds: timeout.map { max(0, $0) })
        return parkThread(PrimitiveWaiter(thread: ()), until: deadline, register: register, withdraw: withdraw) == WaitToken.granted
    }

    /// Suspends the task until the flag is set or the timeout expires, without blocking a thread.
    /// - Parameter timeout: Seconds to wait at most; `nil` waits as long as it takes.
    /// - Returns: `true` when the flag was set, `false` on timeout.
    /// - Throws: `CancellationError` when the task is cancelled while waiting.
    @discardableResult
    public func wait(timeout: Double? = nil) async throws(CancellationError) -> Bool {
        if flag.load(ordering: .acquiring) { return true }
        let token = await suspendTask(
            PrimitiveWaiter(task: ()),
            timeout: timeout.map { max(0, $0) }, register: register, withdraw: { [self] in withdraw($0) })
        if token == WaitToken.cancelled { throw CancellationError() }
        return token == WaitToken.granted
    }

    private func register(_ waiter: PrimitiveWaiter) -> UInt32? {
        state.withLock { state in
            if state.flag { return WaitToken.granted }
            state.waiters.append(waiter)
            return nil
        }
    }

    private func withdraw(_ waiter: PrimitiveWaiter) -> Bool {
        state.withLock { $0.waiters.remove(waiter) }
    }
}
