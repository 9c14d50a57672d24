#if canImport(Glibc)
import Glibc
#endif

/// Supervisor's process state machine (`supervisor.process.Subprocess`), without processes:
/// events go in, actions come out.
///
/// The machine never spawns, signals or waits itself. Each input (`start`, `spawned`,
/// `exited`, `stop`, `tick`...) changes its state and returns what its driver must do: spawn the
/// process, send a signal, arm a timer, log. Times are seconds on any monotonic clock the
/// driver chooses; the driver calls `tick(now:mayStart:)` when a timer it was asked to arm comes
/// due and after every other input, as supervisord's main loop calls `transition()`.
///
/// The rules are supervisor's: a process is RUNNING once it has stayed up `startsecs`; an
/// exit before that is BACKOFF, retried after 1 s, 2 s, 3 s... until `startretries` retries have
/// failed, then FATAL; an exit from RUNNING is EXITED, restarted as `autorestart` says against
/// `exitcodes`; a stop sends `stopsignal` (to the group with `stopasgroup`) and SIGKILL (to the
/// group with `killasgroup`) when the process is still there `stopwaitsecs` later.
public struct ProcessStateMachine: Sendable {
    /// The options the machine follows, taken from a `ProcessConfig`.
    public struct Policy: Sendable, Hashable {
        /// The process name, for log messages.
        public var name: String
        /// `autostart`.
        public var autostart: Bool
        /// `autorestart`.
        public var autorestart: AutoRestart
        /// `startsecs`.
        public var startsecs: Int
        /// `startretries` (-1: forever).
        public var startretries: Int
        /// `backoff_max`, when set.
        public var backoffMax: Int?
        /// `exitcodes`.
        public var exitcodes: [Int]
        /// `stopsignal`.
        public var stopsignal: Int32
        /// `stopwaitsecs`.
        public var stopwaitsecs: Int
        /// `stopasgroup`.
        public var stopasgroup: Bool
        /// `killasgroup`.
        public var killasgroup: Bool

        /// The policy of a process configuration.
        /// - Parameter config: The configuration.
        public init(_ config: ProcessConfig) {
            name = config.name
            autostart = config.autostart
            autorestart = config.autorestart
            startsecs = config.startsecs
            startretries = config.startretries
            backoffMax = config.backoffMax
            exitcodes = config.exitcodes
            stopsignal = config.stopsignal
            stopwaitsecs = config.stopwaitsecs
            stopasgroup = config.stopasgroup
            killasgroup = config.killasgroup
        }
    }

    /// Something the driver must do.
    public enum Action: Sendable, Hashable {
        /// Start the process, then report `spawned(pid:now:)` or `spawnFailed(_:now:)`.
        case spawn
        /// Send a signal meant to end the process, to its whole process group when `processGroup`.
        case kill(signal: Int32, processGroup: Bool)
        /// Send a signal to the process alone (`signalProcess`).
        case signal(Int32)
        /// Call `tick` at this time (replacing any timer armed before).
        case scheduleTimer(at: Double)
        /// No timer is needed any more.
        case cancelTimer
        /// The state changed; `expected` is false for an unexpected exit.
        case transition(from: ProcessState, to: ProcessState, expected: Bool)
        /// A line for supervisord's log.
        case log(LogLevel, String)
    }

    /// The options followed.
    public var policy: Policy
    /// The state.
    public private(set) var state: ProcessState = .stopped
    /// The process id while there is a process, else 0.
    public private(set) var pid: Int32 = 0
    /// Failed starts in a row (supervisor's `backoff`).
    public private(set) var backoff = 0
    /// When the pending timer is due (supervisor's `delay`), or `nil`.
    public private(set) var deadline: Double?
    /// Whether a stop is under way (supervisor's `killing`).
    public private(set) var killing = false
    /// Whether the last stop was requested (not the supervisor's own doing).
    public private(set) var administrativeStop = false
    /// Whether the supervisor gave up on the process (FATAL) or stopped it itself.
    public private(set) var systemStop = false
    /// When the process was last started, or `nil` if never.
    public private(set) var lastStart: Double?
    /// When the process last ended, or `nil` if never.
    public private(set) var lastStop: Double?
    /// Why the last start failed, or `nil`.
    public private(set) var spawnerr: String?
    /// The last exit status (the code, or -1 for a signal), or `nil`.
    public private(set) var exitstatus: Int?

    /// Creates a machine in STOPPED, never started.
    /// - Parameter policy: The options to follow.
    public init(policy: Policy) {
        self.policy = policy
    }

    // MARK: - Inputs

    /// Starts the process (supervisor's `spawn()`): STOPPED, EXITED, FATAL or BACKOFF → STARTING.
    /// - Parameter now: The time.
    /// - Returns: `.spawn` and the transition; nothing when the state does not allow a start.
    public mutating func start(now: Double) -> [Action] {
        guard pid == 0, [.stopped, .exited, .fatal, .backoff].contains(state) else { return [] }
        killing = false
        spawnerr = nil
        exitstatus = nil
        systemStop = false
        administrativeStop = false
        lastStart = now
        var actions = change(to: .starting)
        actions.append(.spawn)
        return actions
    }

