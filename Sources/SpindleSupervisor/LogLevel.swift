/// Supervisor's log levels, with its numbers (`loglevel` in `[supervisord]`).
public enum LogLevel: Int, Sendable, Hashable, CaseIterable, Comparable {
    /// Messages that probably require immediate attention.
    case critical = 50
    /// Errors that may be ignorable.
    case error = 40
    /// Issues that are not errors.
    case warn = 30
    /// Normal information.
    case info = 20
    /// Detail for users debugging a configuration.
    case debug = 10
    /// Detail for developers debugging plugins.
    case trace = 5
    /// Detail for developers debugging the supervisor itself.
    case blather = 3

    /// The name as written in a configuration file (`critical`, `error`, `warn`, ...).
    public var configName: String {
        switch self {
        case .critical: "critical"
        case .error: "error"
        case .warn: "warn"
        case .info: "info"
        case .debug: "debug"
        case .trace: "trace"
        case .blather: "blather"
        }
    }

    /// The four-letter name supervisord writes in its log (`CRIT`, `ERRO`, `WARN`, `INFO`, ...).
    public var logName: String {
        switch self {
        case .critical: "CRIT"
        case .error: "ERRO"
        case .warn: "WARN"
        case .info: "INFO"
        case .debug: "DEBG"
        case .trace: "TRAC"
        case .blather: "BLAT"
        }
    }

    /// Parses a configuration name, in any case.
    /// - Parameter configName: `critical`, `error`, `warn`, `info`, `debug`, `trace` or `blather`.
    public init?(configName: String) {
        let lowered = configName.lowercased()
        guard let level = LogLevel.allCases.first(where: { $0.configName == lowered }) else { return nil }
        self = level
    }

    /// Orders levels by their numbers (`blather` lowest, `critical` highest).
    public static func < (lhs: LogLevel, rhs: LogLevel) -> Bool { lhs.rawValue < rhs.rawValue }
}
