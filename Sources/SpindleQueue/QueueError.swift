/// Why a queue operation did not complete (Python's `queue.Full`, `queue.Empty`,
/// `queue.ShutDown`, and the `ValueError`s of `queue`).
public enum QueueError: Error, Equatable, Sendable, CustomStringConvertible {
    /// A bounded queue was full for a non-blocking put, or until a put's timeout.
    case full
    /// The queue was empty for a non-blocking get, or until a get's timeout.
    case empty
    /// The queue was shut down: puts fail at once; gets fail once the queue is empty.
    case shutDown
    /// `taskDone()` was called more often than items were put.
    case taskDoneTooManyTimes
    /// An argument was out of range; the text names it.
    case invalidArgument(String)

    public var description: String {
        switch self {
        case .full: return "queue is full"
        case .empty: return "queue is empty"
        case .shutDown: return "queue is shut down"
        case .taskDoneTooManyTimes: return "taskDone() called too many times"
        case .invalidArgument(let what): return what
        }
    }

    /// Checks a blocking call's timeout the way CPython does.
    @inlinable static func validate(timeout: Double?) throws(QueueError) {
        if let timeout, timeout < 0 || timeout.isNaN {
            throw QueueError.invalidArgument("'timeout' must be a non-negative number, not \(timeout)")
        }
    }
}
