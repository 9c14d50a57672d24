import SpindleSystem
import Synchronization

/// The eventual result of work handed to an executor (Python's `concurrent.futures.Future`).
///
/// Wait for it from a thread with `result(timeout:)`, or from a task with `await future.value`;
/// `cancel()` stops it if it has not started; done callbacks run when it finishes.
public final class Future<Value: Sendable>: @unchecked Sendable, Hashable, CustomStringConvertible {
    // Every phase change is one atomic operation on `state` (see `FutureState`); completing a
    // future that nobody listens to takes no lock, and `result()` on a done future reads
    // the value after an acquiring load of the state, without a lock.

    /// The phase and the listener lock (`FutureState`).
    @usableFromInline let state = Atomic<UInt32>(FutureState.pending)
    //
    // The value is kept in raw words rather than in a `Value?` or a `Result<Value, Error>`: the
    // deinit of a generic class is never specialised, and destroying an optional or a result of
    // `Value` there looks up that type's generic metadata each time (callgrind: ~330
    // instructions of the ~2,800 per task, for each of the two); raw words are destroyed with
    // `Value`'s own witnesses, which need no lookup. The fields' exclusivity is the state word's
    // protocol (one writer before `finished` is published), not a dynamic check.

    /// The value's bytes when it fits in three words (`valueIsInline`), else the address of a
    /// heap copy in the first word. Written once, by the completer that moved the phase to
    /// `completing`, when the work succeeded; read only after the phase `finished` was loaded
    /// with acquiring order.
    @exclusivity(unchecked) @usableFromInline var valueWords: (UInt, UInt, UInt) = (0, 0, 0)
    /// The error the work threw, instead of a value; written and read as `valueWords`.
    @exclusivity(unchecked) @usableFromInline var storedError: (any Error)?
    /// The work an executor runs; taken by the one worker that runs it.
    @exclusivity(unchecked) @usableFromInline var work: (@Sendable () throws -> Value)?
    /// Guarded by the state's `locked` bit.
    @exclusivity(unchecked) var listeners = FutureListeners()

    /// Creates a pending future, for code that implements an executor.
    public init() {}

    /// Creates a pending future that `runWork` completes by calling `work`.
    @usableFromInline init(work: @escaping @Sendable () throws -> Value) { self.work = work }

    // MARK: - State

    /// Whether the future was cancelled.
    public var cancelled: Bool {
        let phase = FutureState.phase(state.load(ordering: .acquiring))
        return phase == FutureState.cancelled || phase == FutureState.cancelledAndNotified
    }

    /// Whether the work is running now.
    public var running: Bool {
        let phase = FutureState.phase(state.load(ordering: .acquiring))
        return phase == FutureState.running || phase == FutureState.completing
    }

    /// Whether the future finished or was cancelled.
    @inlinable
    public var done: Bool { FutureState.isDone(state.load(ordering: .acquiring)) }

    public var description: String {
        "<Future \(ObjectIdentifier(self)) state=\(FutureState.name(state.load(ordering: .acquiring)))>"
    }

    /// Cancels the future unless it is running or done.
    /// - Returns: Whether the future is cancelled now.
    @discardableResult
    public func cancel() -> Bool {
        var current = state.load(ordering: .relaxed)
        while true {
            switch FutureState.phase(current) {
            case FutureState.pending: break
            case FutureState.cancelled, FutureState.cancelledAndNotified: return true
            default: return false
            }
            let (exchanged, original) = state.compareExchange(
                expected: current, desired: current & ~FutureState.phaseMask | FutureState.cancelled,
                ordering: .acquiringAndReleasing)
            if exchanged {
                if original & FutureState.listened != 0 { notifyListeners() }
                return true
            }
            current = original
        }
    }

    /// Marks the future running, or learns that it was cancelled (for executors, before running
    /// the work).
    /// - Returns: `true` when the work should run, `false` when the future was cancelled.
    @inlinable
    public func setRunningOrNotifyCancel() -> Bool {
        var current = state.load(ordering: .relaxed)
        while true {
            let next: UInt32
            switch FutureState.phase(current) {
            case FutureState.pending: next = FutureState.running
            case FutureState.cancelled: next = FutureState.cancelledAndNotified
            default: return false
            }
            let (exchanged, original) = state.compareExchange(
                expected: current, desired: current & ~FutureState.phaseMask | next, ordering: .acquiringAndReleasing)
            if exchanged { return next == FutureState.running }
            current = original
        }
    }

    /// Completes the future with a value (for executors).
    /// - Parameter value: The result.
    /// - Throws: `FutureError.invalidState` when the future is already done.
    public func setResult(_ value: Value) throws(FutureError) {
        try claim()
        storeValue(value)
        publish()
    }

