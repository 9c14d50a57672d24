/// A finished child, as `Subprocess.run` returns it (Python's `subprocess.CompletedProcess`).
public struct CompletedProcess: Sendable, Equatable {
    /// The command.
    public let args: [String]
    /// The exit status; minus the signal number when a signal ended the child.
    public let returncode: Int32
    /// The captured standard output, or `nil` when it was not captured.
    public let stdout: [UInt8]?
    /// The captured standard error, or `nil` when it was not captured.
    public let stderr: [UInt8]?

    /// Creates the value.
    /// - Parameters:
    ///   - args: The command.
    ///   - returncode: The exit status.
    ///   - stdout: The captured standard output.
    ///   - stderr: The captured standard error.
    public init(args: [String], returncode: Int32, stdout: [UInt8]? = nil, stderr: [UInt8]? = nil) {
        self.args = args
        self.returncode = returncode
        self.stdout = stdout
        self.stderr = stderr
    }

    /// The captured standard output decoded as UTF-8 (Python's `text=True`), or `nil`.
    public var stdoutText: String? { stdout.map { String(decoding: $0, as: UTF8.self) } }

    /// The captured standard error decoded as UTF-8, or `nil`.
    public var stderrText: String? { stderr.map { String(decoding: $0, as: UTF8.self) } }

    /// Throws when the child failed (Python's `check_returncode`).
    /// - Throws: `CalledProcessError` for a non-zero status.
    public func checkReturncode() throws(CalledProcessError) {
        if returncode != 0 {
            throw CalledProcessError(returncode: returncode, cmd: args, output: stdout, stderr: stderr)
        }
    }
}
