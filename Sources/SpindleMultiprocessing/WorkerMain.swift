import CSpindle
import Glibc
import SpindleSystem

/// What the SPINDLE_MP_ variables told a child.
struct WorkerSettings {
    var fd: Int32
    var parent: Int32
    var role: String
    var daemon: Bool
    var name: String
    var passedFDs: Set<Int32>

    /// Reads the worker variables and removes them from the environment (so that programs the
    /// worker starts in turn are not taken for workers); `nil` in a normal run.
    static func takeFromEnvironment() -> WorkerSettings? {
        func read(_ key: String) -> String? { getenv(key).map { String(cString: $0) } }
        guard let fdText = read(WorkerEnvironment.fd) else { return nil }
        let settings = WorkerSettings(
            fd: Int32(fdText) ?? -1,
            parent: Int32(read(WorkerEnvironment.parent) ?? "") ?? -1,
            role: read(WorkerEnvironment.role) ?? "",
            daemon: read(WorkerEnvironment.daemon) == "1",
            name: read(WorkerEnvironment.name) ?? "Process",
            passedFDs: Set((read(WorkerEnvironment.passedFDs) ?? "").split(separator: ",").compactMap { Int32($0) }))
        for key in WorkerEnvironment.all { unsetenv(key) }
        return settings
    }
}

/// The child's side: what `Multiprocessing.bootstrap` does in a worker. Never returns.
enum WorkerMain {
    static func run(_ settings: WorkerSettings) -> Never {
        if settings.daemon {
            // Die with the parent. The parent may have died before this line: then the child was
            // already handed to another process, and getppid() tells.
            _ = spindle_mp_set_parent_death_signal(SIGKILL)
            if getppid() != settings.parent { _exit(1) }
        }
        guard settings.fd >= 0, fcntl(settings.fd, F_GETFD) != -1 else {
            fail("\(settings.name): the worker connection (SPINDLE_MP_FD) is not an open descriptor")
        }
        let connection = Connection(fd: settings.fd)
        switch settings.role {
        case "process": runProcess(settings, connection)
        case "pool": runPoolWorker(settings, connection)
        default: fail("\(settings.name): unknown worker role '\(settings.role)'")
        }
    }

    private static func fail(_ message: String) -> Never {
        writeToStandardError(message + "\n")
        exit(1)
    }

    /// A `WorkerProcess` child: one call, then exit 0, or 1 when the target throws (as Python's
    /// `Process` exits with 1 after printing the traceback).
    private static func runProcess(_ settings: WorkerSettings, _ connection: Connection) -> Never {
        let request: TaskRequest
        do {
            request = try connection.recv(TaskRequest.self)
        } catch {
            fail("Process \(settings.name): could not receive its task: \(error)")
        }
        connection.close()
        let transfer = DescriptorTransfer(incoming: settings.passedFDs)
        let outcome = WorkerRegistry.run(request, transfer: transfer)
        switch outcome.firstError(function: request.function, signature: request.signature) {
        case nil:
            exit(0)
        case let error as RemoteError:
            fail("Process \(settings.name):\n\(error.type): \(error.message)")
        case let error?:
            fail("Process \(settings.name): \(error)")
        }
    }

    /// A pool worker: hello, setup, initializer, then calls until told to stop, the parent
    /// goes away, or the task limit is reached.
    private static func runPoolWorker(_ settings: WorkerSettings, _ connection: Connection) -> Never {
        let setup: PoolWorkerSetup
        do {
            try connection.send(WorkerHello(magic: WorkerHello.expectedMagic, pid: getpid()))
            setup = try connection.recv(PoolWorkerSetup.self)
        } catch {
            exit(0)  // the parent went away
        }
        if let initializer = setup.initializer {
            let outcome = WorkerRegistry.run(initializer)
            let failed = !outcome.succeeded
            do { try connection.send(InitializerReport(failure: failed ? outcome : nil)) } catch { exit(0) }
            if failed { exit(1) }
        }
        var loop = PoolWorkerLoop(connection: connection, limit: setup.maxTasks, name: settings.name)
        loop.run()
    }
}

