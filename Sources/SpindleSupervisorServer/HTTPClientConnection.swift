#if canImport(Glibc)
import Glibc
#endif

/// A blocking HTTP/1.1 client connection to supervisord, over a UNIX socket or TCP: enough
/// HTTP for XML-RPC calls and for following a `/logtail` stream.
struct HTTPClientConnection {
    /// Where a server URL points.
    enum Target: Equatable {
        case unix(path: String)
        case tcp(host: String, port: Int)
    }

    /// A response's status line and headers (names lowercased).
    struct ResponseHead {
        var status: Int
        var reason: String
        var headers: [(String, String)]

        func header(_ name: String) -> String? { headers.first { $0.0 == name }?.1 }
    }

    private let fd: Int32
    private var buffer: [UInt8] = []
    /// Whether the last read ended because `shouldStop` said so.
    private var stopped = false

    /// The target of a `unix://PATH` or `http://HOST[:PORT]` URL.
    static func target(of url: String) throws(SupervisorClientError) -> Target {
        if url.hasPrefix("unix://") { return .unix(path: String(url.dropFirst(7))) }
        guard url.hasPrefix("http://") else { throw .badURL(url) }
        var rest = url.dropFirst(7)
        if let slash = rest.firstIndex(of: "/") { rest = rest[..<slash] }
        if let at = rest.lastIndex(of: "@") { rest = rest[rest.index(after: at)...] }
        var host = String(rest)
        var port = 80
        if host.hasPrefix("["), let close = host.firstIndex(of: "]") {
            let inner = String(host[host.index(after: host.startIndex)..<close])
            let after = host[host.index(after: close)...]
            if after.hasPrefix(":"), let p = Int(after.dropFirst()) { port = p }
            host = inner
        } else if let colon = host.lastIndex(of: ":") {
            guard let p = Int(host[host.index(after: colon)...]) else { throw .badURL(url) }
            port = p
            host = String(host[..<colon])
        }
        return .tcp(host: host.isEmpty ? "localhost" : host, port: port)
    }

    /// Connects.
    /// - Throws: `SupervisorClientError.connection` with the connect error.
    init(_ target: Target) throws(SupervisorClientError) {
        switch target {
        case .unix(let path):
            let socketFD = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
            guard socketFD >= 0 else { throw HTTPClientConnection.failure(errno) }
            var address = sockaddr_un()
            address.sun_family = sa_family_t(AF_UNIX)
            let bytes = Array(path.utf8)
            guard bytes.count < MemoryLayout.size(ofValue: address.sun_path) else {
                Glibc.close(socketFD)
                throw .connection(errno: ENAMETOOLONG, message: "AF_UNIX path too long")
            }
            withUnsafeMutableBytes(of: &address.sun_path) { raw in
                for (i, byte) in bytes.enumerated() { raw[i] = byte }
            }
            let rc = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(socketFD, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
            }
            if rc != 0 {
                let code = errno
                Glibc.close(socketFD)
                throw HTTPClientConnection.failure(code)
            }
            fd = socketFD
        case .tcp(let host, let port):
            var hints = addrinfo()
            hints.ai_family = AF_UNSPEC
            hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
            var result: UnsafeMutablePointer<addrinfo>?
            let rc = getaddrinfo(host, String(port), &hints, &result)
            guard rc == 0, let first = result else {
                throw .connection(errno: -2, message: "Name or service not known")
            }
            defer { freeaddrinfo(result) }
            var lastError = ECONNREFUSED
            var connected: Int32 = -1
            var candidate: UnsafeMutablePointer<addrinfo>? = first
            while let info = candidate {
                let socketFD = socket(info.pointee.ai_family, info.pointee.ai_socktype | Int32(SOCK_CLOEXEC.rawValue), info.pointee.ai_protocol)
                if socketFD >= 0 {
                    if connect(socketFD, info.pointee.ai_addr, info.pointee.ai_addrlen) == 0 {
                        connected = socketFD
                        break
                    }
                    lastError = errno
                    Glibc.close(socketFD)
                } else {
                    lastError = errno
                }
                candidate = info.pointee.ai_next
            }
            guard connected >= 0 else { throw HTTPClientConnection.failure(lastError) }
            fd = connected
        }
    }

    /// Closes the connection.
    func close() { Glibc.close(fd) }

    /// The descriptor, for polling.
    var descriptor: Int32 { fd }

    // MARK: - Requests

    /// Sends a request.
    func send(method: String, path: String, host: String, headers: [(String, String)], body: [UInt8]) throws(SupervisorClientError) {
        var text = "\(method) \(path) HTTP/1.1\r\nHost: \(host)\r\n"
        for (name, value) in headers { text += "\(name): \(value)\r\n" }
        if method == "POST" { text += "Content-Length: \(body.count)\r\n" }
        text += "\r\n"
        try writeAll(Array(text.utf8) + body)
    }

