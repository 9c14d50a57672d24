/// One of a process's two output channels.
public enum LogChannel: String, Sendable, Hashable, CaseIterable {
    /// Standard output.
    case stdout
    /// Standard error.
    case stderr
}
