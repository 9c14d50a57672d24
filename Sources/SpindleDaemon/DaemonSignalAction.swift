/// What a daemon does on a signal: a value of `DaemonContext.signalMap` (python-daemon's
/// `signal_map` values `None`, `"terminate"`, `SIG_DFL` and a handler function).
public enum DaemonSignalAction: Sendable, Equatable, CustomStringConvertible {
    /// Ignore the signal (SIG_IGN; python-daemon's `None`).
    case ignore
    /// The signal's default action (SIG_DFL).
    case `default`
    /// End the daemon cleanly (python-daemon's `"terminate"`, `DaemonContext.terminate`): remove
    /// the pid file, as `DaemonContext.close()` does, then die of the signal, so whoever waits
    /// for the process sees which signal ended it. Only async-signal-safe work happens in the
    /// handler; a child the daemon forks inherits the handler but leaves the pid file alone.
    case terminate
    /// Run a C handler (installed with `SA_RESTART`). It runs in signal context: only
    /// async-signal-safe calls, such as `write(2)` or setting an atomic flag, are allowed in it.
    case handler(@convention(c) (Int32) -> Void)

    /// Whether two actions are the same; handlers are the same when they are the same function.
    /// - Parameters:
    ///   - lhs: An action.
    ///   - rhs: Another action.
    /// - Returns: Whether they are equal.
    public static func == (lhs: DaemonSignalAction, rhs: DaemonSignalAction) -> Bool {
        switch (lhs, rhs) {
        case (.ignore, .ignore), (.default, .default), (.terminate, .terminate):
            return true
        case (.handler(let a), .handler(let b)):
            return unsafeBitCast(a, to: UnsafeRawPointer.self) == unsafeBitCast(b, to: UnsafeRawPointer.self)
        default:
            return false
        }
    }

    /// The action's name: "ignore", "default", "terminate" or "handler".
    public var description: String {
        switch self {
        case .ignore: return "ignore"
        case .default: return "default"
        case .terminate: return "terminate"
        case .handler: return "handler"
        }
    }
}
