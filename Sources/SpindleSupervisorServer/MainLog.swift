#if canImport(Glibc)
import Glibc
#endif
import SpindleSupervisor
import SpindleSystem

/// supervisord's activity log: lines of `2024-05-01 12:00:00,123 INFO message` at or above a
/// level, into a file rotated at a size (`logfile_maxbytes`, `logfile_backups`), or into
/// syslog when the file is `syslog`, and also on standard output when asked (supervisord
/// echoes its log there when it runs in the foreground and is not `silent`).
public final class MainLog: Sendable {
    /// The log file, or `nil` when the log goes to syslog.
    public let path: String?
    /// The lowest level written.
    public let level: LogLevel
    private let file: Locked<RotatingLogFile?>
    private let echo: Bool
    private let maxBytes: Int
    private let backups: Int

    /// Opens the log.
    /// - Parameters:
    ///   - path: The file (appended to, created when missing), or `syslog`.
    ///   - level: The lowest level written.
    ///   - maxBytes: The size at which the file is rotated; 0 never rotates.
    ///   - backups: The rotated files kept.
    ///   - echo: Also write each line to standard output.
    /// - Throws: `SystemError` when the file cannot be opened.
    public init(path: String, level: LogLevel, maxBytes: Int, backups: Int, echo: Bool) throws(SystemError) {
        self.level = level
        self.echo = echo
        self.maxBytes = maxBytes
        self.backups = backups
        if path == "syslog" {
            self.path = nil
            file = Locked(nil)
            openlog("supervisord", LOG_PID, LOG_USER)
        } else {
            self.path = path
            file = Locked(try RotatingLogFile(path: path, maxBytes: maxBytes, backups: backups))
        }
    }

    /// Writes a message, when `level` is at or above the log's level.
    /// - Parameters:
    ///   - level: The message's level.
    ///   - message: The message (it may span lines).
    public func log(_ level: LogLevel, _ message: String) {
        guard level >= self.level else { return }
        let line = MainLog.timestamp() + " " + level.logName + " " + message + "\n"
        if let file = file.withLock({ $0 }) {
            file.write(Array(line.utf8))
        } else if path == nil {
            let text = level.logName + " " + message
            text.withCString { cText in withVaList([cText]) { vsyslog(MainLog.syslogPriority(level), "%s", $0) } }
        }
        if echo {
            let bytes = Array(line.utf8)
            var offset = 0
            while offset < bytes.count {
                let n = bytes.withUnsafeBytes { write(1, $0.baseAddress! + offset, $0.count - offset) }
                if n < 0, errno == EINTR { continue }
                if n <= 0 { break }
                offset += n
            }
        }
    }

    /// Closes and opens the file again, to follow a file moved away by a log rotator.
    public func reopen() {
        guard let path else { return }
        file.withLock { current in
            current?.close()
            current = try? RotatingLogFile(path: path, maxBytes: maxBytes, backups: backups)
        }
    }

    /// Deletes the file and starts an empty one (supervisor's `clearLog`).
    /// - Throws: `SystemError` when the file cannot be removed.
    public func clear() throws(SystemError) {
        guard let path else { return }
        if unlink(path) != 0 { throw SystemError(call: "unlink", errno: errno, subject: path) }
        log(.info, "reopening log file")
        reopen()
    }

    /// Writes what is pending and closes the file; later messages only go to standard output.
    public func close() {
        file.withLock { current in
            current?.close()
            current = nil
        }
    }

    /// The local time as supervisor's logger writes it: `2024-05-01 12:00:00,123`.
    static func timestamp() -> String {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        var seconds = now.tv_sec
        var parts = tm()
        localtime_r(&seconds, &parts)
        var buffer = [Int8](repeating: 0, count: 32)
        let n = strftime(&buffer, buffer.count, "%Y-%m-%d %H:%M:%S", &parts)
        let millis = Int(now.tv_nsec / 1_000_000)
        let padded = millis < 10 ? "00\(millis)" : millis < 100 ? "0\(millis)" : "\(millis)"
        return String(decoding: buffer[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self) + "," + padded
    }

    static func syslogPriority(_ level: LogLevel) -> Int32 {
        switch level {
        case .critical: LOG_CRIT
        case .error: LOG_ERR
        case .warn: LOG_WARNING
        case .info: LOG_INFO
        default: LOG_DEBUG
        }
    }
}
