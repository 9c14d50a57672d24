/// A program's health check (spindled's `healthcheck_*` options of `[program:x]`).
///
/// While the process is RUNNING, `command` runs every `interval` seconds (counted from the end
/// of the previous check); exit status 0 passes, anything else fails, and a check still running
/// after `timeout` seconds is killed (its whole process group) and fails. After `retries`
/// failures in a row the process is unhealthy and spindled restarts it.
public struct HealthCheckConfig: Sendable, Hashable {
    /// `healthcheck_command`: the command, split like `command` (shlex) and found on the PATH.
    public var command: String
    /// `healthcheck_interval`: seconds between the end of one check and the start of the next; default 10.
    public var interval: Double
    /// `healthcheck_timeout`: seconds a check may run before it is killed and fails; default 5.
    public var timeout: Double
    /// `healthcheck_retries`: failed checks in a row that make the process unhealthy; default 3.
    public var retries: Int

    /// Creates a health check.
    /// - Parameters:
    ///   - command: The command line.
    ///   - interval: Seconds between checks.
    ///   - timeout: Seconds a check may take.
    ///   - retries: Failures in a row before the process is unhealthy.
    public init(command: String, interval: Double = 10, timeout: Double = 5, retries: Int = 3) {
        self.command = command
        self.interval = interval
        self.timeout = timeout
        self.retries = retries
    }
}
