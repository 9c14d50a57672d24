/// The states of a supervised process, with supervisor's numeric codes and names.
public enum ProcessState: Int, Sendable, Hashable, CaseIterable, CustomStringConvertible {
    /// Stopped by request, or never started.
    case stopped = 0
    /// Started, not yet up for `startsecs`.
    case starting = 10
    /// Up for longer than `startsecs`.
    case running = 20
    /// Exited too quickly; waiting to retry.
    case backoff = 30
    /// Sent its stop signal; waiting for it to exit.
    case stopping = 40
    /// Exited from RUNNING (expectedly or not).
    case exited = 100
    /// Failed to start `startretries` times in a row; not retried.
    case fatal = 200
    /// Signalling it failed in a way that leaves its state unknown.
    case unknown = 1000

    /// Supervisor's name for the state (`RUNNING`, `BACKOFF`...): `statename` in process info.
    public var name: String {
        switch self {
        case .stopped: "STOPPED"
        case .starting: "STARTING"
        case .running: "RUNNING"
        case .backoff: "BACKOFF"
        case .stopping: "STOPPING"
        case .exited: "EXITED"
        case .fatal: "FATAL"
        case .unknown: "UNKNOWN"
        }
    }

    /// The state's name.
    public var description: String { name }

    /// Whether the state is one of supervisor's STOPPED_STATES (STOPPED, EXITED, FATAL, UNKNOWN).
    public var isStopped: Bool { [.stopped, .exited, .fatal, .unknown].contains(self) }

    /// Whether the state is one of supervisor's RUNNING_STATES (RUNNING, BACKOFF, STARTING).
    public var isRunning: Bool { [.running, .backoff, .starting].contains(self) }

    /// Whether the state is one of supervisor's SIGNALLABLE_STATES (RUNNING, STARTING, STOPPING).
    public var isSignallable: Bool { [.running, .starting, .stopping].contains(self) }

    /// The state whose code or name is given.
    /// - Parameter name: A name such as `RUNNING`.
    public init?(name: String) {
        guard let state = ProcessState.allCases.first(where: { $0.name == name }) else { return nil }
        self = state
    }
}
