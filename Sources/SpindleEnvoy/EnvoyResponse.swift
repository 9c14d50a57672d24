/// What running a command with envoy produced (envoy's `Response`).
public struct EnvoyResponse: Sendable, Equatable {
    /// The command's words.
    public let command: [String]
    /// Its exit status; minus the signal number when a signal ended it.
    public let statusCode: Int32
    /// Its standard output. For an earlier stage of a pipeline this is empty: that output went
    /// straight into the next stage.
    public let stdout: [UInt8]
    /// Its standard error.
    public let stderr: [UInt8]
    /// The responses of the pipeline's earlier stages, first to last.
    public let history: [EnvoyResponse]
    /// Whether the pipeline was ended by its timeout.
    public let timedOut: Bool

    /// Creates a response.
    /// - Parameters:
    ///   - command: The command's words.
    ///   - statusCode: The exit status.
    ///   - stdout: The standard output.
    ///   - stderr: The standard error.
    ///   - history: The earlier stages' responses.
    ///   - timedOut: Whether the timeout ended it.
    public init(
        command: [String], statusCode: Int32, stdout: [UInt8], stderr: [UInt8], history: [EnvoyResponse] = [],
        timedOut: Bool = false
    ) {
        self.command = command
        self.statusCode = statusCode
        self.stdout = stdout
        self.stderr = stderr
        self.history = history
        self.timedOut = timedOut
    }

    /// The standard output decoded as UTF-8.
    public var stdoutText: String { String(decoding: stdout, as: UTF8.self) }

    /// The standard error decoded as UTF-8.
    public var stderrText: String { String(decoding: stderr, as: UTF8.self) }
}
