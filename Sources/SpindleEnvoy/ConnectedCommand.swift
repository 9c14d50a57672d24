import Glibc
import SpindleSubprocess
import SpindleSystem

/// A running command to talk to (envoy's `ConnectedCommand`): write to its standard input,
/// read its output, wait for it or kill it.
public final class ConnectedCommand: Sendable {
    /// The process.
    public let process: Popen

    init(process: Popen) { self.process = process }

    /// The command's process id.
    public var pid: Int32 { process.pid }

    /// The exit status once `block()` (or a poll) saw the command end.
    public var statusCode: Int32? { process.poll() }

    /// The command's standard output.
    public var stdout: PipeReader { process.stdout! }

    /// The command's standard error.
    public var stderr: PipeReader { process.stderr! }

    /// Writes `text` and then `end` to the command's standard input (envoy's `send`).
    /// - Parameters:
    ///   - text: The text.
    ///   - end: Written after the text; a newline by default.
    /// - Throws: `SystemError` (`EPIPE` when the command no longer reads).
    public func send(_ text: String, end: String = "\n") throws(SystemError) {
        try process.stdin!.write(Array((text + end).utf8))
    }

    /// Writes bytes to the command's standard input.
    /// - Parameter bytes: The bytes.
    /// - Throws: `SystemError`.
    public func send(bytes: [UInt8]) throws(SystemError) {
        try process.stdin!.write(bytes)
    }

    /// Closes the command's standard input, so it sees end of file.
    public func closeInput() { process.stdin!.close() }

    /// Waits for the command to end (envoy's `block`).
    /// - Parameter timeout: Seconds to wait at most.
    /// - Returns: The exit status.
    /// - Throws: `TimeoutExpired` when it still runs at the timeout.
    @discardableResult
    public func block(timeout: Double? = nil) throws(TimeoutExpired) -> Int32 {
        try process.wait(timeout: timeout)
    }

    /// Kills the command (SIGKILL).
    public func kill() { process.kill() }
}
