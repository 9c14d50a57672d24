import SpindleSystem

/// A child that could not be started: the program is missing or not executable, the working
/// directory is bad, a credential could not be set (Python's `OSError` from `Popen`).
///
/// It is thrown in the parent, with the errno of the step that failed and the path involved;
/// Spindle never reports a spawn failure as a child that exits with 127.
public struct SpawnError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The step that failed: "exec", "chdir", "setuid", "setgid", "setgroups", "setsid",
    /// "setpgid", "descriptors", "close_fds", "signals", "fork", "pipe", "open", "user", "group", "cgroup".
    public let step: String
    /// The error number.
    public let errno: Int32
    /// The path the step was about (the program for "exec", the directory for "chdir", the
    /// file for "open"), or the name looked up.
    public let path: String?

    /// Creates the error.
    /// - Parameters:
    ///   - step: The step that failed.
    ///   - errno: The error number.
    ///   - path: The path or name involved.
    public init(step: String, errno: Int32, path: String?) {
        self.step = step
        self.errno = errno
        self.path = path
    }

    public var description: String {
        let text = errno == 0 ? "not found" : SystemError(call: step, errno: errno).message
        if let path { return "[Errno \(errno)] \(text): '\(path)' (\(step))" }
        return "[Errno \(errno)] \(text) (\(step))"
    }
}
