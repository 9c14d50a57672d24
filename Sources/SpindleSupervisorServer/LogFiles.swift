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
        try Supervisor.readFile(path, offset: offset, length: length)
    }

    /// Up to `count` bytes of an open file from `start`.
    static func readBytes(_ fd: Int32, at start: Int, count: Int) -> [UInt8] {
        Supervisor.readBytes(fd, at: start, count: count)
    }
}
