/// An error a worker function threw in another process, as the parent receives it.
///
/// Swift errors are not Codable in general, so what crosses the process boundary is the error's
/// type name and description (Python sends the exception itself, with its traceback text).
public struct RemoteError: Error, Equatable, Hashable, Codable, Sendable, CustomStringConvertible {
    /// The worker function that threw.
    public let function: String
    /// The type of the error, as `String(reflecting:)` names it in the worker.
    public let type: String
    /// The error's description (`String(describing:)`) in the worker.
    public let message: String
    /// The worker process's pid.
    public let pid: Int32

    /// Creates the error.
    /// - Parameters:
    ///   - function: The worker function's name.
    ///   - type: The error's type name.
    ///   - message: The error's description.
    ///   - pid: The worker's pid.
    public init(function: String, type: String, message: String, pid: Int32) {
        self.function = function
        self.type = type
        self.message = message
        self.pid = pid
    }

    /// Describes `error`, thrown by `function` in this process, for the parent.
    init(function: String, error: any Error, pid: Int32) {
        self.init(function: function, type: String(reflecting: Swift.type(of: error)), message: String(describing: error), pid: pid)
    }

    public var description: String {
        "worker function '\(function)' (pid \(pid)) threw \(type): \(message)"
    }
}
