import SpindleFutures

/// The result of `Pool.applyAsync` or `Pool.mapAsync`, as it becomes ready (Python's
/// `multiprocessing.pool.AsyncResult`).
public final class AsyncResult<Value: Sendable>: @unchecked Sendable {
    let future: Future<Value>

    init(future: Future<Value>) { self.future = future }

    /// Waits for the result.
    /// - Parameter timeout: Seconds to wait at most; `nil` waits as long as it takes.
    /// - Returns: The value.
    /// - Throws: `MultiprocessingError.timedOut` when it is not ready in time (the task keeps
    ///   running); otherwise the task's error: a `RemoteError` from the worker function,
    ///   `MultiprocessingError.workerDied` when its worker died, `.poolTerminated`, and so on.
    public func get(timeout: Double? = nil) throws -> Value {
        do {
            return try future.result(timeout: timeout)
        } catch FutureError.timedOut {
            throw MultiprocessingError.timedOut
        }
    }

    /// Waits until the result is ready.
    /// - Parameter timeout: Seconds to wait at most; `nil` waits as long as it takes.
    /// - Returns: Whether it is ready (Python returns nothing; `ready` tells the same).
    @discardableResult
    public func wait(timeout: Double? = nil) -> Bool { future.waitDone(timeout: timeout) }

    /// Whether the task has finished.
    public var ready: Bool { future.done }

    /// Whether the task finished without an error.
    /// - Returns: `true` when it succeeded.
    /// - Throws: `MultiprocessingError.invalidState` while it is not ready, as in Python.
    public func successful() throws(MultiprocessingError) -> Bool {
        guard future.done else { throw .invalidState("the result is not ready") }
        do {
            return try future.exception(timeout: 0) == nil
        } catch {
            return false
        }
    }

    /// The value, for async code: the task suspends (no thread blocks) until it is ready.
    public var value: Value {
        get async throws { try await future.value }
    }
}
