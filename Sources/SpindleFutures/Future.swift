import DequeModule
import SpindleSystem
import Synchronization

/// The eventual result of work handed to an executor (Python's `concurrent.futures.Future`).
///
/// Wait for it from a thread with `result(timeout:)`, or from a task with `await future.value`;
/// `cancel()` stops it if it has not started; done callbacks run when it finishes.
public final class Future<Value: Sendable>: @unchecked Sendable, Hashable, CustomStringConvertible {
    enum Phase {
        case pending, running, cancelled, cancelledAndNotified, finished
    }

    struct State {
        var phase = Phase.pending
        var outcome: Result<Value, any Error>?
        var waiters = Deque<Waiter<Void>>()
        var callbacks: [@Sendable (Future<Value>) -> Void] = []
        /// Internal observers (of `Futures.wait` and `asCompleted`), removable by id.
        var observers: [(id: UInt64, notify: @Sendable () -> Void)] = []
    }

    let state = Locked(State())
    /// Set once the future is done, for a lock-free check.
    private let isDone = Atomic<Bool>(false)
    /// The work an executor runs; taken by the one worker that runs it.
    private var work: (@Sendable () throws -> Value)?

    /// Creates a pending future, for code that implements an executor.
    public init() {}

    /// Creates a pending future that `run()` completes by calling `work`.
    init(work: @escaping @Sendable () throws -> Value) { self.work = work }

    // MARK: - State

    /// Whether the future was cancelled.
    public var cancelled: Bool {
        state.withLock { $0.phase == .cancelled || $0.phase == .cancelledAndNotified }
    }

    /// Whether the work is running now.
    public var running: Bool { state.withLock { $0.phase == .running } }

    /// Whether the future finished or was cancelled.
    public var done: Bool { isDone.load(ordering: .acquiring) }

    public var description: String {
        let phase = state.withLock { $0.phase }
        return "<Future \(ObjectIdentifier(self)) state=\(phase)>"
    }

    /// Cancels the future unless it is running or done.
    /// - Returns: Whether the future is cancelled now.
    @discardableResult
    public func cancel() -> Bool {
        let outcome = state.withLock { state -> Completion? in
            switch state.phase {
            case .running, .finished: return nil
            case .cancelled, .cancelledAndNotified: return Completion()
            case .pending:
                state.phase = .cancelled
                return takeCompletion(&state)
            }
        }
        guard let outcome else { return false }
        finish(outcome)
        return true
    }

    /// Marks the future running, or learns that it was cancelled (for executors, before running
    /// the work).
    /// - Returns: `true` when the work should run, `false` when the future was cancelled.
    public func setRunningOrNotifyCancel() -> Bool {
        state.withLock { state in
            switch state.phase {
            case .pending:
                state.phase = .running
                return true
            case .cancelled:
                state.phase = .cancelledAndNotified
                return false
            default:
                return false
            }
        }
    }

    /// Completes the future with a value (for executors).
    /// - Parameter value: The result.
    /// - Throws: `FutureError.invalidState` when the future is already done.
    public func setResult(_ value: Value) throws(FutureError) {
        try complete(.success(value))
    }

    /// Completes the future with an error (for executors).
    /// - Parameter error: The error the work threw.
    /// - Throws: `FutureError.invalidState` when the future is already done.
    public func setException(_ error: any Error) throws(FutureError) {
        try complete(.failure(error))
    }

    private func complete(_ outcome: Result<Value, any Error>) throws(FutureError) {
        let completion = try state.withLock { (state: inout State) throws(FutureError) -> Completion in
            switch state.phase {
            case .cancelled, .cancelledAndNotified, .finished:
                throw FutureError.invalidState("<Future \(ObjectIdentifier(self)) state=\(state.phase)> is already done")
            case .pending, .running:
                state.phase = .finished
                state.outcome = outcome
                return takeCompletion(&state)
            }
        }
        finish(completion)
    }

    /// Runs the work the future was made with, if it was not cancelled.
    /// - Parameter beforeCompletion: Called once the work is over and before the result is
    ///   published (a pool marks its worker idle here, so the next submission can reuse it).
    func run(beforeCompletion: () -> Void) {
        guard setRunningOrNotifyCancel() else {
            beforeCompletion()
            return
        }
        let body = work!
        work = nil
        let outcome: Result<Value, any Error>
        do { outcome = .success(try body()) } catch { outcome = .failure(error) }
        beforeCompletion()
        try? complete(outcome)
    }

    // MARK: - Completion

    struct Completion {
        var waiters: Deque<Waiter<Void>> = []
        var callbacks: [@Sendable (Future<Value>) -> Void] = []
        var observers: [@Sendable () -> Void] = []
    }

    private func takeCompletion(_ state: inout State) -> Completion {
        isDone.store(true, ordering: .releasing)
        defer {
            state.waiters.removeAll()
            state.callbacks.removeAll()
            state.observers.removeAll()
        }
        return Completion(waiters: state.waiters, callbacks: state.callbacks, observers: state.observers.map(\.notify))
    }

