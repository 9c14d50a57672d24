/// What changed between the running groups and a new configuration (supervisor's `reloadConfig`).
public struct ConfigDiff: Sendable, Hashable {
    /// Groups in the new configuration that are not running.
    public var added: [String]
    /// Running groups whose configuration differs.
    public var changed: [String]
    /// Running groups the new configuration no longer has.
    public var removed: [String]

    /// Creates the record.
    /// - Parameters:
    ///   - added: The added groups.
    ///   - changed: The changed groups.
    ///   - removed: The removed groups.
    public init(added: [String], changed: [String], removed: [String]) {
        self.added = added
        self.changed = changed
        self.removed = removed
    }
}
