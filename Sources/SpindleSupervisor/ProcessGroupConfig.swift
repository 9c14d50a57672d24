/// A group of processes started, stopped and reloaded together: a `[group:x]` section, or a
/// `[program:x]` that no group names (it forms a group of its own name).
public struct ProcessGroupConfig: Sendable, Hashable {
    /// The group name.
    public var name: String
    /// `priority`: groups start in ascending order and stop in descending order; default 999.
    public var priority: Int
    /// The processes, sorted by priority and then name.
    public var processes: [ProcessConfig]

    /// Creates a group.
    /// - Parameters:
    ///   - name: The group name.
    ///   - priority: The group priority.
    ///   - processes: The processes (they are sorted by priority, then name).
    public init(name: String, priority: Int = 999, processes: [ProcessConfig]) {
        self.name = name
        self.priority = priority
        self.processes = processes.sorted { ($0.priority, $0.name) < ($1.priority, $1.name) }
    }
}
