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
        var done = 0
        while true {
            let message: ParentMessage
            do { message = try connection.recv(ParentMessage.self) } catch { exit(0) }
            guard case .task(let request) = message else { exit(0) }
            // The acknowledgement: from here on the task counts as started.
            do { try connection.sendBytes([]) } catch { exit(0) }
            let outcome = WorkerRegistry.run(request)
            do { try connection.send(TaskReply(id: request.id, outcome: outcome)) } catch { exit(0) }
            done += 1
            if let limit = setup.maxTasks, done >= limit { exit(0) }
        }
    }
}
