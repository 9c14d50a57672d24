import SpindleSystem

/// The worker functions this program can run when it is started as a worker, by name.
///
/// `Multiprocessing.bootstrap(registering:)` registers its list here and then, in a worker,
/// serves calls from the registry. Registering is also possible beforehand (for functions
/// declared in several modules) with `register(_:)`, followed by `Multiprocessing.bootstrap()`.
public enum WorkerRegistry {
    private static let functions = Locked<[String: AnyWorkerFunction]>([:])

    /// Registers worker functions.
    ///
    /// Registering a name again with the same signature replaces the body; a different signature
    /// under a registered name is a programming error and stops the program.
    /// - Parameter entryPoints: The functions (with bodies; a remote handle registers nothing).
    public static func register(_ entryPoints: [any WorkerEntryPoint]) {
        functions.withLock { functions in
            for entry in entryPoints {
                let function = entry.anyWorkerFunction
                guard !function.isRemote else { continue }
                if let existing = functions[function.name], existing.signature != function.signature {
                    preconditionFailure(
                        "the worker function '\(function.name)' is registered twice, as (\(existing.signature)) "
                            + "and as (\(function.signature))")
                }
                functions[function.name] = function
            }
        }
    }

    /// Registers worker functions.
    /// - Parameter entryPoints: The functions.
    public static func register(_ entryPoints: any WorkerEntryPoint...) {
        register(entryPoints)
    }

    /// The names registered so far, sorted.
    public static var registeredNames: [String] { functions.withLock { $0.keys.sorted() } }

    /// The function registered under `name`.
    static func lookup(_ name: String) -> AnyWorkerFunction? { functions.withLock { $0[name] } }

    /// Runs the calls of a request in this process.
    static func run(_ request: TaskRequest, transfer: DescriptorTransfer? = nil) -> ChunkOutcome {
        guard let function = lookup(request.function), let invoke = function.invoke else {
            return .unknownFunction(request.function)
        }
        guard function.signature == request.signature else { return .signatureMismatch(registered: function.signature) }
        return invoke(request.arguments, request.count, transfer)
    }
}
