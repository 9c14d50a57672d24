/// A misuse of a threading primitive, the error Python raises as `RuntimeError` or `ValueError`.
///
/// The `message` follows CPython's wording where CPython has one, so a Python user recognises it.
public struct ThreadingError: Error, Equatable, Sendable, CustomStringConvertible {
    /// What went wrong.
    public enum Kind: Equatable, Sendable {
        /// `start()` was called a second time.
        case alreadyStarted
        /// The thread was joined (or used) before `start()`.
        case notStarted
        /// A thread tried to join itself.
        case joinCurrentThread
        /// `daemon` was changed after `start()`.
        case daemonOfActiveThread
        /// A lock that was not held was released.
        case releaseUnlocked
        /// A lock was released, or a condition used, by a thread that does not own it.
        case notOwner
        /// A bounded semaphore was released more often than it was acquired.
        case tooManyReleases
        /// An argument was out of range, such as a negative timeout.
        case invalidArgument
        /// The operating system refused to create the thread.
        case startFailed(errno: Int32)
        /// Waiting would close a cycle of threads waiting for each other (deadlock detection in
        /// throw mode); the error names the cycle.
        case deadlock(DeadlockError)
    }

    /// What went wrong.
    public let kind: Kind
    /// A sentence that names what was wrong.
    public let message: String

    /// Creates an error.
    /// - Parameters:
    ///   - kind: What went wrong.
    ///   - message: A sentence that names what was wrong.
    public init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }

    public var description: String { message }
}

extension ThreadingError {
    /// Checks a blocking acquire's arguments the way CPython's `Lock.acquire` does.
    @usableFromInline
    static func validateAcquire(blocking: Bool, timeout: Double?) throws(ThreadingError) -> Double? {
        guard let timeout, timeout != -1 else { return nil }
        if !blocking {
            throw ThreadingError(.invalidArgument, "can't specify a timeout for a non-blocking call")
        }
        if timeout < 0 || timeout.isNaN {
            throw ThreadingError(.invalidArgument, "timeout value must be a non-negative number, not \(timeout)")
        }
        return timeout
    }
}
