/// A function that any `FutureExecutor` can run, in this process or in another: a stable name,
/// a body, and Codable argument and result types.
///
/// A closure cannot cross into a worker process; a name and Codable values can. So the
/// executor-generic API (`FutureExecutor.submit(_:_:)`, `map(_:_:timeout:chunksize:)`) takes a
/// function of this kind: a thread pool calls its body here, a process pool sends its name and
/// argument to a worker, which runs the body registered under that name. SpindleMultiprocessing's
/// `WorkerFunction` conforms; so may any type that provides a name and a body.
public protocol ExecutorFunction<Argument, Result>: Sendable {
    /// The argument's type.
    associatedtype Argument: Codable & Sendable
    /// The result's type.
    associatedtype Result: Codable & Sendable

    /// The stable name a worker process knows the function by.
    var name: String { get }

    /// Runs the body in this process.
    /// - Parameter argument: The argument.
    /// - Returns: The result.
    /// - Throws: What the body throws.
    func callAsFunction(_ argument: Argument) throws -> Result
}
