import Glibc
import SpindleSubprocess
import SpindleSystem
import SpindleThreading
import Synchronization

/// A worker function running in a child process of its own (Python's `multiprocessing.Process`).
///
/// The child is this program's executable (see `Multiprocessing.setExecutable(_:)`), which calls
/// `Multiprocessing.bootstrap` first thing and then runs `target` on `argument`. The child exits
/// with 0 when the target returns and 1 when it throws (the error is printed on its standard
/// error); a signal that ends it shows as a negative `exitcode`.
///
/// A daemon child ends when this process ends, however it ends (even by SIGKILL): it arms the
/// kernel's parent-death signal as it starts. A non-daemon child is waited for when this program
/// exits, as Python does.
///
/// (Foundation owns the name `Process`, hence `WorkerProcess`.)
public final class WorkerProcess: @unchecked Sendable, CustomStringConvertible {
    struct State {
        var name: String
        var daemon: Bool
        var popen: Popen?
        var started = false
    }

    private let state: Locked<State>
    private let targetName: String
    private let makeRequest: @Sendable (DescriptorTransfer) throws(MultiprocessingError) -> TaskRequest

    private static let counter = Atomic<Int>(0)

    /// Creates a process; it runs when `start()` is called.
    /// - Parameters:
    ///   - target: The worker function to run in the child.
    ///   - argument: Its argument (it may contain `Connection`s: the child gets their descriptors).
    ///   - name: The process's name; by default "Process-N".
    ///   - daemon: Whether the child must end when this process ends (by default it does not).
    public init<Argument, Result>(
        target: WorkerFunction<Argument, Result>, argument: Argument, name: String? = nil, daemon: Bool? = nil
    ) {
        let number = Self.counter.wrappingAdd(1, ordering: .relaxed).newValue
        state = Locked(State(name: name ?? "Process-\(number)", daemon: daemon ?? false))
        targetName = target.name
        makeRequest = { (transfer: DescriptorTransfer) throws(MultiprocessingError) -> TaskRequest in
            try target.request([argument], userInfo: [DescriptorTransfer.key: transfer])
        }
    }

    // MARK: - Properties

    /// The process's name; it can be changed at any time (in this process).
    public var name: String {
        get { state.withLock { $0.name } }
        set { state.withLock { $0.name = newValue } }
    }

    /// Whether the child ends when this process ends.
    public var daemon: Bool { state.withLock { $0.daemon } }

    /// Sets `daemon` (Python's `process.daemon = flag`).
    /// - Parameter flag: The new status.
    /// - Throws: `MultiprocessingError.invalidState` once the process has started.
    public func setDaemon(_ flag: Bool) throws(MultiprocessingError) {
        try state.withLock { (state: inout State) throws(MultiprocessingError) in
            if state.started { throw .invalidState("process has already started") }
            state.daemon = flag
        }
    }

    /// The child's process id, or `nil` before `start()`.
    public var pid: Int32? { state.withLock { $0.popen?.pid } }

    /// The child's exit status: its exit code, or minus the signal that ended it; `nil` before
    /// it starts and while it runs.
    public var exitcode: Int32? {
        guard let popen = state.withLock({ $0.popen }) else { return nil }
        return popen.poll()
    }

    /// Whether the child has started and not ended.
    public var isAlive: Bool {
        guard let popen = state.withLock({ $0.popen }) else { return false }
        return popen.poll() == nil
    }

    /// The name of the worker function the child runs.
    public var targetFunction: String { targetName }

    public var description: String {
        let (name, daemon, popen) = state.withLock { ($0.name, $0.daemon, $0.popen) }
        let status: String
        if let popen {
            if let code = popen.poll() { status = "stopped exitcode=\(code)" } else { status = "started pid=\(popen.pid)" }
        } else {
            status = "initial"
        }
        return "<WorkerProcess name='\(name)' \(status)\(daemon ? " daemon" : "")>"
    }

    // MARK: - Running

    /// Starts the child; its pid is known when this returns.
    /// - Throws: `MultiprocessingError.invalidState` on a second call (or in a worker program
    ///   that has not bootstrapped); `.encodingFailed` when the argument cannot be encoded;
    ///   `.workerStartFailed` when the child cannot be started.
    public func start() throws(MultiprocessingError) {
        let (name, daemon) = try state.withLock { (state: inout State) throws(MultiprocessingError) -> (String, Bool) in
            if state.started { throw .invalidState("cannot start a process twice") }
            state.started = true
            return (state.name, state.daemon)
        }
        let child: LaunchedChild
        do {
            let transfer = DescriptorTransfer()
            let request = try makeRequest(transfer)
            child = try ChildLauncher.launch(
                role: "process", name: name, daemon: daemon, target: targetName, passFDs: transfer.outgoing)
            withExtendedLifetime(transfer.retained) {}
            state.withLock { $0.popen = child.popen }
            // The child reads its task and runs it; if it died at once, its exit status tells why.
            try? child.connection.send(request)
            child.connection.close()
        } catch {
            state.withLock { $0.started = false }
            throw error
        }
        Self.track(self)
    }

    /// Waits for the child to end.
    /// - Parameter timeout: Seconds to wait at most; `nil` waits as long as it takes.
    /// - Returns: Whether the child has ended (Python returns nothing and leaves you to check
    ///   `exitcode`; both work here).
    /// - Throws: `MultiprocessingError.invalidState` before `start()` ("can only join a started process").
    @discardableResult
    public func join(timeout: Double? = nil) throws(MultiprocessingError) -> Bool {
        guard let popen = state.withLock({ $0.popen }) else {
            throw .invalidState("can only join a started process")
        }
        do {
            try popen.wait(timeout: timeout)
        } catch {
            return false
        }
        Self.untrack(self)
        return true
    }

    /// Asks the child to end (SIGTERM). Does nothing once it has ended.
    public func terminate() { state.withLock { $0.popen }?.terminate() }

    /// Ends the child at once (SIGKILL). Does nothing once it has ended.
    public func kill() { state.withLock { $0.popen }?.kill() }

    // MARK: - Children of this process

    private static let children = Locked<[ObjectIdentifier: WorkerProcess]>([:])
    private static let exitHookInstalled = Atomic<Bool>(false)

    private static func track(_ process: WorkerProcess) {
        children.withLock { $0[ObjectIdentifier(process)] = process }
        if exitHookInstalled.compareExchange(expected: false, desired: true, ordering: .relaxed).exchanged {
            SpindleThread.registerAtExit { WorkerProcess.finishChildrenAtExit() }
        }
    }

    private static func untrack(_ process: WorkerProcess) {
        _ = children.withLock { $0.removeValue(forKey: ObjectIdentifier(process)) }
    }

    /// The started children not yet seen to end (those that have ended are dropped).
    static func live() -> [WorkerProcess] {
        let all = children.withLock { Array($0.values) }
        var running: [WorkerProcess] = []
        for process in all {
            if process.isAlive { running.append(process) } else { untrack(process) }
        }
        return running
    }

    /// At exit, as Python's `multiprocessing.util._exit_function`: daemon children are asked to
    /// end (their parent-death signal ends them anyway), non-daemon children are waited for.
    private static func finishChildrenAtExit() {
        let running = live()
        for process in running where process.daemon { process.terminate() }
        for process in running where !process.daemon { _ = try? process.join() }
    }
}
