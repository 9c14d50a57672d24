/// A request the supervisor refused, with supervisor's XML-RPC fault code and text
/// (`supervisor.xmlrpc.Faults`).
///
/// `text` is what supervisord puts in the fault string, such as `BAD_NAME: foo`.
public enum SupervisorFault: Error, Sendable, Hashable, CustomStringConvertible {
    /// UNKNOWN_METHOD (1).
    case unknownMethod(String? = nil)
    /// INCORRECT_PARAMETERS (2).
    case incorrectParameters(String? = nil)
    /// BAD_ARGUMENTS (3).
    case badArguments(String? = nil)
    /// SIGNATURE_UNSUPPORTED (4).
    case signatureUnsupported(String? = nil)
    /// SHUTDOWN_STATE (6): the supervisor is shutting down.
    case shutdownState(String? = nil)
    /// BAD_NAME (10): no such process or group.
    case badName(String)
    /// BAD_SIGNAL (11): not a signal name or number.
    case badSignal(String)
    /// NO_FILE (20): the program or log file does not exist, or stdin is closed.
    case noFile(String?)
    /// NOT_EXECUTABLE (21): the command cannot be parsed or executed.
    case notExecutable(String)
    /// FAILED (30).
    case failed(String? = nil)
    /// ABNORMAL_TERMINATION (40): the process stopped while being started.
    case abnormalTermination(String)
    /// SPAWN_ERROR (50): the process could not be started, or exited too quickly.
    case spawnError(String)
    /// ALREADY_STARTED (60).
    case alreadyStarted(String)
    /// NOT_RUNNING (70).
    case notRunning(String)
    /// SUCCESS (80): the status of a successful item in a group result.
    case success
    /// ALREADY_ADDED (90).
    case alreadyAdded(String)
    /// STILL_RUNNING (91): a group with running processes cannot be removed.
    case stillRunning(String)
    /// CANT_REREAD (92): the configuration could not be read again.
    case cantReread(String)

    /// Supervisor's numeric fault code.
    public var code: Int {
        switch self {
        case .unknownMethod: 1
        case .incorrectParameters: 2
        case .badArguments: 3
        case .signatureUnsupported: 4
        case .shutdownState: 6
        case .badName: 10
        case .badSignal: 11
        case .noFile: 20
        case .notExecutable: 21
        case .failed: 30
        case .abnormalTermination: 40
        case .spawnError: 50
        case .alreadyStarted: 60
        case .notRunning: 70
        case .success: 80
        case .alreadyAdded: 90
        case .stillRunning: 91
        case .cantReread: 92
        }
    }

    /// Supervisor's fault name, such as `BAD_NAME`.
    public var name: String {
        switch self {
        case .unknownMethod: "UNKNOWN_METHOD"
        case .incorrectParameters: "INCORRECT_PARAMETERS"
        case .badArguments: "BAD_ARGUMENTS"
        case .signatureUnsupported: "SIGNATURE_UNSUPPORTED"
        case .shutdownState: "SHUTDOWN_STATE"
        case .badName: "BAD_NAME"
        case .badSignal: "BAD_SIGNAL"
        case .noFile: "NO_FILE"
        case .notExecutable: "NOT_EXECUTABLE"
        case .failed: "FAILED"
        case .abnormalTermination: "ABNORMAL_TERMINATION"
        case .spawnError: "SPAWN_ERROR"
        case .alreadyStarted: "ALREADY_STARTED"
        case .notRunning: "NOT_RUNNING"
        case .success: "SUCCESS"
        case .alreadyAdded: "ALREADY_ADDED"
        case .stillRunning: "STILL_RUNNING"
        case .cantReread: "CANT_REREAD"
        }
    }

    /// The detail after the name, when there is one.
    public var extra: String? {
        switch self {
        case .unknownMethod(let s), .incorrectParameters(let s), .badArguments(let s), .signatureUnsupported(let s),
            .shutdownState(let s), .noFile(let s), .failed(let s):
            s
        case .badName(let s), .badSignal(let s), .notExecutable(let s), .abnormalTermination(let s),
            .spawnError(let s), .alreadyStarted(let s), .notRunning(let s), .alreadyAdded(let s), .stillRunning(let s),
            .cantReread(let s):
            s
        case .success: nil
        }
    }

    /// The fault string: the name, then `: ` and the detail when there is one (`BAD_NAME: foo`).
    public var text: String { extra.map { "\(name): \($0)" } ?? name }

    /// The fault string (`text`).
    public var description: String { text }
}
