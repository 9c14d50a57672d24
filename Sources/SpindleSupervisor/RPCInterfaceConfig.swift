/// An `[rpcinterface:x]` section: an RPC namespace and the factory that makes it.
public struct RPCInterfaceConfig: Sendable, Hashable {
    /// The `x`, the namespace name.
    public var name: String
    /// `supervisor.rpcinterface_factory` (required).
    public var factory: String
    /// The section's other options, passed to the factory.
    public var options: [String: String]

    /// Creates the configuration.
    /// - Parameters:
    ///   - name: The namespace.
    ///   - factory: The factory spec.
    ///   - options: The other options.
    public init(name: String, factory: String, options: [String: String] = [:]) {
        self.name = name
        self.factory = factory
        self.options = options
    }
}
