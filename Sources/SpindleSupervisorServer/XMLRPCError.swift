/// An XML-RPC document that cannot be read: not well-formed XML, or XML that is not a
/// `methodCall` or `methodResponse` of the shape XML-RPC prescribes.
public struct XMLRPCError: Error, Sendable, Hashable, CustomStringConvertible {
    /// What is wrong with the document.
    public var reason: String

    /// Creates the error.
    /// - Parameter reason: What is wrong with the document.
    public init(reason: String) {
        self.reason = reason
    }

    /// The reason.
    public var description: String { reason }
}
