/// Why a call to supervisord failed, in the categories supervisorctl tells apart.
public enum SupervisorClientError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The server answered with an XML-RPC fault (Python's `xmlrpclib.Fault`).
    case fault(code: Int, string: String)
    /// The server answered with an HTTP status other than 200 (Python's `ProtocolError`),
    /// such as 401 when credentials are missing or wrong.
    case http(status: Int, reason: String)
    /// The connection failed (Python's `socket.error`): `errno` is ECONNREFUSED when nothing
    /// listens on the port, ENOENT when the UNIX socket does not exist.
    case connection(errno: Int32, message: String)
    /// The server URL is not `http://` or `unix://`.
    case badURL(String)
    /// The reply is not a readable HTTP response or XML-RPC document.
    case malformed(String)

    /// Python's rendering of the error, as supervisorctl prints an unexpected one:
    /// `<class 'xmlrpc.client.Fault'>, <Fault 6: 'SHUTDOWN_STATE'>`.
    public var description: String {
        switch self {
        case .fault(let code, let string):
            return "<class 'xmlrpc.client.Fault'>, <Fault \(code): '\(string)'>"
        case .http(let status, let reason):
            return "<class 'xmlrpc.client.ProtocolError'>, <ProtocolError for 127.0.0.1/RPC2: \(status) \(reason)>"
        case .connection(let errno, let message):
            let kind: String
            switch errno {
            case 2: kind = "FileNotFoundError"
            case 111: kind = "ConnectionRefusedError"
            case 13: kind = "PermissionError"
            case 104: kind = "ConnectionResetError"
            default: kind = "OSError"
            }
            return "<class '\(kind)'>, [Errno \(errno)] \(message)"
        case .badURL(let url):
            return "<class 'ValueError'>, Unknown protocol for serverurl \(url)"
        case .malformed(let why):
            return "<class 'xml.parsers.expat.ExpatError'>, \(why)"
        }
    }
}
