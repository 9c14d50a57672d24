import SpindleSubprocess

/// One supervised process: its configuration, state machine, child and logs. Guarded by the
/// owning `Supervisor`'s lock, except the `ProcessOutput` objects, which guard themselves.
final class ManagedProcess: @unchecked Sendable {
    let group: String
    let config: ProcessConfig
    var machine: ProcessStateMachine
    /// The log file of each channel, AUTO resolved to a file in `childlogdir`.
    let logPaths: [LogChannel: String]
    /// Where each channel's output goes; made at the first spawn and kept across restarts.
    var outputs: [LogChannel: ProcessOutput] = [:]
    /// The child while there is one.
    var popen: Popen?
    /// When the state machine wants `tick` called.
    var timerDue: Double?
    /// Wall-clock start and stop times (seconds since the epoch), 0 if never.
    var wallStart: Double = 0
    var wallStop: Double = 0
    /// Counts spawns, so that a monitor reports only for its own child.
    var generation = 0
    /// The thread watching the current child.
    var monitor: ProcessMonitor?
    /// The health check, when the program has one (see Supervisor+Health.swift).
    let health: HealthCheck?
    /// A start was asked for while a dependency was not ready: it runs once they all are
    /// (see Supervisor+Dependencies.swift).
    var waitingForDependencies = false
    /// Why the last deferred start was given up (a dependency cannot come up), or `nil`.
    var dependencyBlock: String?
    /// An unhealthy process is being stopped, to be started again once it has stopped.
    var restartAfterStop = false
    /// The current child's process tree (`killtree`), ended when the child has exited.
    var tree: ProcessTree?

    init(group: String, config: ProcessConfig, logPaths: [LogChannel: String]) {
        self.group = group
        self.config = config
        self.machine = ProcessStateMachine(policy: .init(config))
        self.logPaths = logPaths
        self.health = config.healthcheck.map { HealthCheck(machine: HealthCheckMachine(name: config.name, config: $0)) }
    }
}
