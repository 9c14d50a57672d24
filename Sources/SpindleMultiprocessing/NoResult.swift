/// The result of a worker function that returns nothing (Python's `None`): Swift's `Void` is
/// not Codable, so `WorkerFunction<Argument, NoResult>` stands for a function returning `Void`.
public struct NoResult: Codable, Sendable, Hashable, CustomStringConvertible {
    /// The value.
    public init() {}

    public var description: String { "NoResult()" }
}
