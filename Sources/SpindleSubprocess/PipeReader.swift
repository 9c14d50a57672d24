import Glibc
import SpindleSystem
import SpindleThreading

/// The parent's end of a pipe from a child's standard output or error (Python's `Popen.stdout`).
public final class PipeReader: @unchecked Sendable {
    private let lock = Lock()
    private var fd: Int32
    /// Bytes read past a line end by `readLine`, handed out first by every read.
    private var pending: [UInt8] = []

    init(fd: Int32) { self.fd = fd }

    deinit { if fd >= 0 { try? closeDescriptor(fd) } }

    /// The descriptor, or -1 once closed.
    public var fileDescriptor: Int32 { lock.withLock { fd } }

    /// Whether `close()` has been called.
    public var isClosed: Bool { fileDescriptor < 0 }

    /// Reads up to `count` bytes, waiting until some are there.
    /// - Parameter count: The most bytes to return.
    /// - Returns: The bytes; empty at end of file.
    /// - Throws: `SystemError`.
    public func read(upTo count: Int = 65536) throws(SystemError) -> [UInt8] {
        let early = lock.withLock { () -> [UInt8]? in
            guard !pending.isEmpty else { return nil }
            let n = Swift.min(count, pending.count)
            defer { pending.removeFirst(n) }
            return Array(pending.prefix(n))
        }
        if let early { return early }
        let fd = fileDescriptor
        guard fd >= 0 else { throw SystemError(call: "read", errno: EBADF, subject: "closed pipe") }
        var buffer = [UInt8](repeating: 0, count: Swift.max(1, count))
        while true {
            let n = buffer.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if n >= 0 {
                buffer.removeSubrange(n...)
                return buffer
            }
            if errno == EINTR { continue }
            if errno == EAGAIN {
                var entry = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
                _ = Glibc.poll(&entry, 1, -1)
                continue
            }
            throw SystemError(call: "read", errno: errno, subject: "pipe")
        }
    }

    /// Reads until end of file.
    /// - Returns: Everything the child writes from now on.
    /// - Throws: `SystemError`.
    public func readAll() throws(SystemError) -> [UInt8] {
        var all: [UInt8] = []
        while true {
            let chunk = try read(upTo: 65536)
            if chunk.isEmpty { return all }
            all.append(contentsOf: chunk)
        }
    }

    /// Reads one line, including its "\n" (the last line of the output may lack it).
    /// - Returns: The line, or `nil` at end of file.
    /// - Throws: `SystemError`.
    public func readLine() throws(SystemError) -> String? {
        var line: [UInt8] = []
        while true {
            let chunk = try read(upTo: 4096)
            if chunk.isEmpty {
                return line.isEmpty ? nil : String(decoding: line, as: UTF8.self)
            }
            if let newline = chunk.firstIndex(of: UInt8(ascii: "\n")) {
                line.append(contentsOf: chunk[...newline])
                let rest = chunk[(newline + 1)...]
                if !rest.isEmpty { lock.withLock { pending.insert(contentsOf: rest, at: 0) } }
                return String(decoding: line, as: UTF8.self)
            }
            line.append(contentsOf: chunk)
        }
    }

    /// Closes the pipe. Closing twice is harmless.
    public func close() {
        let old = detach()
        if old >= 0 { try? closeDescriptor(old) }
    }

    /// Takes the descriptor away for another owner (the caller closes it).
    func detach() -> Int32 {
        lock.withLock {
            defer { fd = -1 }
            return fd
        }
    }

    /// Bytes buffered by `readLine` and not yet handed out; they come before the pipe's.
    func takePending() -> [UInt8] {
        lock.withLock {
            defer { pending.removeAll() }
            return pending
        }
    }
}
