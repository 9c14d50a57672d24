/// A worker function bound to its argument, for a pool's initializer (Python's
/// `initializer=f, initargs=(...)`).
public struct WorkerCall: Sendable {
    /// The function's name.
    public let function: String
    let request: TaskRequest

    /// Binds `argument` to `function`.
    /// - Parameters:
    ///   - function: A worker function the worker program registers.
    ///   - argument: Its argument.
    /// - Throws: `MultiprocessingError.encodingFailed` when the argument cannot be encoded.
    public init<Argument, Result>(_ function: WorkerFunction<Argument, Result>, _ argument: Argument) throws(MultiprocessingError) {
        self.function = function.name
        request = try function.request([argument])
    }
}
