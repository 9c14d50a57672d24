import DequeModule
import SpindleSystem
import Synchronization

/// A meeting point for a fixed number of parties (Python's `threading.Barrier`): each `wait()`
/// blocks until `parties` threads or tasks have called it, then all pass together.
///
/// When the last party arrives, it runs the optional action before the others are released. A
/// timeout, an `abort()` or a failing action breaks the barrier: every waiter, and every later
/// caller until `reset()`, gets `BrokenBarrierError`.
public final class Barrier: @unchecked Sendable {
    struct State {
        var waiters = Deque<PrimitiveWaiter>()
        var broken = false
        /// Why it broke, for callers that arrive at a broken barrier.
        var brokenReason = BrokenBarrierError.Reason.aborted
    }

    /// The number of parties that must arrive for the barrier to open.
    public let parties: Int
    /// The timeout `wait()` uses when given none, in seconds.
    public let timeout: Double?
    let action: (@Sendable () throws -> Void)?
    let state = Locked(State())

    /// Creates a barrier.
    /// - Parameters:
    ///   - parties: How many parties must arrive; at least 1.
    ///   - timeout: The default timeout of `wait()`, in seconds; `nil` for none.
    ///   - action: Run by the last arriving party, before the others are released.
    public init(parties: Int, timeout: Double? = nil, action: (@Sendable () throws -> Void)? = nil) {
        precondition(parties >= 1, "a barrier needs at least one party, not \(parties)")
        self.parties = parties
        self.timeout = timeout
        self.action = action
    }

    /// The number of parties waiting now.
    public var nWaiting: Int { state.withLock { $0.waiters.count } }

    /// Whether the barrier is broken.
    public var broken: Bool { state.withLock { $0.broken } }

    /// Waits for all parties to arrive.
    /// - Parameter timeout: Seconds to wait at most; `nil` uses the barrier's default timeout.
    /// - Returns: This party's arrival index, from 0 to `parties - 1`; exactly one party gets each.
    /// - Throws: `BrokenBarrierError` when the barrier is or becomes broken, or the wait times out.
    @discardableResult
    public func wait(timeout: Double? = nil) throws(BrokenBarrierError) -> Int {
        let deadline = Deadline.after(seconds: (timeout ?? self.timeout).map { max(0, $0) })
        let waiter = PrimitiveWaiter(thread: ())
        switch try arrive(waiter) {
        case .opened(let index, let released): return try open(index: index, released: released)
        case .queued: break
        }
        let parker = waiter.parker!
        var token = parker.park(until: deadline)
        if token == 0 {
            if breakIfQueued(waiter, reason: .timedOut) { throw BrokenBarrierError(.timedOut) }
            token = parker.awaitToken()
        }
        return try outcome(token, waiter)
    }

    /// Waits for all parties to arrive, suspending the task instead of blocking its thread.
    /// - Parameter timeout: Seconds to wait at most; `nil` uses the barrier's default timeout.
    /// - Returns: This party's arrival index.
    /// - Throws: `BrokenBarrierError` as the blocking `wait` does; a cancelled task breaks the
    ///   barrier and gets `BrokenBarrierError(.cancelled)`.
    @discardableResult
    public func wait(timeout: Double? = nil) async throws(BrokenBarrierError) -> Int {
        var opened: (index: Int, released: [PrimitiveWaiter])?
        var failure: BrokenBarrierError?
        var arrivedWaiter: PrimitiveWaiter?
        let token = await suspendTask(
            PrimitiveWaiter(task: ()),
            timeout: (timeout ?? self.timeout).map { max(0, $0) },
            register: { waiter in
                arrivedWaiter = waiter
                do {
                    switch try arrive(waiter) {
                    case .opened(let index, let released):
                        opened = (index, released)
                        return WaitToken.granted
                    case .queued: return nil
                    }
                } catch let error as BrokenBarrierError {
                    failure = error
                    return WaitToken.broken
                } catch {
                    fatalError("unreachable: arrive throws only BrokenBarrierError")
                }
            },
            withdraw: { [self] waiter in
                let reason: BrokenBarrierError.Reason =
                    waiter.abandonToken.load(ordering: .acquiring) == WaitToken.cancelled ? .cancelled : .timedOut
                return breakIfQueued(waiter, reason: reason)
            })
        if let failure { throw failure }
        if let opened { return try open(index: opened.index, released: opened.released) }
        switch token {
        case WaitToken.timedOut: throw BrokenBarrierError(.timedOut)
        case WaitToken.cancelled: throw BrokenBarrierError(.cancelled)
        default: return try outcome(token, arrivedWaiter!)
        }
    }

