/// The health check of one process, without processes: events go in, actions come out (the
/// shape of `ProcessStateMachine`).
///
/// `processRunning` arms a check at once; each check's end (`checkFinished`) arms the next one
/// `interval` seconds later, so nothing runs between checks but one timer. A check still
/// running at `timeout` is killed (`tick` returns `.killCheck`) and fails when it ends.
/// `retries` failures in a row make the process unhealthy: `.restartProcess` is returned once,
/// and no check runs until the process is RUNNING again.
public struct HealthCheckMachine: Sendable {
    /// Something the driver must do.
    public enum Action: Sendable, Hashable {
        /// Start the check command, then report `checkFinished` when it ends (or could not start).
        case runCheck
        /// Kill the running check (its process group), which then ends as a failure.
        case killCheck
        /// Call `tick` at this time (replacing any timer armed before).
        case scheduleTimer(at: Double)
        /// No timer is needed any more.
        case cancelTimer
        /// The health status changed.
        case statusChanged(from: HealthStatus, to: HealthStatus)
        /// Stop the process and start it again (it became unhealthy).
        case restartProcess
        /// A line for supervisord's log.
        case log(LogLevel, String)
    }

    /// The process name, for log messages.
    public let name: String
    /// The check's options.
    public let config: HealthCheckConfig
    /// The health.
    public private(set) var status = HealthStatus.inactive
    /// Failed checks in a row.
    public private(set) var failures = 0
    /// Whether a check is running (it may outlive the process's RUNNING state until killed).
    public private(set) var checking = false
    /// When the next check is due, or when the running one times out; `nil` when none.
    public private(set) var deadline: Double?
    /// How the last check ended, empty before the first.
    public private(set) var lastResult = ""
    /// Whether the running check was killed for taking too long.
    private var timedOut = false
    /// Whether checks run (the process is RUNNING and not yet found unhealthy).
    private var active = false
    /// Whether the running check belongs to an earlier run of the process (it was killed when
    /// the process left RUNNING): its result counts for nothing.
    private var stale = false

    /// Creates a machine for a process that is not running.
    /// - Parameters:
    ///   - name: The process name.
    ///   - config: The check's options.
    public init(name: String, config: HealthCheckConfig) {
        self.name = name
        self.config = config
    }

    /// The process entered RUNNING: status `starting`, first check due now.
    /// - Parameter now: The time.
    /// - Returns: The status change and the timer.
    public mutating func processRunning(now: Double) -> [Action] {
        active = true
        failures = 0
        var actions = change(to: .starting)
        deadline = checking ? nil : now
        if let deadline { actions.append(.scheduleTimer(at: deadline)) }
        return actions
    }

    /// The process left RUNNING: checks stop; a running one is killed. An unhealthy status is
    /// kept until the process runs again.
    /// - Returns: The actions.
    public mutating func processStopped() -> [Action] {
        active = false
        deadline = nil
        var actions: [Action] = [.cancelTimer]
        if checking {
            stale = true
            actions.append(.killCheck)
        }
        if status != .unhealthy { actions += change(to: .inactive) }
        return actions
    }

    /// A timer came due: starts a check, or kills one that ran past `timeout`.
    /// - Parameter now: The time.
    /// - Returns: The actions.
    public mutating func tick(now: Double) -> [Action] {
        guard let due = deadline, now >= due else { return [] }
        if checking {
            timedOut = true
            deadline = nil
            return [.log(.warn, "health check of \(name) timed out after \(Self.seconds(config.timeout)) s; killing it"), .killCheck]
        }
        guard active else {
            deadline = nil
            return []
        }
        checking = true
        timedOut = false
        let limit = now + config.timeout
        deadline = limit
        // The timer first: a check that cannot start reports at once and arms the next one.
        return [.scheduleTimer(at: limit), .runCheck]
    }

    /// The check ended.
    /// - Parameters:
    ///   - exitStatus: Its exit status (negative: killed by that signal), or `nil` when it
    ///     could not be started.
    ///   - problem: Why it could not be started, when `exitStatus` is `nil`.
    ///   - output: What it wrote, for the log.
    ///   - now: The time.
    /// - Returns: The status change, log lines, the next timer or `.restartProcess`.
    public mutating func checkFinished(exitStatus: Int?, problem: String = "", output: String = "", now: Double) -> [Action] {
        guard checking else { return [] }
        checking = false
        if stale {
            stale = false
            timedOut = false
            guard active else { return [] }
            deadline = now
            return [.scheduleTimer(at: now)]
        }
        let killed = timedOut
        timedOut = false
        if killed {
            lastResult = "timed out after \(Self.seconds(config.timeout)) s"
        } else if let exitStatus {
            lastResult = exitStatus == 0 ? "passed" : exitStatus < 0 ? "killed by signal \(-exitStatus)" : "exit status \(exitStatus)"
        } else {
            lastResult = problem
        }
        guard active else {
            deadline = nil
            return []
        }
        var actions: [Action] = []
        if exitStatus == 0, !killed {
            failures = 0
            if status != .healthy {
                actions.append(.log(.info, "healthy: \(name) passed its health check"))
                actions += change(to: .healthy)
            }
        } else {
            failures += 1
            let detail = output.isEmpty ? lastResult : "\(lastResult): \(output)"
            actions.append(.log(.info, "health check of \(name) failed (\(failures) of \(config.retries)): \(detail)"))
            if failures >= config.retries {
                active = false
                deadline = nil
                actions += change(to: .unhealthy)
                actions.append(.log(.warn, "unhealthy: \(name) failed \(failures) health checks in a row (last: \(lastResult)); restarting it"))
                actions.append(.cancelTimer)
                actions.append(.restartProcess)
                return actions
            }
        }
        let next = now + config.interval
        deadline = next
        actions.append(.scheduleTimer(at: next))
        return actions
    }

    private mutating func change(to newStatus: HealthStatus) -> [Action] {
        let old = status
        guard old != newStatus else { return [] }
        status = newStatus
        return [.statusChanged(from: old, to: newStatus)]
    }

    /// `2`, or `0.5`: seconds as written in the file.
    static func seconds(_ value: Double) -> String {
        value == value.rounded() && abs(value) < 1e15 ? String(Int(value)) : String(value)
    }
}
