import CSpindle
import Glibc
import SpindleSystem
import SpindleThreading

/// The parent's end of a pipe into a child's standard input (Python's `Popen.stdin`).
///
/// Writing to a child that has exited throws `SystemError` with `EPIPE`; it never raises
/// SIGPIPE in the parent.
public final class PipeWriter: @unchecked Sendable {
    private let lock = Lock()
    private var fd: Int32

    init(fd: Int32) { self.fd = fd }

    deinit { if fd >= 0 { try? closeDescriptor(fd) } }

    /// The descriptor, or -1 once closed.
    public var fileDescriptor: Int32 { lock.withLock { fd } }

    /// Whether `close()` has been called.
    public var isClosed: Bool { fileDescriptor < 0 }

    /// Writes all of `bytes`, blocking while the pipe is full.
    /// - Parameter bytes: The bytes.
    /// - Throws: `SystemError` (`EPIPE` when the child closed its end, `EBADF` after `close()`).
    public func write(_ bytes: some Collection<UInt8>) throws(SystemError) {
        let fd = fileDescriptor
        guard fd >= 0 else { throw SystemError(call: "write", errno: EBADF, subject: "closed stdin pipe") }
        let buffer = Array(bytes)
        var offset = 0
        while offset < buffer.count {
            let n = buffer.withUnsafeBytes { raw in
                spindle_write_nosigpipe(fd, raw.baseAddress! + offset, raw.count - offset)
            }
            if n < 0 {
                if errno == EAGAIN { waitWritable(fd); continue }
                throw SystemError(call: "write", errno: errno, subject: "stdin pipe")
            }
            offset += n
        }
    }

    /// Writes `text` as UTF-8.
    /// - Parameter text: The text.
    /// - Throws: As `write(_:)`.
    public func write(_ text: String) throws(SystemError) {
        try write(Array(text.utf8))
    }

    /// Closes the pipe; the child sees end of file. Closing twice is harmless.
    public func close() {
        let old = lock.withLock { () -> Int32 in
            defer { fd = -1 }
            return fd
        }
        if old >= 0 { try? closeDescriptor(old) }
    }

    /// Takes the descriptor away for another owner (the caller closes it).
    func detach() -> Int32 {
        lock.withLock {
            defer { fd = -1 }
            return fd
        }
    }

    private func waitWritable(_ fd: Int32) {
        var entry = pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)
        _ = Glibc.poll(&entry, 1, -1)
    }
}
