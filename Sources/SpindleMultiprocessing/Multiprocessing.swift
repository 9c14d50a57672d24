import CSpindle
import Glibc
import SpindleSystem
import Synchronization

/// The module functions of Python's `multiprocessing`: bootstrapping a worker program, the
/// executable workers run, pipes, and what the current process is.
///
/// A worker child is this program's own executable (or the one given to `setExecutable(_:)`),
/// started fresh (never forked) with a connected socket pair and the name of what to run in its
/// environment. The first line of `main` must be `Multiprocessing.bootstrap(registering: [...])`:
/// in a normal run it registers the functions and returns at once; in a worker child it serves
/// the parent and never returns.
public enum Multiprocessing {
    private static let executableOverride = Locked<String?>(nil)
    private static let bootstrapped = Atomic<Bool>(false)
    private static let identity = Locked<(name: String, parent: Int32?)>(("MainProcess", nil))

    // MARK: - Bootstrapping

    /// Registers the program's worker functions and, when this process was started as a worker,
    /// becomes that worker: it runs what the parent asks and exits, never returning.
    ///
    /// Call it first thing in `main`, before the program does anything else (in a worker, code
    /// before it runs in every child). In a normal run it returns at once.
    /// - Parameter functions: The worker functions this program can run; a list here is the same
    ///   as `WorkerRegistry.register(_:)` before the call.
    public static func bootstrap(registering functions: [any WorkerEntryPoint] = []) {
        WorkerRegistry.register(functions)
        bootstrapped.store(true, ordering: .releasing)
        ResourceTracker.adoptInherited()
        guard let settings = WorkerSettings.takeFromEnvironment() else { return }
        identity.withLock { $0 = (settings.name, settings.parent) }
        WorkerMain.run(settings)
    }

    /// Whether `bootstrap` has been called.
    public static var isBootstrapped: Bool { bootstrapped.load(ordering: .acquiring) }

    /// Refuses to start children from a worker that skipped `bootstrap` (its `main` would
    /// otherwise start workers of its own, and so on without end).
    static func checkMayStartChildren() throws(MultiprocessingError) {
        if getenv(WorkerEnvironment.fd) != nil, !isBootstrapped {
            throw .invalidState(
                "this program was started as a worker process, but its main did not call "
                    + "Multiprocessing.bootstrap(registering:) first; a worker cannot start workers before it bootstraps")
        }
    }

    // MARK: - The executable

    /// Sets the program worker children run (Python's `set_executable`); by default this
    /// program's own executable. The program must call `bootstrap` at the top of its `main`.
    /// - Parameter path: The executable's path.
    public static func setExecutable(_ path: String) {
        executableOverride.withLock { $0 = path }
    }

    /// The program worker children run.
    public static var executable: String {
        if let path = executableOverride.withLock({ $0 }) { return path }
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        let n = readlink("/proc/self/exe", &buffer, buffer.count - 1)
        guard n > 0 else { return CommandLine.arguments.first ?? "/proc/self/exe" }
        return String(decoding: buffer.prefix(n).map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    // MARK: - Pipes

    /// Makes a pair of connected connections (Python's `multiprocessing.Pipe`).
    ///
    /// (Foundation owns the name `Pipe`, hence a function here.)
    /// - Parameter duplex: Whether both ends send and receive; with `false` the first end only
    ///   receives and the second only sends, as in Python.
    /// - Returns: The two ends.
    /// - Throws: `MultiprocessingError.system` when the socket pair cannot be made.
    public static func pipe(duplex: Bool = true) throws(MultiprocessingError) -> (Connection, Connection) {
        var fds: [Int32] = [-1, -1]
        if spindle_mp_socketpair(&fds) != 0 {
            throw .system(SystemError(call: "socketpair", errno: errno))
        }
        if duplex {
            return (Connection(fd: fds[0]), Connection(fd: fds[1]))
        }
        _ = spindle_mp_shutdown(fds[0], 1)  // the receiving end never sends
        _ = spindle_mp_shutdown(fds[1], 0)  // the sending end never receives
        return (Connection(fd: fds[0], readable: true, writable: false), Connection(fd: fds[1], readable: false, writable: true))
    }

    // MARK: - The current process

    /// The number of processors (Python's `cpu_count()`).
    public static var cpuCount: Int { ProcessorCount.online }

    /// The current process's name: "MainProcess", or the name a worker was given.
    public static var currentProcessName: String { identity.withLock { $0.name } }

    /// The pid of the process that started this worker, or `nil` outside a worker (Python's
    /// `parent_process().pid`).
    public static var parentProcessID: Int32? { identity.withLock { $0.parent } }

    /// The worker processes started from this process that are still running (Python's
    /// `active_children()`); it also reaps those that have ended.
    /// - Returns: The running ones.
    public static func activeChildren() -> [WorkerProcess] {
        WorkerProcess.live().filter(\.isAlive)
    }
}
