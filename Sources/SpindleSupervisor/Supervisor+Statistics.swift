extension Supervisor {
    /// How many times each active process's child has been started since its group was added
    /// (a start that failed before a child existed is not counted), for monitoring: the first
    /// start and every restart after it, whether automatic or asked for.
    /// - Returns: The count of every active process, keyed by its name (`group:process`, or
    ///   `process` when the two are the same).
    public func spawnCounts() -> [String: Int] {
        lock.withLock {
            var counts: [String: Int] = [:]
            for process in allProcesses(lexical: true) {
                counts[Supervisor.makeName(group: process.group, process: process.config.name)] = process.generation
            }
            return counts
        }
    }
}
