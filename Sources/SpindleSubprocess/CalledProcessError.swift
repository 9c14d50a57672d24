/// A child that exited with a non-zero status when success was required (`check: true`,
/// `checkCall`, `checkOutput`), as Python's `subprocess.CalledProcessError`.
public struct CalledProcessError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The exit status; minus the signal number when a signal ended the child.
    public let returncode: Int32
    /// The command.
    public let cmd: [String]
    /// Its captured standard output, if it was captured.
    public let output: [UInt8]?
    /// Its captured standard error, if it was captured.
    public let stderr: [UInt8]?

    /// Creates the error.
    /// - Parameters:
    ///   - returncode: The exit status.
    ///   - cmd: The command.
    ///   - output: The captured standard output.
    ///   - stderr: The captured standard error.
    public init(returncode: Int32, cmd: [String], output: [UInt8]? = nil, stderr: [UInt8]? = nil) {
        self.returncode = returncode
        self.cmd = cmd
        self.output = output
        self.stderr = stderr
    }

    public var description: String {
        if returncode < 0 {
            return "Command '\(cmd.joined(separator: " "))' died with signal \(-returncode)."
        }
        return "Command '\(cmd.joined(separator: " "))' returned non-zero exit status \(returncode)."
    }
}
