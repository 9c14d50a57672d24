#if canImport(Glibc)
import Glibc
#endif
import SpindleSupervisor

/// Reading log files the way supervisor's `readFile` does, and small file queries.
enum LogFiles {
    /// Whether something exists at `path`.
    static func exists(_ path: String) -> Bool { access(path, F_OK) == 0 }

    /// supervisor's `readFile`: `length` bytes from `offset` (0: to the end), or with a negative
    /// `offset` the last `-offset` bytes (then `length` must be 0).
    /// - Throws: `SupervisorFault.badArguments` for a bad combination, `.failed` when the file
    ///   cannot be read.
    static func read(_ path: String, offset: Int, length: Int) throws(SupervisorFault) -> [UInt8] {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw .failed() }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw .failed() }
        let size = Int(info.st_size)
        var start: Int
        var count: Int
        if offset < 0 {
            if length != 0 { throw .badArguments() }
            start = max(0, size + offset)
            count = -offset
        } else {
            if length < 0 { throw .badArguments() }
            start = offset
            count = length == 0 ? Int.max : length
        }
        start = min(start, size)
        count = min(count, size - start)
        return readBytes(fd, at: start, count: count)
    }

    /// Up to `count` bytes of an open file from `start`.
    static func readBytes(_ fd: Int32, at start: Int, count: Int) -> [UInt8] {
        guard count > 0 else { return [] }
        var bytes = [UInt8](repeating: 0, count: count)
        var done = 0
        while done < count {
            let n = bytes.withUnsafeMutableBytes { pread(fd, $0.baseAddress! + done, count - done, off_t(start + done)) }
            if n < 0, errno == EINTR { continue }
            if n <= 0 { break }
            done += n
        }
        return Array(bytes[0..<done])
    }
}