    private func finish(_ completion: Completion) {
        for waiter in completion.waiters { waiter.resolve(WaitToken.granted) }
        for observer in completion.observers { observer() }
        for callback in completion.callbacks { callback(self) }
    }

    /// Adds a callback run with the future when it is done: at once, on this thread, if it already
    /// is; otherwise on the thread that completes or cancels it. Callbacks run in the order added.
    /// - Parameter callback: The callback.
    public func addDoneCallback(_ callback: @escaping @Sendable (Future<Value>) -> Void) {
        let added = state.withLock { state -> Bool in
            guard !isDone.load(ordering: .relaxed) else { return false }
            state.callbacks.append(callback)
            return true
        }
        if !added { callback(self) }
    }

    /// Registers an internal observer; returns `false` (and registers nothing) if already done.
    func addObserver(id: UInt64, _ notify: @escaping @Sendable () -> Void) -> Bool {
        state.withLock { state in
            guard !isDone.load(ordering: .relaxed) else { return false }
            state.observers.append((id, notify))
            return true
        }
    }

    func removeObserver(id: UInt64) {
        state.withLock { $0.observers.removeAll { $0.id == id } }
    }

    // MARK: - Waiting

    /// Blocks until the future is done or the timeout expires.
    /// - Parameter timeout: Seconds to wait at most; `nil` waits as long as it takes.
    /// - Returns: Whether the future is done.
    @discardableResult
    public func waitDone(timeout: Double? = nil) -> Bool {
        if done { return true }
        let token = parkThread(
            Waiter<Void>(thread: ()), until: .after(seconds: timeout.map { max(0, $0) }),
            register: register, withdraw: withdraw)
        return token == WaitToken.granted
    }

    private func register(_ waiter: Waiter<Void>) -> UInt32? {
        state.withLock { state in
            if isDone.load(ordering: .relaxed) { return WaitToken.granted }
            state.waiters.append(waiter)
            return nil
        }
    }

    private func withdraw(_ waiter: Waiter<Void>) -> Bool {
        state.withLock { $0.waiters.remove(waiter) }
    }

    /// The outcome of a done future.
    private func outcome() throws -> Value {
        let (phase, outcome) = state.withLock { ($0.phase, $0.outcome) }
        switch phase {
        case .finished: return try outcome!.get()
        default: throw FutureError.cancelled
        }
    }

    /// Waits for the result.
    /// - Parameter timeout: Seconds to wait at most; `nil` waits as long as it takes.
    /// - Returns: The work's value.
    /// - Throws: The error the work threw; `FutureError.cancelled` if the future was cancelled;
    ///   `FutureError.timedOut` if it was not done in time (it keeps running).
    public func result(timeout: Double? = nil) throws -> Value {
        guard waitDone(timeout: timeout) else { throw FutureError.timedOut }
        return try outcome()
    }

    /// Waits for the future and returns the error its work threw, if any.
    /// - Parameter timeout: Seconds to wait at most.
    /// - Returns: The error, or `nil` when the work succeeded.
    /// - Throws: `FutureError.cancelled` or `FutureError.timedOut`.
    public func exception(timeout: Double? = nil) throws(FutureError) -> (any Error)? {
        guard waitDone(timeout: timeout) else { throw FutureError.timedOut }
        let (phase, outcome) = state.withLock { ($0.phase, $0.outcome) }
        guard phase == .finished else { throw FutureError.cancelled }
        if case .failure(let error) = outcome { return error }
        return nil
    }

    /// The work's value, for async code: the task suspends (no thread blocks) until it is ready.
    /// Cancelling the awaiting task stops the wait (with `CancellationError`), not the work.
    public var value: Value {
        get async throws { try await value(timeout: nil) }
    }

    /// The work's value, waiting at most `timeout` seconds.
    /// - Parameter timeout: Seconds to wait at most; `nil` waits as long as it takes.
    /// - Returns: The value.
    /// - Throws: As `result(timeout:)`, or `CancellationError`.
    public func value(timeout: Double?) async throws -> Value {
        if !done {
            let token = await suspendTask(
                Waiter<Void>(task: ()), timeout: timeout.map { max(0, $0) }, register: register,
                withdraw: { [self] in withdraw($0) })
            if token == WaitToken.cancelled { throw CancellationError() }
            if token == WaitToken.timedOut { throw FutureError.timedOut }
        }
        return try outcome()
    }

    // MARK: - Hashable

    public static func == (lhs: Future, rhs: Future) -> Bool { lhs === rhs }
    public func hash(into hasher: inout Hasher) { hasher.combine(ObjectIdentifier(self)) }
}

/// A future whose work an executor can run without knowing its value type.
protocol RunnableFuture: AnyObject, Sendable {
    func run(beforeCompletion: () -> Void)
    @discardableResult func cancel() -> Bool
    func fail(_ error: any Error)
}

extension Future: RunnableFuture {
    func fail(_ error: any Error) {
        if setRunningOrNotifyCancel() { try? setException(error) }
    }
}