    /// Completes the future with an error (for executors).
    /// - Parameter error: The error the work threw.
    /// - Throws: `FutureError.invalidState` when the future is already done.
    public func setException(_ error: any Error) throws(FutureError) {
        try claim()
        storedError = error
        publish()
    }

    /// Claims the future for its completer: pending or running to completing.
    /// - Throws: `FutureError.invalidState` when it is done or being completed.
    @inlinable
    func claim() throws(FutureError) {
        var current = state.load(ordering: .relaxed)
        while true {
            let phase = FutureState.phase(current)
            guard phase == FutureState.pending || phase == FutureState.running else {
                throw alreadyDone(current)
            }
            let (exchanged, original) = state.compareExchange(
                expected: current, desired: current & ~FutureState.phaseMask | FutureState.completing,
                ordering: .acquiring)
            if exchanged { break }
            current = original
        }
    }

    /// Publishes the stored outcome (completing to finished); notifies the listeners if any was
    /// ever added.
    @inlinable
    func publish() {
        // Only the phase bits change; listeners may set their bits meanwhile.
        let previous = state.wrappingAdd(FutureState.finished - FutureState.completing, ordering: .acquiringAndReleasing).oldValue
        if previous & FutureState.listened != 0 { notifyListeners() }
    }

    @usableFromInline
    func alreadyDone(_ word: UInt32) -> FutureError {
        let name = FutureState.phase(word) == FutureState.completing ? "finished" : FutureState.name(word)
        return FutureError.invalidState("<Future \(ObjectIdentifier(self)) state=\(name)> is already done")
    }

    /// Runs the work the future was made with, if it was not cancelled (for the executor's
    /// worker; inlinable so that the submitting code's specialisation runs it).
    /// - Parameter beforeCompletion: Called once the work is over and before the result is
    ///   published (a pool marks its worker idle here, so the next submission can reuse it).
    @inlinable
    func runWork(beforeCompletion: () -> Void) {
        guard setRunningOrNotifyCancel() else {
            work = nil
            beforeCompletion()
            return
        }
        let body = work!
        work = nil
        do {
            let value = try body()
            beforeCompletion()
            if (try? claim()) != nil {
                storeValue(value)
                publish()
            }
        } catch {
            beforeCompletion()
            if (try? claim()) != nil {
                storedError = error
                publish()
            }
        }
    }

    // MARK: - The value's storage

    /// Whether a value is kept in `valueWords` itself rather than in a heap copy.
    @inlinable
    static var valueIsInline: Bool {
        MemoryLayout<Value>.size <= MemoryLayout<(UInt, UInt, UInt)>.size
            && MemoryLayout<Value>.alignment <= MemoryLayout<UInt>.alignment
    }

    /// Stores the value (once, by the completer).
    @inlinable
    func storeValue(_ value: Value) {
        if Self.valueIsInline {
            withUnsafeMutableBytes(of: &valueWords) { _ = $0.baseAddress!.initializeMemory(as: Value.self, to: value) }
        } else {
            let copy = UnsafeMutablePointer<Value>.allocate(capacity: 1)
            copy.initialize(to: value)
            valueWords.0 = UInt(bitPattern: copy)
        }
    }

    /// A copy of the stored value.
    @inlinable
    func loadValue() -> Value {
        if Self.valueIsInline {
            // Read through a copy of the words (a read, not an inout access: many threads may
            // read at once).
            return Swift.withUnsafeBytes(of: valueWords) { $0.load(as: Value.self) }
        }
        return UnsafeMutablePointer<Value>(bitPattern: valueWords.0).unsafelyUnwrapped.pointee
    }

    deinit {
        let phase = FutureState.phase(state.load(ordering: .acquiring))
        guard phase == FutureState.finished, storedError == nil else { return }
        if Self.valueIsInline {
            withUnsafeMutableBytes(of: &valueWords) {
                _ = $0.baseAddress!.assumingMemoryBound(to: Value.self).deinitialize(count: 1)
            }
        } else {
            let copy = UnsafeMutablePointer<Value>(bitPattern: valueWords.0).unsafelyUnwrapped
            copy.deinitialize(count: 1)
            copy.deallocate()
        }
    }

    // MARK: - Listeners

    /// Takes every listener and tells them; called once the future is done.
    @usableFromInline
    func notifyListeners() {
        FutureListenerLock.lock(state)
        let taken = listeners
        listeners = FutureListeners()
        FutureListenerLock.unlock(state)
        taken.notify(self)
    }

    /// Adds a callback run with the future when it is done: at once, on this thread, if it already
    /// is; otherwise on the thread that completes or cancels it. Callbacks run in the order added.
    /// - Parameter callback: The callback.
    public func addDoneCallback(_ callback: @escaping @Sendable (Future<Value>) -> Void) {
        let erased: @Sendable (AnyObject) -> Void = { callback(unsafeDowncast($0, to: Future<Value>.self)) }
        if FutureListenerLock.lockIfNotDone(state) {
            listeners.callbacks.append(erased)
            FutureListenerLock.unlock(state)
        } else {
            callback(self)
        }
    }

