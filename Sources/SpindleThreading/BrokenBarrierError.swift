/// The error a `Barrier` wait throws when the barrier is or becomes broken (Python's
/// `threading.BrokenBarrierError`).
public struct BrokenBarrierError: Error, Sendable, CustomStringConvertible {
    /// Why the barrier broke.
    public enum Reason: Sendable, Equatable {
        /// `abort()` was called, or an earlier break has not been `reset()`.
        case aborted
        /// `reset()` was called while this thread waited.
        case reset
        /// A wait timed out, which breaks the barrier for every party.
        case timedOut
        /// The barrier's action threw (the thread that ran it gets the action's error as `actionError`).
        case actionFailed
        /// The waiting task was cancelled, which breaks the barrier as a timeout does.
        case cancelled
    }

    /// Why the barrier broke.
    public let reason: Reason
    /// The error the action threw, for the thread that ran the action.
    public let actionError: (any Error)?

    /// Creates the error.
    /// - Parameters:
    ///   - reason: Why the barrier broke.
    ///   - actionError: The action's error, if the action failed in this thread.
    public init(_ reason: Reason, actionError: (any Error)? = nil) {
        self.reason = reason
        self.actionError = actionError
    }

    public var description: String {
        switch reason {
        case .aborted: return "barrier is broken (aborted)"
        case .reset: return "barrier was reset while waiting"
        case .timedOut: return "barrier wait timed out; the barrier is broken"
        case .actionFailed:
            if let actionError { return "barrier action failed: \(actionError)" }
            return "barrier is broken: its action failed in another thread"
        case .cancelled: return "barrier wait was cancelled; the barrier is broken"
        }
    }
}
