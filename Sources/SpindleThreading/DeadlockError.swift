/// A cycle of threads each waiting for the next: what deadlock detection found.
public struct DeadlockError: Error, Equatable, Sendable, CustomStringConvertible {
    /// One thread of the cycle.
    public struct Member: Equatable, Sendable {
        /// The thread's name.
        public let thread: String
        /// The thread's identifier.
        public let ident: UInt
        /// What it holds that the previous member waits for ("Lock created at file:line").
        public let holds: String
        /// What it waits for ("Lock created at file:line", or "thread NAME to finish").
        public let waitsFor: String
    }

    /// The threads of the cycle; the first is the one whose wait closed it.
    public let cycle: [Member]

    public var description: String {
        var lines = ["deadlock: \(cycle.count) threads wait for each other in a cycle:"]
        for member in cycle {
            lines.append(
                "  thread \"\(member.thread)\" (ident \(member.ident)) holds \(member.holds) and waits for \(member.waitsFor)")
        }
        return lines.joined(separator: "\n")
    }
}
