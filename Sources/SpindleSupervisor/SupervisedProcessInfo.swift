#if canImport(Glibc)
import Glibc
#endif

/// What supervisord's `getProcessInfo` reports about a process, under supervisor's field names.
public struct SupervisedProcessInfo: Sendable, Hashable {
    /// The process name.
    public var name: String
    /// The group name.
    public var group: String
    /// When the process was last started (seconds since the epoch), 0 if never.
    public var start: Int
    /// When the process last ended (seconds since the epoch), 0 if never.
    public var stop: Int
    /// The time of the query (seconds since the epoch).
    public var now: Int
    /// The state.
    public var state: ProcessState
    /// The state's name, such as `RUNNING`.
    public var statename: String { state.name }
    /// Why the last start failed, or "".
    public var spawnerr: String
    /// The last exit status, 0 if none.
    public var exitstatus: Int
    /// The standard output log (supervisor's alias of `stdout_logfile`).
    public var logfile: String { stdout_logfile }
    /// The standard output log file, or "".
    public var stdout_logfile: String
    /// The standard error log file, or "".
    public var stderr_logfile: String
    /// The process id, 0 when there is no process.
    public var pid: Int32
    /// Supervisor's one-line description: `pid 1234, uptime 0:01:02` when RUNNING, the spawn
    /// error in BACKOFF and FATAL, the stop time (`Nov 25 02:42 PM`) or `Not started` in STOPPED
    /// and EXITED, and "" otherwise.
    public var description: String

    /// Creates the record; `description` is derived as supervisor's `_interpretProcessInfo` does.
    /// - Parameters:
    ///   - name: The process name.
    ///   - group: The group name.
    ///   - start: The start time.
    ///   - stop: The stop time.
    ///   - now: The query time.
    ///   - state: The state.
    ///   - spawnerr: The spawn error.
    ///   - exitstatus: The exit status.
    ///   - stdoutLogfile: The standard output log.
    ///   - stderrLogfile: The standard error log.
    ///   - pid: The process id.
    public init(
        name: String, group: String, start: Int, stop: Int, now: Int, state: ProcessState, spawnerr: String,
        exitstatus: Int, stdoutLogfile: String, stderrLogfile: String, pid: Int32
    ) {
        self.name = name
        self.group = group
        self.start = start
        self.stop = stop
        self.now = now
        self.state = state
        self.spawnerr = spawnerr
        self.exitstatus = exitstatus
        self.stdout_logfile = stdoutLogfile
        self.stderr_logfile = stderrLogfile
        self.pid = pid
        self.description = ""
        self.description = SupervisedProcessInfo.describe(self)
    }

    static func describe(_ info: SupervisedProcessInfo) -> String {
        switch info.state {
        case .running:
            return "pid \(info.pid), uptime \(uptime(max(0, info.now - info.start)))"
        case .fatal, .backoff:
            return info.spawnerr.isEmpty ? "unknown error (try \"tail \(info.name)\")" : info.spawnerr
        case .stopped, .exited:
            return info.start == 0 ? "Not started" : localTime(info.stop)
        default:
            return ""
        }
    }

    /// Python's `str(timedelta)`: `0:01:02`, `1 day, 2:03:04`, `3 days, 0:00:05`.
    static func uptime(_ seconds: Int) -> String {
        let days = seconds / 86400
        let rest = seconds % 86400
        let clock = "\(rest / 3600):" + pad2((rest % 3600) / 60) + ":" + pad2(rest % 60)
        if days == 0 { return clock }
        return "\(days) day\(days == 1 ? "" : "s"), " + clock
    }

    private static func pad2(_ n: Int) -> String { n < 10 ? "0\(n)" : "\(n)" }

    /// `strftime('%b %d %I:%M %p')` of a time in local time.
    static func localTime(_ seconds: Int) -> String {
        var time = time_t(seconds)
        var parts = tm()
        localtime_r(&time, &parts)
        var buffer = [Int8](repeating: 0, count: 64)
        let n = strftime(&buffer, buffer.count, "%b %d %I:%M %p", &parts)
        return String(decoding: buffer[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
