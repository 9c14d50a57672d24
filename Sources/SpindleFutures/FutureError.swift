/// Why a future or an executor could not give a result (Python's `TimeoutError`,
/// `CancelledError`, `BrokenExecutor`, `InvalidStateError` and the `RuntimeError` of a shut-down
/// executor).
public enum FutureError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The result was not ready in time.
    case timedOut
    /// The future was cancelled before it ran.
    case cancelled
    /// The executor was shut down before the work was submitted.
    case shutDown
    /// The executor is broken (an initializer failed, a worker died) and runs nothing more.
    case broken(String)
    /// The future was already done (a second `setResult`, say).
    case invalidState(String)

    public var description: String {
        switch self {
        case .timedOut: return "the result was not ready before the timeout"
        case .cancelled: return "the future was cancelled"
        case .shutDown: return "cannot schedule new futures after shutdown"
        case .broken(let why): return why
        case .invalidState(let why): return why
        }
    }
}
