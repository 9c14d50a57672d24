import Glibc
import SpindleFutures
import SpindleSystem

/// The signatures of the WorkerFunction types met so far.
private let signatureCache = Locked<[ObjectIdentifier: String]>([:])

/// A function a worker process can run, known by a stable name, with Codable argument and result
/// types.
///
/// Closures do not cross processes; names and Codable values do. So the program's worker side
/// registers each function's body under its name (`Multiprocessing.bootstrap(registering:)` at
/// the top of `main`), and the parent side refers to the function by the same name and types.
/// No Spindle API takes an arbitrary closure to run in a child: pools and processes take a
/// `WorkerFunction`, whose registered body is all a child ever runs.
///
/// ```swift
/// let square = WorkerFunction<Int, Int>("square") { $0 * $0 }
///
/// Multiprocessing.bootstrap(registering: [square])      // first line of main
/// let squares = try Pool(processes: 4).scoped { try $0.map(square, 0..<10) }
/// ```
///
/// When the parent is another program (or a test), `WorkerFunction<Int, Int>.remote("square")`
/// makes the handle without the body.
public struct WorkerFunction<Argument: Codable & Sendable, Result: Codable & Sendable>: WorkerEntryPoint, ExecutorFunction {
    /// The stable name.
    public let name: String
    let body: (@Sendable (Argument) throws -> Result)?

    /// Declares a worker function.
    /// - Parameters:
    ///   - name: The stable name it is registered and called by; unique in the program.
    ///   - body: What it does. It runs in the worker process that registered it (when called
    ///     there) or here (`callAsFunction`); whatever it captures stays in its own process.
    @_disfavoredOverload  // for NoResult functions, the init of a closure returning Void wins
    public init(_ name: String, _ body: @escaping @Sendable (Argument) throws -> Result) {
        self.name = name
        self.body = body
    }

    init(name: String, body: (@Sendable (Argument) throws -> Result)?) {
        self.name = name
        self.body = body
    }

    /// A handle on a function that the worker program registers: the name and types, no body.
    /// - Parameter name: The name the worker program registers the function by.
    /// - Returns: The handle.
    public static func remote(_ name: String) -> WorkerFunction {
        WorkerFunction(name: name, body: nil)
    }

    /// Whether this is a handle without a body (`remote`).
    public var isRemote: Bool { body == nil }

    /// The argument and result types, as the registry compares them ("Int -> Int").
    public static var signature: String {
        // Naming a type goes through reflection (microseconds); every task needs the name.
        let key = ObjectIdentifier(Self.self)
        if let known = signatureCache.withLock({ $0[key] }) { return known }
        let signature = "\(String(describing: Argument.self)) -> \(String(describing: Result.self))"
        signatureCache.withLock { $0[key] = signature }
        return signature
    }

    /// Runs the body in this process, as a plain call.
    /// - Parameter argument: The argument.
    /// - Returns: The result.
    /// - Throws: What the body throws; `MultiprocessingError.unknownFunction` for a remote handle.
    public func callAsFunction(_ argument: Argument) throws -> Result {
        guard let body else { throw MultiprocessingError.unknownFunction(name) }
        return try body(argument)
    }

    /// The function with its types erased, for the registry.
    public var anyWorkerFunction: AnyWorkerFunction {
        let name = self.name
        guard let body else { return AnyWorkerFunction(name: name, signature: Self.signature, invoke: nil) }
        return AnyWorkerFunction(name: name, signature: Self.signature) { bytes, count, transfer in
            Self.runChunk(name: name, body: body, bytes: bytes, count: count, transfer: transfer)
        }
    }

    /// Decodes the arguments, calls `body` on each in order, and encodes the results together
    /// (or, when a call fails, every call's own outcome).
    private static func runChunk(
        name: String, body: @Sendable (Argument) throws -> Result, bytes: [UInt8], count: Int,
        transfer: DescriptorTransfer?
    ) -> ChunkOutcome {
        let pid = getpid()
        let arguments: [Argument]
        do {
            var userInfo: [CodingUserInfoKey: Any] = [:]
            if let transfer { userInfo[DescriptorTransfer.key] = transfer }
            arguments = try CompactDecoder(userInfo: userInfo).decode([Argument].self, from: bytes)
        } catch {
            return .mixed(Array(repeating: .raised(RemoteError(function: name, error: error, pid: pid)), count: max(1, count)))
        }
        var results: [Result] = []
        results.reserveCapacity(arguments.count)
        var outcomes: [TaskOutcome]?
        let encoder = CompactEncoder()
        for argument in arguments {
            do {
                let result = try body(argument)
                if outcomes == nil {
                    results.append(result)
                } else {
                    outcomes!.append(.value(try encoder.encode(result)))
                }
            } catch {
                if outcomes == nil {
                    var converted: [TaskOutcome] = []
                    for earlier in results {
                        do {
                            converted.append(.value(try encoder.encode(earlier)))
                        } catch {
                            converted.append(.raised(RemoteError(function: name, error: error, pid: pid)))
                        }
                    }
                    outcomes = converted
                    results = []
                }
                outcomes!.append(.raised(RemoteError(function: name, error: error, pid: pid)))
            }
        }
        if let outcomes { return .mixed(outcomes) }
        do {
            return .values(try encoder.encode(results))
        } catch {
            // One result does not encode: find out which, one by one.
            return .mixed(
                results.map { result in
                    do {
                        return .value(try encoder.encode(result))
                    } catch {
                        return .raised(RemoteError(function: name, error: error, pid: pid))
                    }
                })
        }
    }

