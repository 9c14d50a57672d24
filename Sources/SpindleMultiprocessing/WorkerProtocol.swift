// The messages between a parent and its worker processes, over the connection the child
// inherits (SPINDLE_MP_FD). All of them use the compact encoding.
//
// WorkerProcess child:  parent -> child  TaskRequest (one), then the parent closes its end.
// Pool worker:          child -> parent  WorkerHello
//                       parent -> child  PoolWorkerSetup
//                       child -> parent  InitializerReport (only with an initializer)
//                       then the working phase (PoolWire.swift): parent -> child tasks,
//                       many to a write, child -> parent "received" frames and replies, until
//                       the stop frame, the end of the stream, or the task limit (the child
//                       exits after its last reply).

/// The environment variables that make a started program a worker.
enum WorkerEnvironment {
    /// The descriptor of the child's end of the connection.
    static let fd = "SPINDLE_MP_FD"
    /// The pid of the parent, to catch a parent that died before the child armed its death signal.
    static let parent = "SPINDLE_MP_PARENT"
    /// "process" (a `WorkerProcess`) or "pool" (a pool worker).
    static let role = "SPINDLE_MP_ROLE"
    /// "1" for a daemon child, which must die with its parent.
    static let daemon = "SPINDLE_MP_DAEMON"
    /// The process's name.
    static let name = "SPINDLE_MP_NAME"
    /// The target's name (informational: `ps e` shows what the child runs).
    static let target = "SPINDLE_MP_TARGET"
    /// Comma-separated descriptors of connections passed in the argument.
    static let passedFDs = "SPINDLE_MP_PASSED_FDS"

    static let all = [fd, parent, role, daemon, name, target, passedFDs]

    /// The argument a worker is started with, after the executable (Python's `--multiprocessing-fork`).
    static let argument = "--multiprocessing-fork"
}

/// One call of a worker function on a chunk of one or more arguments.
struct TaskRequest: Codable, Sendable {
    var id: UInt64
    var function: String
    var signature: String
    /// The arguments, encoded together as one array (`[Argument]`).
    var arguments: [UInt8]
    /// How many arguments there are.
    var count: Int
}

/// How one call of a chunk ended, when the calls of the chunk did not all succeed.
enum TaskOutcome: Codable, Sendable {
    /// The encoded result.
    case value([UInt8])
    /// The function threw (or its argument or result did not convert).
    case raised(RemoteError)
}

/// How a chunk of calls ended, in the worker.
enum ChunkOutcome: Codable, Sendable {
    /// Every call returned: the results, encoded together as one array (`[Result]`).
    case values([UInt8])
    /// Some call failed: each call's own outcome, in order.
    case mixed([TaskOutcome])
    /// No function of that name is registered in the worker.
    case unknownFunction(String)
    /// The worker registered the function with this other signature.
    case signatureMismatch(registered: String)
}

/// A pool worker's first message: proof that the program called `Multiprocessing.bootstrap`.
struct WorkerHello: Codable, Sendable {
    static let expectedMagic = "spindle-multiprocessing-4"
    var magic: String
    var pid: Int32
}

/// How a pool worker is to run.
struct PoolWorkerSetup: Codable, Sendable {
    var initializer: TaskRequest?
    var maxTasks: Int?
}

/// Whether a pool worker's initializer succeeded: `nil` when it did, else its outcome.
struct InitializerReport: Codable, Sendable {
    var failure: ChunkOutcome?
}

extension ChunkOutcome {
    /// Whether every call succeeded.
    var succeeded: Bool {
        if case .values = self { return true }
        return false
    }

    /// The error of the first failed call, or `nil` when all succeeded.
    func firstError(function: String, signature: String) -> (any Error)? {
        switch self {
        case .values:
            return nil
        case .mixed(let outcomes):
            for outcome in outcomes {
                if case .raised(let error) = outcome { return error }
            }
            return nil
        case .unknownFunction(let name):
            return MultiprocessingError.unknownFunction(name)
        case .signatureMismatch(let registered):
            return MultiprocessingError.signatureMismatch(function: function, expected: signature, registered: registered)
        }
    }
}
