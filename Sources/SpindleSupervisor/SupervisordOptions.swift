/// The `[supervisord]` section: options of the supervisor process itself.
public struct SupervisordOptions: Sendable, Hashable {
    /// `logfile`: the activity log; default `supervisord.log` (relative to the working directory).
    public var logfile: String
    /// `logfile_maxbytes`; default 50MB.
    public var logfileMaxbytes: Int
    /// `logfile_backups`; default 10.
    public var logfileBackups: Int
    /// `loglevel`; default info.
    public var loglevel: LogLevel
    /// `pidfile`; default `supervisord.pid`.
    public var pidfile: String
    /// `umask`; default 022.
    public var umask: UInt32
    /// `nodaemon`: stay in the foreground; default false.
    public var nodaemon: Bool
    /// `silent`: no log on standard output in the foreground; default false.
    public var silent: Bool
    /// `minfds`: descriptors that must be available; default 1024.
    public var minfds: Int
    /// `minprocs`: processes that must be available; default 200.
    public var minprocs: Int
    /// `nocleanup`: keep old AUTO child logs at start; default false.
    public var nocleanup: Bool
    /// `childlogdir`: where AUTO child logs go; default the temporary directory.
    public var childlogdir: String
    /// `user`: the user to switch to.
    public var user: String?
    /// `directory`: the directory to change to when daemonizing.
    public var directory: String?
    /// `strip_ansi`: remove ANSI escapes from child logs; default false.
    public var stripANSI: Bool
    /// `environment`: variables for every child (and `%(ENV_X)s`).
    public var environment: [String: String]
    /// `identifier`: the RPC identifier; default `supervisor`.
    public var identifier: String

    /// Creates the options with supervisord's defaults.
    /// - Parameter childlogdir: The temporary directory.
    public init(childlogdir: String = "/tmp") {
        logfile = "supervisord.log"
        logfileMaxbytes = 50 * 1024 * 1024
        logfileBackups = 10
        loglevel = .info
        pidfile = "supervisord.pid"
        umask = 0o022
        nodaemon = false
        silent = false
        minfds = 1024
        minprocs = 200
        nocleanup = false
        self.childlogdir = childlogdir
        user = nil
        directory = nil
        stripANSI = false
        environment = [:]
        identifier = "supervisor"
    }
}