    /// Puts the barrier back in its initial state. Parties waiting now get `BrokenBarrierError(.reset)`.
    public func reset() {
        let woken = state.withLock { state -> Deque<PrimitiveWaiter> in
            defer {
                state.waiters.removeAll()
                state.broken = false
            }
            return state.waiters
        }
        for waiter in woken {
            waiter.payload = -1
            waiter.resolve(WaitToken.broken)
        }
    }

    /// Breaks the barrier: every waiting and later party gets `BrokenBarrierError` until `reset()`.
    public func abort() {
        breakBarrier(reason: .aborted)
    }

    // MARK: - Internals

    enum Arrival {
        case opened(index: Int, released: [PrimitiveWaiter])
        case queued
    }

    /// Registers an arrival; the last one takes the whole generation's waiters with it.
    private func arrive(_ waiter: PrimitiveWaiter) throws(BrokenBarrierError) -> Arrival {
        try state.withLock { (state: inout State) throws(BrokenBarrierError) -> Arrival in
            if state.broken { throw BrokenBarrierError(state.brokenReason) }
            let index = state.waiters.count
            if index + 1 == parties {
                defer { state.waiters.removeAll() }
                return .opened(index: index, released: Array(state.waiters))
            }
            waiter.payload = index
            state.waiters.append(waiter)
            return .queued
        }
    }

    /// The last party's part: run the action, then release the others (or break the barrier).
    private func open(index: Int, released: [PrimitiveWaiter]) throws(BrokenBarrierError) -> Int {
        if let action {
            do {
                try action()
            } catch {
                let queued = state.withLock { state -> Deque<PrimitiveWaiter> in
                    state.broken = true
                    state.brokenReason = .actionFailed
                    defer { state.waiters.removeAll() }
                    return state.waiters
                }
                for waiter in released + queued { waiter.resolve(WaitToken.broken) }
                throw BrokenBarrierError(.actionFailed, actionError: error)
            }
        }
        for waiter in released { waiter.resolve(WaitToken.granted) }
        return index
    }

    private func outcome(_ token: UInt32, _ waiter: PrimitiveWaiter) throws(BrokenBarrierError) -> Int {
        if token == WaitToken.granted { return waiter.payload! }
        if waiter.payload == -1 { throw BrokenBarrierError(.reset) }
        throw BrokenBarrierError(state.withLock { $0.brokenReason })
    }

    /// Breaks the barrier if `waiter` is still queued (its timeout or cancellation won the race).
    private func breakIfQueued(_ waiter: PrimitiveWaiter, reason: BrokenBarrierError.Reason) -> Bool {
        let others = state.withLock { state -> Deque<PrimitiveWaiter>? in
            guard state.waiters.remove(waiter) else { return nil }
            state.broken = true
            state.brokenReason = reason
            defer { state.waiters.removeAll() }
            return state.waiters
        }
        guard let others else { return false }
        for other in others { other.resolve(WaitToken.broken) }
        return true
    }

    private func breakBarrier(reason: BrokenBarrierError.Reason) {
        let woken = state.withLock { state -> Deque<PrimitiveWaiter> in
            state.broken = true
            state.brokenReason = reason
            defer { state.waiters.removeAll() }
            return state.waiters
        }
        for waiter in woken { waiter.resolve(WaitToken.broken) }
    }
}
