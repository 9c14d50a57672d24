extension Supervisor {
    /// Waits until the leftovers of every `killtree` program whose main process has exited are
    /// gone (each gets `stopsignal`, then SIGKILL after `stopwaitsecs`).
    /// - Parameter timeout: Seconds to wait at most; `nil` waits as long as it takes.
    /// - Returns: Whether none is left.
    @discardableResult
    public static func waitForProcessTrees(timeout: Double? = nil) -> Bool {
        TreeReaper.shared.waitUntilIdle(timeout: timeout)
    }
}
