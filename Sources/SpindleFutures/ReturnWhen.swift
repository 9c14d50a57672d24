/// When `Futures.wait` returns (Python's `FIRST_COMPLETED`, `FIRST_EXCEPTION`, `ALL_COMPLETED`).
public enum ReturnWhen: Sendable {
    /// When any future finishes or is cancelled.
    case firstCompleted
    /// When any future finishes with an error, or when all are done.
    case firstException
    /// When all futures are done.
    case allCompleted
}
