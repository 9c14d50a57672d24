#if canImport(Glibc)
import Glibc
#endif

/// One process a `[program:x]` section describes (a section with `numprocs=N` describes N).
///
/// Every property carries the option of the same supervisor name and its default.
public struct ProcessConfig: Sendable, Hashable {
    /// The process name: `process_name` expanded (by default the program name).
    public var name: String
    /// The `x` of `[program:x]`.
    public var programName: String
    /// The group the process belongs to: the program's own, or the `[group:y]` naming it.
    public var groupName: String
    /// `%(process_num)`: this process's number among the program's `numprocs`.
    public var processNumber: Int
    /// `command`: the command line, split like a shell (`shlex`) when the process starts.
    public var command: String
    /// `directory`: the working directory to change to before exec.
    public var directory: String?
    /// `umask`: the process's umask (octal in the file).
    public var umask: UInt32?
    /// `priority`: start order (low first) and stop order (high first); default 999.
    public var priority: Int
    /// `autostart`: start when supervisord starts; default true.
    public var autostart: Bool
    /// `autorestart`: when an exited process is started again; default `unexpected`.
    public var autorestart: AutoRestart
    /// `startsecs`: seconds the process must stay up to count as started (RUNNING); default 1.
    public var startsecs: Int
    /// `startretries`: failed starts tolerated in a row before FATAL; default 3. spindled's
    /// `-1` retries forever, the delay doubling from 1 s up to `backoffMax`.
    public var startretries: Int
    /// `backoff_max` (spindled's): the longest wait between two start attempts, in seconds;
    /// `nil` (not set) keeps supervisor's 1 s, 2 s, 3 s… uncapped, and caps the doubling delays
    /// of `startretries=-1` at 60 s.
    public var backoffMax: Int?
    /// `user`: the user to run as (a name or a numeric id), as written.
    public var user: String?
    /// The user's id, resolved while parsing.
    public var uid: UInt32?
    /// The `stdout_*` options.
    public var stdout: LogChannelConfig
    /// The `stderr_*` options (`logfile` is `.none` when `redirectStderr`).
    public var stderr: LogChannelConfig
    /// `stopsignal`: the signal a stop sends first; default SIGTERM.
    public var stopsignal: Int32
    /// `stopwaitsecs`: seconds to wait after `stopsignal` before SIGKILL; default 10.
    public var stopwaitsecs: Int
    /// `stopasgroup`: send the stop signal to the whole process group; default false.
    public var stopasgroup: Bool
    /// `killasgroup`: send SIGKILL to the whole process group; default `stopasgroup`.
    public var killasgroup: Bool
    /// `exitcodes`: the exit codes that are expected; default [0].
    public var exitcodes: [Int]
    /// `redirect_stderr`: send standard error into the standard output log; default false.
    public var redirectStderr: Bool
    /// `environment`, merged over `[supervisord]`'s: variables added to the inherited environment.
    public var environment: [String: String]
    /// `serverurl`: passed as SUPERVISOR_SERVER_URL; `nil` means AUTO (the supervisord's own).
    public var serverurl: String?
    /// `depends_on` (spindled's): the processes this one starts after, as `group:process`
    /// names, resolved from the program names, `group:process` and `group:*` the file lists.
    /// The process starts only once each is RUNNING (and healthy, when it has a health check),
    /// and stops before them.
    public var dependsOn: [String]
    /// The `healthcheck_*` options (spindled's), when `healthcheck_command` is set.
    public var healthcheck: HealthCheckConfig?
    /// `killtree` (spindled's): when the main process has exited or been stopped, its leftover
    /// descendants (its cgroup, or what carries its cookie or session) get `stopsignal`, then
    /// SIGKILL after `stopwaitsecs`; default true. False leaves them running, as supervisord does.
    public var killtree: Bool = true

    /// Creates a process configuration with supervisor's defaults.
    /// - Parameters:
    ///   - name: The process name.
    ///   - command: The command line.
    ///   - groupName: The group; by default the process name.
    public init(name: String, command: String, groupName: String? = nil) {
        self.name = name
        self.programName = name
        self.groupName = groupName ?? name
        self.processNumber = 0
        self.command = command
        self.directory = nil
        self.umask = nil
        self.priority = 999
        self.autostart = true
        self.autorestart = .unexpected
        self.startsecs = 1
        self.startretries = 3
        self.backoffMax = nil
        self.user = nil
        self.uid = nil
        self.stdout = LogChannelConfig()
        self.stderr = LogChannelConfig()
        self.stopsignal = SIGTERM
        self.stopwaitsecs = 10
        self.stopasgroup = false
        self.killasgroup = false
        self.exitcodes = [0]
        self.redirectStderr = false
        self.environment = [:]
        self.serverurl = nil
        self.dependsOn = []
        self.healthcheck = nil
    }

    /// The options of one channel.
    /// - Parameter channel: The channel.
    /// - Returns: `stdout` or `stderr`.
    public func logging(_ channel: LogChannel) -> LogChannelConfig {
        channel == .stdout ? stdout : stderr
    }
}
