import CSpindle
import Glibc
import SpindleQueue
import SpindleSubprocess
import SpindleSystem
import SpindleThreading

/// A started worker child, as its parent holds it.
struct LaunchedChild: Sendable {
    let popen: Popen
    /// The parent's end of the child's connection.
    let connection: Connection
}

/// Starts worker children: the program's executable, through `Popen`, with a connected socket
/// pair and the SPINDLE_MP_ variables in its environment.
enum ChildLauncher {
    /// Starts a child.
    /// - Parameters:
    ///   - role: "process" or "pool".
    ///   - name: The child's process name.
    ///   - daemon: Whether the child must die with this process (it is then started from the
    ///     spawner thread, which lives as long as the process: the kernel's parent-death signal
    ///     follows the thread that created the child, not the process).
    ///   - target: The target function's name, for the record.
    ///   - passFDs: Further descriptors the child keeps (connections in its argument).
    /// - Returns: The child.
    /// - Throws: `MultiprocessingError.workerStartFailed` or `.system`.
    static func launch(
        role: String, name: String, daemon: Bool, target: String?, passFDs: [Int32] = []
    ) throws(MultiprocessingError) -> LaunchedChild {
        try Multiprocessing.checkMayStartChildren()
        var fds: [Int32] = [-1, -1]
        if spindle_mp_socketpair(&fds) != 0 {
            throw .system(SystemError(call: "socketpair", errno: errno))
        }
        let parentEnd = Connection(fd: fds[0])
        let childFD = fds[1]
        defer { try? closeDescriptor(childFD) }

        var environment = currentEnvironment()
        for key in WorkerEnvironment.all { environment[key] = nil }
        environment[WorkerEnvironment.fd] = String(childFD)
        environment[WorkerEnvironment.parent] = String(getpid())
        environment[WorkerEnvironment.role] = role
        environment[WorkerEnvironment.daemon] = daemon ? "1" : "0"
        environment[WorkerEnvironment.name] = name
        if let target { environment[WorkerEnvironment.target] = target }
        if !passFDs.isEmpty {
            environment[WorkerEnvironment.passedFDs] = passFDs.map(String.init).joined(separator: ",")
        }
        // The child shares this process's resource tracker (see ResourceTracker).
        let tracker = ResourceTracker.forChild()
        if let tracker { environment[ResourceTracker.environmentKey] = "\(tracker.fd):\(tracker.pid)" }
        let executable = Multiprocessing.executable
        let options = SpawnOptions(passFDs: [childFD] + passFDs + (tracker.map { [$0.fd] } ?? []))
        let env = environment
        let spawn: @Sendable () -> Result<Popen, SpawnError> = {
            do throws(SpawnError) {
                return .success(
                    try Popen([executable, WorkerEnvironment.argument], stdin: .devnull, env: env, options: options))
            } catch {
                return .failure(error)
            }
        }
        let result = daemon ? DaemonSpawner.run(spawn) : spawn()
        switch result {
        case .success(let popen): return LaunchedChild(popen: popen, connection: parentEnd)
        case .failure(let error): throw .workerStartFailed("\(executable): \(error)")
        }
    }

    /// This process's environment.
    static func currentEnvironment() -> [String: String] {
        var result: [String: String] = [:]
        var entry = environ
        while let pointer = entry.pointee {
            let text = String(cString: pointer)
            if let equals = text.firstIndex(of: "=") {
                result[String(text[..<equals])] = String(text[text.index(after: equals)...])
            }
            entry += 1
        }
        return result
    }
}

/// The thread that starts daemon children, so that their parent-death signal fires when the
/// process ends, not when the thread that asked for them ends.
enum DaemonSpawner {
    private static let jobs = Queue<@Sendable () -> Void>()

    private static let thread: SpindleThread = {
        let thread = SpindleThread(name: "spindle-mp-spawner", daemon: true) {
            while true {
                guard let job = try? jobs.get() else { return }
                job()
            }
        }
        do {
            try thread.start()
        } catch {
            preconditionFailure("cannot start the thread that starts daemon worker processes: \(error)")
        }
        return thread
    }()

    /// Runs `body` on the spawner thread and returns what it returns.
    static func run<T: Sendable>(_ body: @escaping @Sendable () -> T) -> T {
        _ = thread
        let slot = Locked<T?>(nil)
        let done = Event()
        try? jobs.put {
            let value = body()
            slot.withLock { $0 = value }
            done.set()
        }
        done.wait()
        return slot.withLock { $0! }
    }
}