    /// Encodes the arguments of a chunk together.
    func encodeArguments(_ arguments: [Argument], userInfo: [CodingUserInfoKey: Any] = [:]) throws(MultiprocessingError) -> [UInt8] {
        do {
            return try CompactEncoder(userInfo: userInfo).encode(arguments)
        } catch {
            throw .encodingFailed("an argument of '\(name)': \(error)")
        }
    }

    /// A request to call the function on `arguments`.
    /// - Parameters:
    ///   - arguments: The arguments, one per call.
    ///   - userInfo: For the encoder.
    ///   - signature: `Self.signature`, when the caller already has it (a map makes one request
    ///     per chunk, and looking the signature up takes a lock).
    func request(
        _ arguments: [Argument], userInfo: [CodingUserInfoKey: Any] = [:], signature: String? = nil
    ) throws(MultiprocessingError) -> TaskRequest {
        TaskRequest(
            id: 0, function: name, signature: signature ?? Self.signature,
            arguments: try encodeArguments(arguments, userInfo: userInfo), count: arguments.count)
    }

    /// Each call's result (or error) from the outcome of a chunk of `count` calls.
    func decodeChunk(_ outcome: ChunkOutcome, count: Int) -> [Swift.Result<Result, any Error>] {
        switch outcome {
        case .values(let bytes):
            do {
                let values = try CompactDecoder().decode([Result].self, from: bytes)
                guard values.count == count else {
                    throw MultiprocessingError.decodingFailed("\(values.count) results of '\(name)' for \(count) calls")
                }
                return values.map { .success($0) }
            } catch let error as MultiprocessingError {
                return Array(repeating: .failure(error), count: count)
            } catch {
                return Array(repeating: .failure(MultiprocessingError.decodingFailed("the results of '\(name)': \(error)")), count: count)
            }
        case .mixed(let outcomes):
            guard outcomes.count == count else {
                let error = MultiprocessingError.decodingFailed("\(outcomes.count) outcomes of '\(name)' for \(count) calls")
                return Array(repeating: .failure(error), count: count)
            }
            return outcomes.map { outcome in
                switch outcome {
                case .raised(let error):
                    return .failure(error)
                case .value(let bytes):
                    do {
                        return .success(try CompactDecoder().decode(Result.self, from: bytes))
                    } catch {
                        return .failure(MultiprocessingError.decodingFailed("the result of '\(name)': \(error)"))
                    }
                }
            }
        case .unknownFunction, .signatureMismatch:
            let error = outcome.firstError(function: name, signature: Self.signature)!
            return Array(repeating: .failure(error), count: count)
        }
    }
}

extension WorkerFunction where Result == NoResult {
    /// Declares a worker function that returns nothing.
    /// - Parameters:
    ///   - name: The stable name.
    ///   - body: What it does.
    public init(_ name: String, _ body: @escaping @Sendable (Argument) throws -> Void) {
        self.init(name: name) { argument in
            try body(argument)
            return NoResult()
        }
    }
}

extension WorkerFunction where Result == NoResult {
    /// Declares a worker function of several parameters that returns nothing.
    /// - Parameters:
    ///   - name: The stable name.
    ///   - body: What it does, with one parameter per argument.
    public init<each Element: Codable & Sendable>(
        _ name: String, _ body: @escaping @Sendable (repeat each Element) throws -> Void
    ) where Argument == ArgumentTuple<repeat each Element> {
        self.init(name: name) { arguments in
            try body(repeat each arguments.elements)
            return NoResult()
        }
    }
}

extension WorkerFunction {
    /// Declares a worker function of several parameters (for `Pool.starmap`).
    /// - Parameters:
    ///   - name: The stable name.
    ///   - body: What it does, with one parameter per argument.
    @_disfavoredOverload  // for NoResult functions, the init of a closure returning Void wins
    public init<each Element: Codable & Sendable>(
        _ name: String, _ body: @escaping @Sendable (repeat each Element) throws -> Result
    ) where Argument == ArgumentTuple<repeat each Element> {
        self.init(name: name) { arguments in
            try body(repeat each arguments.elements)
        }
    }
}
