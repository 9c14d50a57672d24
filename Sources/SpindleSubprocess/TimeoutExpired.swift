/// A child that did not finish in time (Python's `subprocess.TimeoutExpired`), with the output
/// it had produced by then.
public struct TimeoutExpired: Error, Equatable, Sendable, CustomStringConvertible {
    /// The command.
    public let cmd: [String]
    /// The timeout, in seconds.
    public let timeout: Double
    /// The standard output read so far, if it was captured.
    public let output: [UInt8]?
    /// The standard error read so far, if it was captured.
    public let stderr: [UInt8]?

    /// Creates the error.
    /// - Parameters:
    ///   - cmd: The command.
    ///   - timeout: The timeout.
    ///   - output: The partial standard output.
    ///   - stderr: The partial standard error.
    public init(cmd: [String], timeout: Double, output: [UInt8]? = nil, stderr: [UInt8]? = nil) {
        self.cmd = cmd
        self.timeout = timeout
        self.output = output
        self.stderr = stderr
    }

    public var description: String {
        "Command '\(cmd.joined(separator: " "))' timed out after \(timeout) seconds"
    }
}