    /// Registers an internal observer; returns `false` (and registers nothing) if already done.
    func addObserver(id: UInt64, _ notify: @escaping @Sendable () -> Void) -> Bool {
        guard FutureListenerLock.lockIfNotDone(state) else { return false }
        listeners.observers.append((id, notify))
        FutureListenerLock.unlock(state)
        return true
    }

    func removeObserver(id: UInt64) {
        FutureListenerLock.lock(state)
        listeners.observers.removeAll { $0.id == id }
        FutureListenerLock.unlock(state)
    }

    /// Queues `sleeper` unless the future is done.
    /// - Returns: Whether it was queued.
    private func register(_ sleeper: FutureSleeper) -> Bool {
        guard FutureListenerLock.lockIfNotDone(state) else { return false }
        listeners.sleepers.append(sleeper)
        FutureListenerLock.unlock(state)
        return true
    }

    /// Removes `sleeper` if it is still queued.
    /// - Returns: Whether it was (and so will not be woken).
    private func withdraw(_ sleeper: FutureSleeper) -> Bool {
        FutureListenerLock.lock(state)
        defer { FutureListenerLock.unlock(state) }
        guard let index = listeners.sleepers.firstIndex(where: { $0.isSame(as: sleeper) }) else { return false }
        listeners.sleepers.remove(at: index)
        return true
    }

    // MARK: - Waiting

    /// Blocks until the future is done or the timeout expires.
    /// - Parameter timeout: Seconds to wait at most; `nil` waits as long as it takes.
    /// - Returns: Whether the future is done.
    @inlinable @discardableResult
    public func waitDone(timeout: Double? = nil) -> Bool {
        if done { return true }
        return waitUntilDone(timeout: timeout)
    }

    /// The blocking part of `waitDone`: the thread's own parker is queued (nothing is allocated
    /// but the list's slot).
    @usableFromInline
    func waitUntilDone(timeout: Double?) -> Bool {
        let parker = Parker.forCurrentThread()
        let sleeper = FutureSleeper.thread(parker)
        guard register(sleeper) else { return true }
        if parker.park(until: .after(seconds: timeout.map { max(0, $0) })) != 0 { return true }
        if withdraw(sleeper) { return false }
        _ = parker.awaitToken()  // woken just as the deadline passed
        return true
    }

    /// The outcome of a done future.
    @inlinable
    func doneOutcome() throws -> Value {
        guard FutureState.phase(state.load(ordering: .acquiring)) == FutureState.finished else {
            throw FutureError.cancelled
        }
        if let storedError { throw storedError }
        return loadValue()
    }

    /// Waits for the result.
    /// - Parameter timeout: Seconds to wait at most; `nil` waits as long as it takes.
    /// - Returns: The work's value.
    /// - Throws: The error the work threw; `FutureError.cancelled` if the future was cancelled;
    ///   `FutureError.timedOut` if it was not done in time (it keeps running).
    @inlinable
    public func result(timeout: Double? = nil) throws -> Value {
        guard waitDone(timeout: timeout) else { throw FutureError.timedOut }
        return try doneOutcome()
    }

    /// Waits for the future and returns the error its work threw, if any.
    /// - Parameter timeout: Seconds to wait at most.
    /// - Returns: The error, or `nil` when the work succeeded.
    /// - Throws: `FutureError.cancelled` or `FutureError.timedOut`.
    public func exception(timeout: Double? = nil) throws(FutureError) -> (any Error)? {
        guard waitDone(timeout: timeout) else { throw FutureError.timedOut }
        guard FutureState.phase(state.load(ordering: .acquiring)) == FutureState.finished else {
            throw FutureError.cancelled
        }
        return storedError
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
                Waiter<Void>(task: ()), timeout: timeout.map { max(0, $0) },
                register: { register(.task($0)) ? nil : WaitToken.granted },
                withdraw: { [self] in withdraw(.task($0)) })
            if token == WaitToken.cancelled { throw CancellationError() }
            if token == WaitToken.timedOut { throw FutureError.timedOut }
        }
        return try doneOutcome()
    }

    // MARK: - Hashable

    public static func == (lhs: Future, rhs: Future) -> Bool { lhs === rhs }
    public func hash(into hasher: inout Hasher) { hasher.combine(ObjectIdentifier(self)) }
}

/// A future whose work an executor can cancel or fail without knowing its value type.
@usableFromInline
protocol RunnableFuture: AnyObject, Sendable {
    @discardableResult func cancel() -> Bool
    func fail(_ error: any Error)
}

extension Future: RunnableFuture {
    @usableFromInline
    func fail(_ error: any Error) {
        if setRunningOrNotifyCancel() { try? setException(error) }
    }
}
