/// One process's health (`Supervisor.health(of:)`, XML-RPC `supervisor.getProcessHealth`).
public struct ProcessHealth: Sendable, Hashable {
    /// The process name.
    public var name: String
    /// Its group.
    public var group: String
    /// The health.
    public var status: HealthStatus
    /// Failed checks in a row.
    public var failures: Int
    /// When the last check ended (seconds since the epoch), 0 if none has.
    public var lastCheck: Int
    /// How the last check ended: `passed`, `exit status N`, `timed out after N s`, or why it
    /// could not run; empty if none has.
    public var lastResult: String
    /// What the last check wrote (standard output and error, the last 1 KB, trailing
    /// whitespace removed).
    public var lastOutput: String

    /// Creates a health report.
    /// - Parameters:
    ///   - name: The process name.
    ///   - group: The group name.
    ///   - status: The health.
    ///   - failures: Failed checks in a row.
    ///   - lastCheck: When the last check ended, seconds since the epoch (0: never).
    ///   - lastResult: How it ended.
    ///   - lastOutput: What it wrote.
    public init(name: String, group: String, status: HealthStatus, failures: Int = 0, lastCheck: Int = 0, lastResult: String = "", lastOutput: String = "") {
        self.name = name
        self.group = group
        self.status = status
        self.failures = failures
        self.lastCheck = lastCheck
        self.lastResult = lastResult
        self.lastOutput = lastOutput
    }
}
