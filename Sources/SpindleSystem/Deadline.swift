import CSpindle

/// A point on the monotonic clock, for waits that must end by a given time however often they
/// are interrupted and resumed.
package struct Deadline: Sendable, Comparable {
    /// Nanoseconds of CLOCK_MONOTONIC; `Int64.max` for a deadline that never comes.
    package let nanoseconds: Int64

    /// The deadline that never comes.
    package static let never = Deadline(nanoseconds: .max)

    package init(nanoseconds: Int64) { self.nanoseconds = nanoseconds }

    /// The current time.
    package static var now: Deadline { Deadline(nanoseconds: spindle_monotonic_ns()) }

    /// The deadline `seconds` from now, or `never` for `nil`.
    /// - Parameter seconds: A non-negative number of seconds, or `nil` for no deadline.
    /// - Returns: The deadline.
    package static func after(seconds: Double?) -> Deadline {
        guard let seconds else { return .never }
        let ns = seconds * 1e9
        if !(ns < 9.0e18) { return .never }
        let now = spindle_monotonic_ns()
        return Deadline(nanoseconds: now &+ Int64(max(0, ns)))
    }

    /// Whether the deadline is `never`.
    package var isNever: Bool { nanoseconds == .max }

    /// Whether the deadline has passed.
    package var hasPassed: Bool { !isNever && spindle_monotonic_ns() >= nanoseconds }

    /// Seconds left until the deadline (never negative), or `nil` for `never`.
    package var remainingSeconds: Double? {
        if isNever { return nil }
        return max(0, Double(nanoseconds - spindle_monotonic_ns()) / 1e9)
    }

    /// The deadline as the futex call wants it: -1 for never.
    package var futexDeadline: Int64 { isNever ? -1 : nanoseconds }

    package static func < (lhs: Deadline, rhs: Deadline) -> Bool { lhs.nanoseconds < rhs.nanoseconds }
}