    /// The process the `.spawn` action asked for is running.
    /// - Parameters:
    ///   - pid: Its process id.
    ///   - now: The time.
    /// - Returns: A timer for the end of `startsecs`, and a log line.
    public mutating func spawned(pid: Int32, now: Double) -> [Action] {
        guard state == .starting, self.pid == 0 else { return [] }
        self.pid = pid
        spawnerr = nil
        let due = (lastStart ?? now) + Double(policy.startsecs)
        deadline = due
        return [.log(.info, "spawned: '\(policy.name)' with pid \(pid)"), .scheduleTimer(at: due)]
    }

    /// The process the `.spawn` action asked for could not be started: STARTING → BACKOFF.
    /// - Parameters:
    ///   - message: Why (supervisor's `spawnerr`, such as "can't find command 'x'").
    ///   - now: The time.
    /// - Returns: The transition, a log line and the retry timer.
    public mutating func spawnFailed(_ message: String, now: Double) -> [Action] {
        guard state == .starting, pid == 0 else { return [] }
        spawnerr = message
        var actions: [Action] = [.log(.info, "spawnerr: \(message)")]
        actions += change(to: .backoff, now: now)
        return actions
    }

    /// The process ended (supervisor's `finish()`).
    /// - Parameters:
    ///   - status: How it ended.
    ///   - now: The time.
    /// - Returns: The transition (STOPPING → STOPPED, STARTING → BACKOFF, or RUNNING → EXITED)
    ///   and a log line.
    public mutating func exited(_ status: ProcessExitStatus, now: Double) -> [Action] {
        guard pid != 0 else { return [] }
        lastStop = now
        let tooQuickly = now - (lastStart ?? now) < Double(policy.startsecs)
        let expected = policy.exitcodes.contains(status.code)
        var actions: [Action] = []
        if killing {
            killing = false
            deadline = nil
            exitstatus = status.code
            actions += change(to: .stopped)
            actions.append(.log(expected ? .info : .warn, "stopped: \(policy.name) (\(status))"))
            actions.append(.cancelTimer)
        } else if tooQuickly, state == .starting {
            exitstatus = nil
            spawnerr = "Exited too quickly (process log may have details)"
            actions += change(to: .backoff, now: now)
            actions.append(.log(.warn, "exited: \(policy.name) (\(status); not expected)"))
        } else {
            deadline = nil
            backoff = 0
            exitstatus = status.code
            if state == .starting { actions += change(to: .running) }
            if expected {
                actions += change(to: .exited, expected: true)
                actions.append(.log(.info, "exited: \(policy.name) (\(status); expected)"))
            } else {
                spawnerr = "Bad exit code \(status.code)"
                actions += change(to: .exited, expected: false)
                actions.append(.log(.warn, "exited: \(policy.name) (\(status); not expected)"))
            }
            actions.append(.cancelTimer)
        }
        pid = 0
        return actions
    }

    /// A requested stop (supervisor's `stop()`): sends `stopsignal`.
    /// - Parameter now: The time.
    /// - Returns: As `kill(signal:now:)`.
    public mutating func stop(now: Double) -> (actions: [Action], error: String?) {
        administrativeStop = true
        return kill(signal: policy.stopsignal, now: now)
    }

    /// Sends a signal meant to end the process (supervisor's `kill()`): BACKOFF → STOPPED at
    /// once; RUNNING or STARTING → STOPPING, with a timer for SIGKILL `stopwaitsecs` later.
    /// - Parameters:
    ///   - signal: The signal.
    ///   - now: The time.
    /// - Returns: The actions, and a message when there is no process to signal.
    public mutating func kill(signal: Int32, now: Double) -> (actions: [Action], error: String?) {
        if state == .backoff {
            deadline = nil
            var actions: [Action] = [.log(.debug, "Attempted to kill \(policy.name), which is in BACKOFF state.")]
            actions += change(to: .stopped)
            actions.append(.cancelTimer)
            return (actions, nil)
        }
        guard pid != 0 else {
            let message = "attempted to kill \(policy.name) with sig \(SignalNames.name(signal)) but it wasn't running"
            return ([.log(.debug, message)], message)
        }
        guard [.running, .starting, .stopping].contains(state) else {
            let message = "attempted to kill \(policy.name) in state \(state.name)"
            return ([.log(.debug, message)], message)
        }
        let asGroup = state == .stopping ? policy.killasgroup : policy.stopasgroup
        killing = true
        let due = now + Double(policy.stopwaitsecs)
        deadline = due
        var actions: [Action] = [
            .log(.debug, "killing \(policy.name) (pid \(pid)) \(asGroup ? "process group " : "")with signal \(SignalNames.name(signal))")
        ]
        actions += change(to: .stopping)
        actions.append(.kill(signal: signal, processGroup: asGroup))
        actions.append(.scheduleTimer(at: due))
        return (actions, nil)
    }

