#if canImport(Glibc)
import Glibc
#endif
import SpindleSupervisor
import SpindleSystem

/// A listening socket of supervisord's HTTP server: the `[unix_http_server]` socket or the
/// `[inet_http_server]` port, bound and listening, not yet served.
///
/// Listeners are opened before the server runs (before a daemon detaches, so that a port in
/// use is reported to whoever started it) and handed to `SupervisorHTTPServer`. A UNIX socket
/// is made as supervisord makes it: bound under a temporary name, given its `chmod` mode, then
/// linked to its name (a stale socket nobody answers on is removed first), then given its
/// `chown` owner.
public struct HTTPListener: Sendable {
    /// Where the listener listens.
    public enum Endpoint: Sendable, Hashable {
        /// A UNIX domain socket.
        case unix(UnixHTTPServerConfig)
        /// A TCP port.
        case inet(InetHTTPServerConfig)
    }

    /// Where it listens.
    public let endpoint: Endpoint
    /// The listening socket.
    public let descriptor: Int32

    /// The user name and password the server requires, when it requires them.
    public var credentials: (username: String, password: String)? {
        switch endpoint {
        case .unix(let c): c.username.flatMap { u in c.password.map { (u, $0) } }
        case .inet(let c): c.username.flatMap { u in c.password.map { (u, $0) } }
        }
    }

    /// The configuration section the listener comes from.
    public var section: String {
        switch endpoint {
        case .unix: "unix_http_server"
        case .inet: "inet_http_server"
        }
    }

    /// Opens every server the configuration declares.
    /// - Parameter config: The configuration.
    /// - Returns: The listeners, UNIX sockets first.
    /// - Throws: `HTTPServerError` when one cannot be opened (those already opened are closed).
    public static func open(_ config: SupervisorConfig) throws(HTTPServerError) -> [HTTPListener] {
        var opened: [HTTPListener] = []
        do {
            for unix in config.unixHTTPServers { opened.append(try openUnix(unix)) }
            for inet in config.inetHTTPServers { opened.append(try openInet(inet)) }
        } catch {
            for listener in opened { listener.close() }
            throw error
        }
        return opened
    }

    /// Closes the socket, and removes a UNIX socket's file.
    public func close() {
        _ = Glibc.close(descriptor)
        if case .unix(let config) = endpoint { _ = unlink(config.file) }
    }

