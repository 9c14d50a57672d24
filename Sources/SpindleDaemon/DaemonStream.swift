/// Where a daemon's standard input, output or error goes (python-daemon's `stdin`, `stdout` and
/// `stderr` options).
///
/// A path is opened by `DaemonContext.open()` before its first step, with the caller's working
/// directory, root directory and privileges, as python-daemon's callers open their files before
/// `open()`: so a relative path is relative to where the program started, and a file outside a
/// `chrootDirectory` can still be written. Standard input is opened for reading; standard output
/// and error are opened for appending and created (mode 0666 less the caller's umask) when missing.
public enum DaemonStream: Sendable, Hashable, ExpressibleByStringLiteral, CustomStringConvertible {
    /// The null device, `/dev/null` (python-daemon's `None`, the default).
    case null
    /// The file at a path.
    case path(String)
    /// A descriptor the caller has open; it is kept open by the close-files step.
    case descriptor(Int32)

    /// A path, from a string literal: `stdout: "/var/log/worker.log"`.
    /// - Parameter value: The path.
    public init(stringLiteral value: String) {
        self = .path(value)
    }

    /// The target as a person reads it: "/dev/null", the path, or "fd N".
    public var description: String {
        switch self {
        case .null: return "/dev/null"
        case .path(let path): return path
        case .descriptor(let fd): return "fd \(fd)"
        }
    }
}