    /// Sends a signal that is not meant to end the process (supervisor's `signal()`).
    /// - Parameter signal: The signal.
    /// - Returns: The `.signal` action, and a message when the process cannot be signalled.
    public mutating func signal(_ signal: Int32) -> (actions: [Action], error: String?) {
        guard pid != 0, state.isSignallable else {
            let message = "attempted to send \(policy.name) sig \(SignalNames.name(signal)) but it wasn't running"
            return ([.log(.debug, message)], message)
        }
        return ([.log(.debug, "sending \(policy.name) (pid \(pid)) sig \(SignalNames.name(signal))"), .signal(signal)], nil)
    }

    /// A signal could not be delivered for a reason other than the process having just
    /// exited: the state becomes UNKNOWN.
    /// - Parameter message: What went wrong.
    /// - Returns: The transition and a log line.
    public mutating func signalFailed(_ message: String) -> [Action] {
        killing = false
        deadline = nil
        var actions: [Action] = [.log(.critical, message)]
        actions += change(to: .unknown)
        actions.append(.cancelTimer)
        return actions
    }

    /// Gives up on a process in BACKOFF (supervisor's `give_up()`): BACKOFF → FATAL.
    /// - Returns: The transition.
    public mutating func giveUp() -> [Action] {
        guard state == .backoff else { return [] }
        deadline = nil
        backoff = 0
        systemStop = true
        var actions = change(to: .fatal)
        actions.append(.cancelTimer)
        return actions
    }

    /// Makes the transitions that are due (supervisor's `transition()`): autostart, autorestart,
    /// a BACKOFF retry, STARTING → RUNNING after `startsecs`, BACKOFF → FATAL after
    /// `startretries`, SIGKILL after `stopwaitsecs`.
    /// - Parameters:
    ///   - now: The time.
    ///   - mayStart: Whether the supervisor may start processes (false while it shuts down).
    /// - Returns: The actions.
    public mutating func tick(now: Double, mayStart: Bool) -> [Action] {
        var actions: [Action] = []
        let original = state
        if mayStart {
            switch state {
            case .exited:
                switch policy.autorestart {
                case .always: actions += start(now: now)
                case .unexpected where !policy.exitcodes.contains(exitstatus ?? -1): actions += start(now: now)
                default: break
                }
            case .stopped where lastStart == nil:
                if policy.autostart { actions += start(now: now) }
            case .backoff:
                if policy.startretries < 0 || backoff <= policy.startretries, let deadline, now >= deadline { actions += start(now: now) }
            default: break
            }
        }
        if original == .starting, state == .starting, pid != 0, now - (lastStart ?? now) >= Double(policy.startsecs) {
            deadline = nil
            backoff = 0
            actions += change(to: .running)
            actions.append(.cancelTimer)
            actions.append(
                .log(.info, "success: \(policy.name) entered RUNNING state, process has stayed up for > than \(policy.startsecs) seconds (startsecs)"))
        }
        if state == .backoff, policy.startretries >= 0, backoff > policy.startretries {
            actions += giveUp()
            actions.append(.log(.info, "gave up: \(policy.name) entered FATAL state, too many start retries too quickly"))
        } else if original == .stopping, state == .stopping, let deadline, now >= deadline {
            actions.append(.log(.warn, "killing '\(policy.name)' (\(pid)) with SIGKILL"))
            actions += kill(signal: SIGKILL, now: now).actions
        }
        return actions
    }

    // MARK: - Helpers

    /// Seconds before start attempt `attempt` + 1: supervisor's 1, 2, 3… (capped by
    /// `backoff_max` when set), or with `startretries=-1` 1, 2, 4, 8… up to `backoff_max` (60 s
    /// when not set).
    /// - Parameters:
    ///   - attempt: Failed starts in a row so far (at least 1).
    ///   - policy: The process's options.
    /// - Returns: The delay.
    public static func retryDelay(attempt: Int, policy: Policy) -> Double {
        if policy.startretries < 0 {
            let cap = Double(policy.backoffMax ?? 60)
            return min(cap, Double(1 << min(max(attempt - 1, 0), 30)))
        }
        let linear = Double(attempt)
        return policy.backoffMax.map { min(linear, Double($0)) } ?? linear
    }

    private mutating func change(to newState: ProcessState, expected: Bool = true, now: Double? = nil) -> [Action] {
        let old = state
        guard newState != old else { return [] }
        state = newState
        var actions: [Action] = [.transition(from: old, to: newState, expected: expected)]
        if newState == .backoff, let now {
            backoff += 1
            let due = now + Self.retryDelay(attempt: backoff, policy: policy)
            deadline = due
            actions.append(.scheduleTimer(at: due))
        }
        return actions
    }
}
