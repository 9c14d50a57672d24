/// Where a child's standard stream goes (Python's `None`, `PIPE`, `DEVNULL`, `STDOUT`, a file
/// or a descriptor).
public enum Redirect: Sendable, Equatable {
    /// The child shares the parent's stream (Python's `None`).
    case inherit
    /// A new pipe; the parent gets the other end as `Popen.stdin`, `.stdout` or `.stderr`.
    case pipe
    /// `/dev/null`.
    case devnull
    /// For standard error only: the same place as standard output (Python's `STDOUT`).
    case stdout
    /// An open descriptor of the parent's; Spindle does not close it.
    case fileDescriptor(Int32)
    /// A file, opened for reading (standard input) or writing (created, truncated unless `append`).
    case path(String, append: Bool = false)
}
