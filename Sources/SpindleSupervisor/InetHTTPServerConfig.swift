/// The `[inet_http_server]` section: the XML-RPC server on a TCP port.
public struct InetHTTPServerConfig: Sendable, Hashable {
    /// The host part of `port` in lower case; empty (from `*` or no host) means every interface.
    public var host: String
    /// The port part of `port` (required).
    public var port: Int
    /// `username` for basic authentication.
    public var username: String?
    /// `password` for basic authentication.
    public var password: String?

    /// Creates the configuration.
    /// - Parameters:
    ///   - host: The host, empty for all interfaces.
    ///   - port: The port.
    ///   - username: The user name.
    ///   - password: The password.
    public init(host: String, port: Int, username: String? = nil, password: String? = nil) {
        self.host = host
        self.port = port
        self.username = username
        self.password = password
    }
}
