/// How one output channel of a process is logged: the `stdout_*` or `stderr_*` options.
public struct LogChannelConfig: Sendable, Hashable {
    /// `*_logfile`: where the output goes (default `AUTO`).
    public var logfile: LogFileSetting
    /// `*_logfile_maxbytes`: the size at which the file is rotated; 0 never rotates (default 50MB).
    public var maxbytes: Int
    /// `*_logfile_backups`: how many rotated files (`name.1` ... `name.N`) are kept (default 10).
    public var backups: Int
    /// `*_capture_maxbytes`: the buffer for process communication events (default 0).
    public var captureMaxbytes: Int
    /// `*_events_enabled`: whether output raises log events (default false).
    public var eventsEnabled: Bool
    /// `*_syslog`: whether output also goes to syslog, tagged with the process name (default false).
    public var syslog: Bool
    /// `*_forward` (spindled's): whether output also goes to spindled's own standard output
    /// (stdout) or standard error (stderr), each line prefixed by the process name (default false).
    public var forward: Bool
    /// `*_logfile_compress` (spindled's): whether rotated files are gzipped, as `name.1.gz` ...
    /// `name.N.gz` (default false).
    public var compress: Bool = false

    /// Creates a channel configuration; the defaults are supervisor's.
    /// - Parameters:
    ///   - logfile: Where the output goes.
    ///   - maxbytes: The rotation size, 0 for none.
    ///   - backups: The rotated files kept.
    ///   - captureMaxbytes: The capture buffer size.
    ///   - eventsEnabled: Whether output raises events.
    ///   - syslog: Whether output also goes to syslog.
    ///   - forward: Whether output also goes to spindled's own stream.
    public init(
        logfile: LogFileSetting = .automatic, maxbytes: Int = 50 * 1024 * 1024, backups: Int = 10,
        captureMaxbytes: Int = 0, eventsEnabled: Bool = false, syslog: Bool = false, forward: Bool = false
    ) {
        self.logfile = logfile
        self.maxbytes = maxbytes
        self.backups = backups
        self.captureMaxbytes = captureMaxbytes
        self.eventsEnabled = eventsEnabled
        self.syslog = syslog
        self.forward = forward
    }
}
