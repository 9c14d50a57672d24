/// Two locks taken in both orders: a deadlock waiting to happen, found by lock-order checking
/// even on a run where it did not happen.
public struct LockOrderInversion: Equatable, Sendable, CustomStringConvertible {
    /// The lock taken first this time ("Lock created at file:line").
    public let first: String
    /// The lock taken second this time.
    public let second: String
    /// Where the first and the second were acquired this time.
    public let now: (first: String, second: String)
    /// Where they were acquired, in the other order, before.
    public let before: (second: String, first: String)
    /// The thread that took them this time.
    public let thread: String

    public static func == (a: LockOrderInversion, b: LockOrderInversion) -> Bool {
        a.first == b.first && a.second == b.second && a.now == b.now && a.before == b.before && a.thread == b.thread
    }

    public var description: String {
        """
        lock order inversion: thread "\(thread)" acquired \(first) at \(now.first), then \(second) at \(now.second);
          earlier, \(second) was acquired at \(before.second), then \(first) at \(before.first)
        """
    }
}
