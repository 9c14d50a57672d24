/// The state of the supervisor process itself (supervisor's `SupervisorStates`), as
/// `supervisor.getState` reports it.
public enum SupervisordState: Int, Sendable, Hashable, CaseIterable {
    /// Something went badly wrong.
    case fatal = 2
    /// Serving and supervising.
    case running = 1
    /// Stopping every process, to start again with the configuration read anew.
    case restarting = 0
    /// Stopping every process, to exit.
    case shutdown = -1

    /// Supervisor's name for the state: `RUNNING`, `SHUTDOWN`...
    public var name: String {
        switch self {
        case .fatal: "FATAL"
        case .running: "RUNNING"
        case .restarting: "RESTARTING"
        case .shutdown: "SHUTDOWN"
        }
    }
}