    /// The TCP port actually bound (useful when the configuration asked for port 0).
    public var boundPort: Int? {
        guard case .inet = endpoint else { return nil }
        var address = sockaddr_in()
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let rc = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(descriptor, $0, &length) }
        }
        return rc == 0 ? Int(UInt16(bigEndian: address.sin_port)) : nil
    }

    // MARK: - UNIX sockets

    static func openUnix(_ config: UnixHTTPServerConfig) throws(HTTPServerError) -> HTTPListener {
        let name = config.file
        let temporary = "\(name).\(getpid())"
        defer { _ = unlink(temporary) }
        while true {
            _ = unlink(temporary)
            let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
            guard fd >= 0 else { throw failure(errno) }
            do {
                try bindUnix(fd, temporary)
            } catch {
                _ = Glibc.close(fd)
                throw error
            }
            if chmod(temporary, mode_t(config.chmod)) != 0 {
                let code = errno
                _ = Glibc.close(fd)
                throw failure(code)
            }
            if link(temporary, name) != 0 {
                _ = Glibc.close(fd)
                if isInUse(name) { throw inUse() }
                writeToStandardError("Unlinking stale socket \(name)\n")
                _ = unlink(name)
                usleep(300_000)
                continue
            }
            let uid = config.ownerUID.map { uid_t($0) } ?? uid_t.max
            let gid = config.ownerGID.map { gid_t($0) } ?? gid_t.max
            if chown(name, uid, gid) != 0 {
                let code = errno
                _ = Glibc.close(fd)
                _ = unlink(name)
                if code == EPERM {
                    let me = getpwuid(geteuid()).map { String(cString: $0.pointee.pw_name) } ?? String(geteuid())
                    let owner = "(\(config.ownerUID.map { String($0) } ?? "-1"), \(config.ownerGID.map { String($0) } ?? "-1"))"
                    throw HTTPServerError(
                        message: "Not permitted to chown \(name) to uid/gid \(owner); adjust \"sockchown\" value in config file or "
                            + "on command line to values that the current user (\(me)) can successfully chown",
                        errno: code)
                }
                throw failure(code)
            }
            if listen(fd, 1024) != 0 {
                let code = errno
                _ = Glibc.close(fd)
                _ = unlink(name)
                throw failure(code)
            }
            return HTTPListener(endpoint: .unix(config), descriptor: fd)
        }
    }

    static func bindUnix(_ fd: Int32, _ path: String) throws(HTTPServerError) {
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        let capacity = MemoryLayout.size(ofValue: address.sun_path)
        guard bytes.count < capacity else {
            throw HTTPServerError(message: "Cannot open an HTTP server: socket path \(path) is too long (at most \(capacity - 1) bytes)")
        }
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            for (i, byte) in bytes.enumerated() { raw[i] = byte }
            raw[bytes.count] = 0
        }
        let rc = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        if rc != 0 { throw failure(errno) }
    }

    /// supervisor's `checkused`: whether something answers on the socket.
    static func isInUse(_ path: String) -> Bool {
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { _ = Glibc.close(fd) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        guard bytes.count < MemoryLayout.size(ofValue: address.sun_path) else { return false }
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            for (i, byte) in bytes.enumerated() { raw[i] = byte }
        }
        let rc = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard rc == 0 else { return false }
        var timeout = timeval(tv_sec: 2, tv_usec: 0)
        _ = setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        let request = Array("GET / HTTP/1.0\r\n\r\n".utf8)
        guard send(fd, request, request.count, Int32(MSG_NOSIGNAL)) == request.count else { return false }
        var byte: UInt8 = 0
        return recv(fd, &byte, 1, 0) == 1
    }

    // MARK: - TCP

    static func openInet(_ config: InetHTTPServerConfig) throws(HTTPServerError) -> HTTPListener {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(truncatingIfNeeded: config.port).bigEndian)
        if config.host.isEmpty {
            address.sin_addr.s_addr = INADDR_ANY
        } else if inet_pton(AF_INET, config.host, &address.sin_addr) != 1 {
            var hints = addrinfo()
            hints.ai_family = AF_INET
            hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
            var result: UnsafeMutablePointer<addrinfo>?
            guard getaddrinfo(config.host, nil, &hints, &result) == 0, let first = result, let found = first.pointee.ai_addr else {
                throw HTTPServerError(message: "Cannot open an HTTP server: cannot resolve host \(config.host)")
            }
            defer { freeaddrinfo(result) }
            address.sin_addr = found.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { $0.pointee.sin_addr }
        }
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw failure(errno) }
        var one: Int32 = 1
        _ = setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        let rc = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        if rc != 0 || listen(fd, 1024) != 0 {
            let code = errno
            _ = Glibc.close(fd)
            throw code == EADDRINUSE ? inUse() : failure(code)
        }
        return HTTPListener(endpoint: .inet(config), descriptor: fd)
    }

    // MARK: - Errors

    static func inUse() -> HTTPServerError {
        HTTPServerError(
            message: "Another program is already listening on a port that one of our HTTP servers is configured to use.  "
                + "Shut this program down first before starting supervisord.",
            errno: EADDRINUSE)
    }

    static func failure(_ code: Int32) -> HTTPServerError {
        if code == EADDRINUSE { return inUse() }
        let name = errnoNames[code].map { "errno.\($0) (\(code))" } ?? String(code)
        return HTTPServerError(message: "Cannot open an HTTP server: socket.error reported \(name)", errno: code)
    }

    static let errnoNames: [Int32: String] = [
        EACCES: "EACCES", EPERM: "EPERM", ENOENT: "ENOENT", EADDRNOTAVAIL: "EADDRNOTAVAIL", ENOTDIR: "ENOTDIR",
        EROFS: "EROFS", EINVAL: "EINVAL", EMFILE: "EMFILE", ENFILE: "ENFILE", ENAMETOOLONG: "ENAMETOOLONG",
    ]
}
