import DequeModule
import SpindleSystem
import Synchronization

/// A counting semaphore (Python's `threading.Semaphore`): `acquire` takes a permit, waiting for one
/// when there are none; `release` gives permits back.
///
/// Released permits are handed straight to waiters in arrival order, so a waiter is never overtaken
/// by a newcomer, and blocked threads and suspended tasks may wait on the same semaphore.
public class Semaphore: @unchecked Sendable {
    struct State {
        var value: Int
        var waiters = Deque<PrimitiveWaiter>()
    }

    let state: Locked<State>
    /// The most permits there may be (BoundedSemaphore), or `nil`.
    let bound: Int?

    /// Creates a semaphore with `value` permits.
    /// - Parameter value: The initial number of permits; must not be negative.
    public convenience init(_ value: Int = 1) {
        self.init(value: value, bound: nil)
    }

    init(value: Int, bound: Int?) {
        precondition(value >= 0, "semaphore initial value must be >= 0, not \(value)")
        state = Locked(State(value: value))
        self.bound = bound
    }

    /// The number of permits available now.
    public var value: Int { state.withLock { $0.value } }

    /// Takes a permit, waiting for one if there is none.
    /// - Parameters:
    ///   - blocking: Whether to wait; `false` tries once.
    ///   - timeout: Seconds to wait at most; `nil` waits as long as it takes.
    /// - Returns: Whether a permit was taken.
    /// - Throws: `ThreadingError.Kind.invalidArgument` for a timeout with `blocking: false`.
    @discardableResult
    public func acquire(blocking: Bool = true, timeout: Double? = nil) throws(ThreadingError) -> Bool {
        if !blocking, timeout != nil {
            throw ThreadingError(.invalidArgument, "can't specify timeout for non-blocking acquire")
        }
        let deadline = Deadline.after(seconds: timeout.map { max(0, $0) })
        if !blocking { return tryTake() }
        let token = parkThread(PrimitiveWaiter(thread: ()), until: deadline, register: register, withdraw: withdraw)
        return token == WaitToken.granted
    }

    /// Takes a permit, suspending the task (not blocking its thread) until one is released.
    /// - Throws: `CancellationError` when the task is cancelled while waiting; no permit is taken then.
    public func acquire() async throws(CancellationError) {
        let token = await suspendTask(PrimitiveWaiter(task: ()), timeout: nil, register: register, withdraw: { [self] in withdraw($0) })
        if token != WaitToken.granted { throw CancellationError() }
    }

    /// Takes a permit, suspending the task for at most `timeout` seconds.
    /// - Parameter timeout: Seconds to wait at most.
    /// - Returns: Whether a permit was taken.
    /// - Throws: `CancellationError` when the task is cancelled while waiting.
    public func acquire(timeout: Double) async throws(CancellationError) -> Bool {
        let token = await suspendTask(PrimitiveWaiter(task: ()), timeout: max(0, timeout), register: register, withdraw: { [self] in withdraw($0) })
        if token == WaitToken.cancelled { throw CancellationError() }
        return token == WaitToken.granted
    }

    /// Gives back `n` permits, waking as many waiters.
    /// - Parameter n: How many permits; at least 1.
    /// - Throws: `ThreadingError.Kind.invalidArgument` for `n < 1`;
    ///   `ThreadingError.Kind.tooManyReleases` when a bounded semaphore would exceed its bound.
    public func release(_ n: Int = 1) throws(ThreadingError) {
        guard n >= 1 else { throw ThreadingError(.invalidArgument, "n must be one or more, not \(n)") }
        let woken = try state.withLock { (state: inout State) throws(ThreadingError) -> [PrimitiveWaiter] in
            if let bound, state.value + n > bound {
                throw ThreadingError(.tooManyReleases, "Semaphore released too many times")
            }
            var handed: [PrimitiveWaiter] = []
            var left = n
            while left > 0, let waiter = state.waiters.popFirst() {
                handed.append(waiter)
                left -= 1
            }
            state.value += left
            return handed
        }
        for waiter in woken { waiter.resolve(WaitToken.granted) }
    }

    /// Runs `body` holding a permit.
    /// - Parameter body: The work to do with the permit.
    /// - Returns: What `body` returns.
    /// - Throws: What `body` throws; the permit is given back either way.
    public func withPermit<Result, Failure: Error>(_ body: () throws(Failure) -> Result) throws(Failure) -> Result {
        _ = try! acquire()
        defer { try! release() }
        return try body()
    }

    private func tryTake() -> Bool {
        state.withLock { state in
            guard state.value > 0 else { return false }
            state.value -= 1
            return true
        }
    }

    private func register(_ waiter: PrimitiveWaiter) -> UInt32? {
        state.withLock { state in
            if state.value > 0 {
                state.value -= 1
                return WaitToken.granted
            }
            state.waiters.append(waiter)
            return nil
        }
    }

    private func withdraw(_ waiter: PrimitiveWaiter) -> Bool {
        state.withLock { $0.waiters.remove(waiter) }
    }
}
