/// A client of supervisord's HTTP interface, as supervisorctl uses it: XML-RPC calls on
/// `/RPC2` and the log streams of `/logtail` and `/mainlogtail`, over `unix://PATH` or
/// `http://HOST:PORT`, with HTTP basic authentication when a user name and password are given.
///
/// Each call opens a connection of its own, so a client can be used from several threads.
public struct SupervisorClient: Sendable {
    /// The server URL.
    public var serverURL: String
    /// The user name sent, when there is one and a password.
    public var username: String?
    /// The password sent.
    public var password: String?

    /// Creates a client; nothing is connected until a call.
    /// - Parameters:
    ///   - serverURL: `unix:///path/to/socket` or `http://host:port`.
    ///   - username: The user name.
    ///   - password: The password.
    public init(serverURL: String, username: String? = nil, password: String? = nil) {
        self.serverURL = serverURL
        self.username = username
        self.password = password
    }

    /// Calls a method.
    /// - Parameters:
    ///   - method: The method, such as `supervisor.getState`.
    ///   - params: The parameters.
    /// - Returns: The result.
    /// - Throws: `SupervisorClientError`: `.fault` for an XML-RPC fault, `.http` for a status
    ///   other than 200, `.connection` when the server cannot be reached.
    public func call(_ method: String, _ params: [XMLRPCValue] = []) throws(SupervisorClientError) -> XMLRPCValue {
        let body = try rawCall(method, params)
        let response: XMLRPCResponse
        do {
            response = try XMLRPCResponse.parse(body)
        } catch {
            throw .malformed(error.reason)
        }
        switch response {
        case .value(let value): return value
        case .fault(let code, let string): throw .fault(code: code, string: string)
        }
    }

    /// Calls a method and returns the reply's XML unparsed (for a proxy, or to time the server alone).
    /// - Parameters:
    ///   - method: The method, such as `supervisor.getState`.
    ///   - params: The parameters.
    /// - Returns: The body of the HTTP reply: a `methodResponse` document (a value or a fault).
    /// - Throws: `SupervisorClientError`: `.http` for a status other than 200, `.connection` when
    ///   the server cannot be reached.
    public func rawCall(_ method: String, _ params: [XMLRPCValue] = []) throws(SupervisorClientError) -> [UInt8] {
        let target = try HTTPClientConnection.target(of: serverURL)
        var connection = try HTTPClientConnection(target)
        defer { connection.close() }
        var headers: [(String, String)] = [("User-Agent", "spindlectl"), ("Content-Type", "text/xml"), ("Accept", "text/xml")]
        if let authorization { headers.append(("Authorization", authorization)) }
        try connection.send(method: "POST", path: "/RPC2", host: hostHeader(target), headers: headers, body: Array(XMLRPCCall(method, params).xml.utf8))
        let head = try connection.readHead()
        guard head.status == 200 else { throw .http(status: head.status, reason: head.reason) }
        return try connection.readBody(head)
    }

    /// Follows a log stream (`/logtail/NAME/CHANNEL` or `/mainlogtail`), handing each piece to
    /// `sink`, until the server ends it, `sink` returns false or `shouldStop` returns true.
    /// - Parameters:
    ///   - path: The URL path.
    ///   - shouldStop: Asked at least every 0.1 s.
    ///   - sink: Takes each piece of the log.
    /// - Throws: `SupervisorClientError.http` for a status other than 200, `.connection` when
    ///   the server cannot be reached.
    public func follow(
        _ path: String, shouldStop: () -> Bool = { false }, sink: ([UInt8]) -> Bool
    ) throws(SupervisorClientError) {
        let target = try HTTPClientConnection.target(of: serverURL)
        var connection = try HTTPClientConnection(target)
        defer { connection.close() }
        var headers: [(String, String)] = [("Accept-Encoding", "chunked"), ("Accept", "*/*"), ("User-agent", "spindlectl")]
        if let authorization { headers.append(("Authorization", authorization)) }
        try connection.send(method: "GET", path: path, host: hostHeader(target), headers: headers, body: [])
        let head = try connection.readHead()
        guard head.status == 200 else { throw .http(status: head.status, reason: head.reason) }
        try connection.readBody(head, shouldStop: shouldStop, sink: sink)
    }

    /// `Basic` and the base64 of `user:password`, when both are set.
    var authorization: String? {
        guard let username, let password else { return nil }
        return "Basic " + Base64.encode(Array("\(username):\(password)".utf8))
    }

    func hostHeader(_ target: HTTPClientConnection.Target) -> String {
        switch target {
        case .unix: "localhost"
        case .tcp(let host, let port): host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
        }
    }
}