/// A pool worker's working phase: it reads every task that has come, tells the parent how many
/// it read, runs them in order and writes their replies back together (see PoolWire.swift).
struct PoolWorkerLoop {
    let connection: Connection
    /// The task limit (maxTasksPerChild): the worker exits after that many.
    let limit: Int?
    let name: String
    private var done = 0
    private var tasks: [PoolWire.IncomingTask] = []
    private var next = 0
    private var output: [UInt8] = []
    private var stopping = false
    /// The function of the last task, found by its name and signature.
    private var lastName: [UInt8] = []
    private var lastSignature: [UInt8] = []
    private var lastFunction: Resolved = .unknown("")

    enum Resolved {
        case function(AnyWorkerFunction)
        case unknown(String)
        case mismatch(String)
    }

    /// When replies are waiting this long (ns) behind a running task, they go out before the next.
    static let replyDelay: Int64 = 1_000_000

    init(connection: Connection, limit: Int?, name: String) {
        self.connection = connection
        self.limit = limit
        self.name = name
    }

    mutating func run() -> Never {
        while true {
            if next == tasks.count {
                if stopping {
                    flush()
                    exit(0)
                }
                read()
            }
            var flushed = spindle_monotonic_ns()
            while next < tasks.count {
                let task = tasks[next]
                next += 1
                PoolWire.appendReply(execute(task), id: task.id, to: &output)
                done += 1
                if let limit, done >= limit {
                    flush()
                    exit(0)
                }
                let now = spindle_monotonic_ns()
                if now - flushed > Self.replyDelay {
                    flush()
                    flushed = now
                }
            }
            // Tasks that came meanwhile are read now, so that their "received" goes out with
            // these replies, in one write.
            if !stopping, (try? connection.poll(timeout: 0)) == true {
                read()
            } else {
                flush()
            }
        }
    }

    /// Reads one frame (waiting for it), then every frame already there, and says how many
    /// tasks came; the replies written so far go in the same write.
    private mutating func read() {
        if next == tasks.count {
            tasks.removeAll(keepingCapacity: true)
            next = 0
        }
        var count = 0
        repeat {
            let frame: [UInt8]
            do { frame = try connection.recvBytes() } catch { exitAfterFlush() }
            do {
                guard let task = try PoolWire.readTask(frame) else {
                    stopping = true
                    break
                }
                tasks.append(task)
                count += 1
            } catch {
                writeToStandardError("\(name): \(error)\n")
                exit(1)
            }
        } while (try? connection.poll(timeout: 0)) == true
        if count > 0 { PoolWire.appendReceived(count, to: &output) }
        flush()
    }

    private mutating func flush() {
        guard !output.isEmpty else { return }
        do { try connection.sendFrames(output) } catch { exit(0) }  // the parent went away
        output.removeAll(keepingCapacity: true)
    }

    private mutating func exitAfterFlush() -> Never {
        flush()
        exit(0)  // the parent went away or closed the connection
    }

    /// Runs one task.
    private mutating func execute(_ task: PoolWire.IncomingTask) -> ChunkOutcome {
        if !task.name.elementsEqual(lastName) || !task.signature.elementsEqual(lastSignature) {
            lastName = Array(task.name)
            lastSignature = Array(task.signature)
            let function = String(decoding: lastName, as: UTF8.self)
            let signature = String(decoding: lastSignature, as: UTF8.self)
            if let found = WorkerRegistry.lookup(function), found.invoke != nil {
                lastFunction = found.signature == signature ? .function(found) : .mismatch(found.signature)
            } else {
                lastFunction = .unknown(function)
            }
        }
        switch lastFunction {
        case .function(let function): return function.invoke!(task.arguments, task.count, nil)
        case .unknown(let function): return .unknownFunction(function)
        case .mismatch(let registered): return .signatureMismatch(registered: registered)
        }
    }
}
