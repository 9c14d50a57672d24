/// The `[unix_http_server]` section: the XML-RPC server on a UNIX domain socket.
public struct UnixHTTPServerConfig: Sendable, Hashable {
    /// `file`: the socket path, made absolute (required).
    public var file: String
    /// `chmod`: the socket's mode; default 0700.
    public var chmod: UInt32
    /// `chown`: the socket's owner id, when set.
    public var ownerUID: UInt32?
    /// `chown`: the socket's group id, when `user:group` was given.
    public var ownerGID: UInt32?
    /// `username` for basic authentication.
    public var username: String?
    /// `password` for basic authentication (plain, or `{SHA}` and a hex SHA-1).
    public var password: String?

    /// Creates the configuration.
    /// - Parameters:
    ///   - file: The socket path.
    ///   - chmod: The socket mode.
    ///   - ownerUID: The owner id.
    ///   - ownerGID: The group id.
    ///   - username: The user name.
    ///   - password: The password.
    public init(
        file: String, chmod: UInt32 = 0o700, ownerUID: UInt32? = nil, ownerGID: UInt32? = nil,
        username: String? = nil, password: String? = nil
    ) {
        self.file = file
        self.chmod = chmod
        self.ownerUID = ownerUID
        self.ownerGID = ownerGID
        self.username = username
        self.password = password
    }
}
