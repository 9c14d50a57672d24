/// A `WorkerFunction` with its argument and result types erased, as the registry keeps it: a
/// name, a signature and a body that decodes its argument and encodes its result.
public struct AnyWorkerFunction: WorkerEntryPoint {
    /// The stable name.
    public let name: String
    /// The argument and result types, as "Argument -> Result" (for telling a caller that uses the
    /// wrong types from one that uses the right ones).
    public let signature: String
    /// Decodes a chunk of arguments, runs the body on each, encodes the results; `nil` for a
    /// remote handle.
    let invoke: (@Sendable (_ arguments: [UInt8], _ count: Int, _ transfer: DescriptorTransfer?) -> ChunkOutcome)?

    init(
        name: String, signature: String,
        invoke: (@Sendable (_ arguments: [UInt8], _ count: Int, _ transfer: DescriptorTransfer?) -> ChunkOutcome)?
    ) {
        self.name = name
        self.signature = signature
        self.invoke = invoke
    }

    /// Whether this is a handle without a body (`WorkerFunction.remote`).
    public var isRemote: Bool { invoke == nil }

    /// The function itself.
    public var anyWorkerFunction: AnyWorkerFunction { self }
}
