/// Where a process channel's output is logged (`stdout_logfile`, `stderr_logfile`).
public enum LogFileSetting: Sendable, Hashable {
    /// `AUTO`: a file in `childlogdir` that supervisord names and removes at its next start.
    case automatic
    /// `NONE` (or `OFF`): the output is read and thrown away.
    case none
    /// A file.
    case path(String)

    /// The file, for `.path`.
    public var path: String? {
        if case .path(let path) = self { return path }
        return nil
    }
}
