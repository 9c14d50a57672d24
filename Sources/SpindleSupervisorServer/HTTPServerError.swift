/// An HTTP server that could not be opened, worded as supervisord words it (for example
/// "Another program is already listening on a port that one of our HTTP servers is configured
/// to use.  Shut this program down first before starting supervisord.").
public struct HTTPServerError: Error, Sendable, Hashable, CustomStringConvertible {
    /// What went wrong.
    public var message: String
    /// The `errno` of the failed call, when one failed.
    public var errno: Int32?

    /// Creates the error.
    /// - Parameters:
    ///   - message: What went wrong.
    ///   - errno: The `errno` of the failed call.
    public init(message: String, errno: Int32? = nil) {
        self.message = message
        self.errno = errno
    }

    /// The message.
    public var description: String { message }
}
