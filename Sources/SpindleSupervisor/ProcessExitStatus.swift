/// How a child ended, as `waitpid` reports it.
public enum ProcessExitStatus: Sendable, Hashable, CustomStringConvertible {
    /// It called exit with this code.
    case exited(Int)
    /// A signal ended it.
    case signaled(Int32, coreDumped: Bool)

    /// From a `Popen.returncode`: the exit code, or minus the signal number.
    /// - Parameter returncode: The code.
    public init(returncode: Int32) {
        self = returncode >= 0 ? .exited(Int(returncode)) : .signaled(-returncode, coreDumped: false)
    }

    /// Supervisor's `exitstatus`: the exit code, or -1 when a signal ended the process.
    public var code: Int {
        if case .exited(let code) = self { return code }
        return -1
    }

    /// Supervisor's words for it: `exit status 3`, `terminated by SIGTERM`, `terminated by SIGSEGV (core dumped)`.
    public var description: String {
        switch self {
        case .exited(let code): return "exit status \(code)"
        case .signaled(let signal, let core): return "terminated by \(SignalNames.name(signal))" + (core ? " (core dumped)" : "")
        }
    }
}