    private func writeAll(_ bytes: [UInt8]) throws(SupervisorClientError) {
        var offset = 0
        while offset < bytes.count {
            let n = bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress! + offset, $0.count - offset, Int32(MSG_NOSIGNAL)) }
            if n < 0 {
                if errno == EINTR { continue }
                throw HTTPClientConnection.failure(errno)
            }
            offset += n
        }
    }

    // MARK: - Responses

    /// Reads the status line and headers.
    mutating func readHead() throws(SupervisorClientError) -> ResponseHead {
        let statusLine = try readLine()
        let parts = statusLine.split(separator: " ", maxSplits: 2, omittingEmptySubsequences: true)
        guard parts.count >= 2, parts[0].hasPrefix("HTTP/"), let status = Int(parts[1]) else {
            throw .malformed("bad status line: \(statusLine)")
        }
        var head = ResponseHead(status: status, reason: parts.count > 2 ? String(parts[2]) : "", headers: [])
        while true {
            let line = try readLine()
            if line.isEmpty { break }
            guard let colon = line.firstIndex(of: ":") else { continue }
            let name = line[..<colon].lowercased()
            let value = String(line[line.index(after: colon)...]).trimmingASCIIWhitespace()
            head.headers.append((name, value))
        }
        return head
    }

    /// Reads a whole body: by Content-Length, chunked, or until the server closes.
    mutating func readBody(_ head: ResponseHead) throws(SupervisorClientError) -> [UInt8] {
        var body: [UInt8] = []
        try readBody(head) { chunk in
            body += chunk
            return true
        }
        return body
    }

    /// Reads a body piece by piece, handing each to `sink` until it returns false or the body ends.
    /// - Parameters:
    ///   - head: The response's head.
    ///   - shouldStop: Asked between reads (every 0.1 s at least); true ends reading.
    ///   - sink: Takes each piece; returns whether to go on.
    mutating func readBody(
        _ head: ResponseHead, shouldStop: () -> Bool = { false }, sink: ([UInt8]) -> Bool
    ) throws(SupervisorClientError) {
        do {
            try readPieces(head, shouldStop: shouldStop, sink: sink)
        } catch {
            if stopped { return }
            throw error
        }
    }

    private mutating func readPieces(
        _ head: ResponseHead, shouldStop: () -> Bool, sink: ([UInt8]) -> Bool
    ) throws(SupervisorClientError) {
        if head.header("transfer-encoding")?.lowercased() == "chunked" {
            while true {
                let sizeLine = try readLine(shouldStop: shouldStop)
                let hex = sizeLine.split(separator: ";").first.map { String($0).trimmingASCIIWhitespace() } ?? ""
                guard let size = Int(hex, radix: 16) else { throw .malformed("bad chunk size: \(sizeLine)") }
                if size == 0 {
                    while try !readLine(shouldStop: shouldStop).isEmpty {}
                    return
                }
                let chunk = try readExactly(size, shouldStop: shouldStop)
                _ = try readLine(shouldStop: shouldStop)
                if !sink(chunk) { return }
            }
        }
        if let lengthText = head.header("content-length"), let length = Int(lengthText) {
            _ = sink(try readExactly(length, shouldStop: shouldStop))
            return
        }
        while true {
            if !buffer.isEmpty {
                let piece = buffer
                buffer.removeAll()
                if !sink(piece) { return }
            }
            guard try fill(shouldStop: shouldStop) else { return }
        }
    }

    private mutating func readLine(shouldStop: () -> Bool = { false }) throws(SupervisorClientError) -> String {
        while true {
            if let newline = buffer.firstIndex(of: UInt8(ascii: "\n")) {
                var line = Array(buffer[..<newline])
                buffer.removeFirst(newline + 1)
                if line.last == UInt8(ascii: "\r") { line.removeLast() }
                return String(decoding: line, as: UTF8.self)
            }
            guard try fill(shouldStop: shouldStop) else { throw .malformed("the connection closed in the middle of a response") }
        }
    }

    private mutating func readExactly(_ count: Int, shouldStop: () -> Bool) throws(SupervisorClientError) -> [UInt8] {
        while buffer.count < count {
            guard try fill(shouldStop: shouldStop) else { throw .malformed("the connection closed in the middle of a response") }
        }
        let bytes = Array(buffer[..<count])
        buffer.removeFirst(count)
        return bytes
    }

    /// Reads more bytes; false at the end of the stream or when `shouldStop` says so.
    private mutating func fill(shouldStop: () -> Bool) throws(SupervisorClientError) -> Bool {
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            if shouldStop() {
                stopped = true
                return false
            }
            var entry = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            let ready = poll(&entry, 1, 100)
            if ready < 0 {
                if errno == EINTR { continue }
                throw HTTPClientConnection.failure(errno)
            }
            if ready == 0 { continue }
            let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n < 0 {
                if errno == EINTR || errno == EAGAIN { continue }
                throw HTTPClientConnection.failure(errno)
            }
            if n == 0 { return false }
            buffer += chunk[0..<n]
            return true
        }
    }

    static func failure(_ code: Int32) -> SupervisorClientError {
        .connection(errno: code, message: String(cString: strerror(code)))
    }
}
