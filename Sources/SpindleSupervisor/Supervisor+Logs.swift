#if canImport(Glibc)
import Glibc
#endif

extension Supervisor {
    /// The log file of a process's channel, or `nil` when it has none; the lock is held.
    func logPath(_ name: String, channel: LogChannel) throws(SupervisorFault) -> String? {
        try requireProcess(name).logPaths[channel]
    }

    /// `readProcessStdoutLog` / `readProcessStderrLog`: bytes of a process's current log file.
    ///
    /// A non-negative `offset` reads `length` bytes from there (`length` 0: to the end); a
    /// negative `offset` reads the last `-offset` bytes (then `length` must be 0).
    /// - Parameters:
    ///   - name: The process.
    ///   - channel: Standard output or standard error.
    ///   - offset: Where to start.
    ///   - length: How many bytes.
    /// - Returns: The bytes, as UTF-8 text (invalid sequences replaced).
    /// - Throws: `SupervisorFault`: `.badName`, `.noFile` (no log file), `.badArguments`, `.failed`.
    public func readLog(name: String, channel: LogChannel = .stdout, offset: Int, length: Int) throws(SupervisorFault) -> String {
        let path = try lock.withLock { () throws(SupervisorFault) in try logPath(name, channel: channel) }
        guard let path, FileSystem.exists(path) else { throw .noFile(path) }
        return String(decoding: try Supervisor.readFile(path, offset: offset, length: length), as: UTF8.self)
    }

    /// `tailProcessStdoutLog` / `tailProcessStderrLog`: the end of a process's log, for following it.
    ///
    /// Asks for `length` bytes from `offset`. When the log has grown past `offset + length`,
    /// `overflow` is true and the last `length` bytes are returned instead; the returned
    /// `offset` is always the log's size, to pass to the next call.
    /// - Parameters:
    ///   - name: The process.
    ///   - channel: Standard output or standard error.
    ///   - offset: Where the caller's copy ends.
    ///   - length: The most bytes to return.
    /// - Returns: The text, the next offset, and whether bytes were skipped.
    /// - Throws: `SupervisorFault.badName`.
    public func tailLog(
        name: String, channel: LogChannel = .stdout, offset: Int, length: Int
    ) throws(SupervisorFault) -> (text: String, offset: Int, overflow: Bool) {
        let path = try lock.withLock { () throws(SupervisorFault) in try logPath(name, channel: channel) }
        guard let path, FileSystem.exists(path) else { return ("", 0, false) }
        let tail = Supervisor.tailFile(path, offset: offset, length: length)
        return (String(decoding: tail.bytes, as: UTF8.self), tail.offset, tail.overflow)
    }

    /// `clearProcessLogs`: empties both log files of a process (the rotated backups stay).
    /// - Parameter name: The process.
    /// - Throws: `SupervisorFault.badName`, `.failed` when a file cannot be removed.
    public func clearLog(name: String) throws(SupervisorFault) {
        try lock.withLock { () throws(SupervisorFault) in
            try requireRunning()
            let process = try requireProcess(name)
            try clearLogs(of: process, name: name)
        }
    }

    func clearLogs(of process: ManagedProcess, name: String) throws(SupervisorFault) {
        for channel in LogChannel.allCases {
            if let file = process.outputs[channel]?.file {
                do { try file.clear() } catch { throw .failed(name) }
            } else if let path = process.logPaths[channel], unlink(path) != 0, errno != ENOENT {
                throw .failed(name)
            }
        }
    }

    /// `clearAllProcessLogs`: empties the logs of every process.
    /// - Returns: One result per process.
    /// - Throws: `SupervisorFault.shutdownState`.
    public func clearAllLogs() throws(SupervisorFault) -> [ProcessResult] {
        try lock.withLock { () throws(SupervisorFault) -> [ProcessResult] in
            try requireRunning()
            return allProcesses(lexical: false).map { process in
                do throws(SupervisorFault) {
                    try clearLogs(of: process, name: process.config.name)
                    return result(process, .success)
                } catch {
                    return result(process, error)
                }
            }
        }
    }

    /// Closes and opens again every process log file, to follow files a log rotator moved away
    /// (what supervisord does for each process on SIGUSR2).
    public func reopenLogs() {
        lock.withLock {
            for group in groups.values {
                for process in group.processes.values {
                    for output in process.outputs.values { try? output.file?.reopen() }
                }
            }
        }
    }

    /// supervisor's `readFile`.
    package static func readFile(_ path: String, offset: Int, length: Int) throws(SupervisorFault) -> [UInt8] {
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
            start = max(0, size - (-offset))
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

    /// supervisor's `tailFile`.
    static func tailFile(_ path: String, offset: Int, length: Int) -> (bytes: [UInt8], offset: Int, overflow: Bool) {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return ([], offset, false) }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else { return ([], offset, false) }
        let size = Int(info.st_size)
        var offset = offset
        var length = length
        var overflow = false
        if size > offset + length {
            overflow = true
            offset = size - 1
        }
        if offset + length > size {
            if offset > size - 1 { length = 0 }
            offset = size - length
        }
        offset = max(0, offset)
        length = max(0, length)
        let bytes = length == 0 ? [] : readBytes(fd, at: offset, count: length)
        return (bytes, size, overflow)
    }

    package static func readBytes(_ fd: Int32, at start: Int, count: Int) -> [UInt8] {
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
