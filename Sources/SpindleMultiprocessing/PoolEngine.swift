import Glibc
import SpindleQueue
import SpindleSubprocess
import SpindleSystem
import SpindleThreading
import Synchronization

/// One call of a worker function on a chunk of arguments, with what to do when it ends.
final class PoolJob: Sendable {
    /// The call (its id is set when it is sent).
    let request: TaskRequest
    /// Called by the worker thread that takes the job; `false` means it was cancelled: skip it.
    let begin: @Sendable () -> Bool
    /// Called once, with the chunk's outcome or the error that stopped the job.
    let complete: @Sendable (Result<ChunkOutcome, any Error>) -> Void
    /// Called instead of `complete` when the job is dropped before it ran (a shutdown that
    /// cancels, a pool terminated).
    let cancel: @Sendable (_ error: any Error) -> Void

    init(
        request: TaskRequest,
        begin: @escaping @Sendable () -> Bool,
        complete: @escaping @Sendable (Result<ChunkOutcome, any Error>) -> Void,
        cancel: @escaping @Sendable (_ error: any Error) -> Void
    ) {
        self.request = request
        self.begin = begin
        self.complete = complete
        self.cancel = cancel
    }
}

/// What a pool does when a worker dies, and the errors it reports.
struct PoolPolicy: Sendable {
    /// Whether a worker that dies breaks the whole pool (ProcessPoolExecutor) instead of being
    /// replaced (Pool).
    var breakOnWorkerDeath: Bool
    /// Whether the worker threads keep the program alive at exit until the queued work is done
    /// (ProcessPoolExecutor, as Python's); a Pool's workers are simply ended with the program.
    var finishWorkAtExit: Bool
    /// The name prefix of the worker processes.
    var namePrefix: String
    /// The error of a task whose worker died.
    var workerDied: @Sendable (_ pid: Int32, _ exitcode: Int32?) -> any Error
    /// The error of tasks of a pool that can run nothing more.
    var broken: @Sendable (_ reason: String) -> any Error
    /// The error of tasks of a pool that was terminated.
    var terminated: @Sendable () -> any Error
}

/// The machinery shared by `Pool` and `ProcessPoolExecutor`: a queue of jobs, and one thread per
/// worker process that takes a job, sends it to its process, waits for the reply and completes
/// the job. A thread whose process dies fails its job (never leaving the caller waiting), then
/// replaces the process or breaks the pool, as the policy says.
final class PoolEngine: @unchecked Sendable {
    enum Phase {
        case running, closed, terminated
    }

    enum Message: Sendable {
        case job(PoolJob)
        /// Tells a thread to stop its process and end; each passes it on to the next.
        case stop
    }

    struct State {
        var phase = Phase.running
        var broken: String?
        /// Set by each worker thread as it ends.
        var finished: [Event] = []
        /// The worker threads' identifiers, with the index of their event in `finished`.
        var threadEvents: [UInt: Int] = [:]
        /// The process each thread runs now, by slot.
        var workers: [Int: LaunchedChild] = [:]
        var nextTaskID: UInt64 = 1
        var workerNumber = 0
    }

    let size: Int
    let maxTasksPerChild: Int?
    let initializer: TaskRequest?
    let policy: PoolPolicy
    let queue = Queue<Message>()
    let state = Locked(State())

    /// How long a new worker may take to show it bootstrapped.
    static let startupTimeout = 60.0
    /// How long a stopping worker may take to exit before it is killed.
    static let stopTimeout = 10.0
    /// How often an idle worker thread checks that its process is still there.
    static let idleCheckInterval = 0.1

    init(size: Int, maxTasksPerChild: Int?, initializer: TaskRequest?, policy: PoolPolicy) {
        self.size = size
        self.maxTasksPerChild = maxTasksPerChild
        self.initializer = initializer
        self.policy = policy
    }

    // MARK: - Starting

    /// Starts the worker threads; with `launchNow`, the processes are started here first, so
    /// that a program that cannot be started is reported to the caller.
    func start(launchNow: Bool) throws(MultiprocessingError) {
        var initial: [LaunchedChild?] = Array(repeating: nil, count: size)
        if launchNow {
            for slot in 0..<size {
                do {
                    initial[slot] = try launch(slot: slot)
                } catch {
                    for child in initial.compactMap({ $0 }) { child.popen.kill(); _ = try? child.popen.wait() }
                    state.withLock { $0.workers.removeAll() }
                    throw error
                }
            }
        }
        for slot in 0..<size {
            // The thread holds the engine while it runs; the engine holds only an event per
            // thread (no thread objects), so nothing keeps the engine alive once they end.
            let finished = Event()
            let thread = SpindleThread(name: "\(policy.namePrefix)-handler-\(slot)", daemon: !policy.finishWorkAtExit) {
                [self] in
                let initial = state.withLock { state -> LaunchedChild? in
                    state.threadEvents[SpindleThread.currentIdent] = slot
                    return state.workers[slot]
                }
                run(slot: slot, initial: initial)
                finished.set()
            }
            state.withLock { $0.finished.append(finished) }
            do {
                try thread.start()
            } catch {
                finished.set()
                let child = state.withLock { $0.workers.removeValue(forKey: slot) }
                child?.popen.kill()
                _ = try? child?.popen.wait()
                breakPool("cannot start a thread for a worker: \(error)")
                return
            }
        }
    }

    /// Starts a worker process for `slot` and records it.
    private func launch(slot: Int) throws(MultiprocessingError) -> LaunchedChild {
        let number = state.withLock { state -> Int in
            state.workerNumber += 1
            return state.workerNumber
        }
        let child = try ChildLauncher.launch(
            role: "pool", name: "\(policy.namePrefix)-\(number)", daemon: true, target: nil)
        let terminated = state.withLock { state -> Bool in
            state.workers[slot] = child
            return state.phase == .terminated
        }
        if terminated { child.popen.kill() }
        return child
    }

    /// How a new worker's start went.
    enum Handshake {
        /// It bootstrapped (and ran its initializer).
        case ready
        /// A signal ended it before it answered (killed from outside): worth another try.
        case killed(Int32)
        /// It cannot work: not a worker program, a failed initializer, a terminated pool.
        case failed(String)
    }

    /// How many workers in a row may be killed during their start before the pool gives up.
    static let startAttempts = 3

    /// Waits for the worker's hello, sends its setup and waits for its initializer.
    private func handshake(_ child: LaunchedChild) -> Handshake {
        let connection = child.connection
        let program = "\(Multiprocessing.executable) (pid \(child.popen.pid))"
        do {
            guard try connection.poll(timeout: Self.startupTimeout) else {
                return .failed(
                    "\(program) did not answer within \(Int(Self.startupTimeout)) s: "
                        + "does its main call Multiprocessing.bootstrap() first?")
            }
            let hello = try connection.recv(WorkerHello.self)
            guard hello.magic == WorkerHello.expectedMagic else {
                return .failed("\(program) is not a Spindle worker of this version")
            }
            try connection.send(PoolWorkerSetup(initializer: initializer, maxTasks: maxTasksPerChild))
            if let initializer {
                let report = try connection.recv(InitializerReport.self)
                if let failure = report.failure {
                    let error = failure.firstError(function: initializer.function, signature: initializer.signature)
                    return .failed("the initializer '\(initializer.function)' failed: \(error.map { "\($0)" } ?? "no result")")
                }
            }
            return .ready
        } catch {
            if isTerminated { return .failed("the pool was terminated") }
            let code = reap(child)
            if let code, code < 0 { return .killed(code) }
            let how = code.map { "exited with status \($0)" } ?? "ended"
            return .failed("\(program) \(how) before it started as a worker; does its main call Multiprocessing.bootstrap() first?")
        }
    }

    /// Whether an idle worker is still there: its process runs and its connection has nothing
    /// to say (an idle worker never speaks; a readable connection is its end).
    private func idleWorkerAlive(_ child: LaunchedChild) -> Bool {
        guard child.popen.poll() == nil else { return false }
        return (try? child.connection.poll(timeout: 0)) == false
    }

    /// Makes sure `worker` is a live, started worker: launches one when there is none, replaces
    /// one that died while idle, and does the handshake of a new one.
    /// - Returns: `nil` when it is ready, or why the pool cannot start workers.
    private func prepare(slot: Int, worker: inout LaunchedChild?, ready: inout Bool, tasksDone: inout Int) -> String? {
        var killedStarts = 0
        while true {
            if worker == nil {
                do {
                    worker = try launch(slot: slot)
                } catch {
                    return error.description
                }
                ready = false
                tasksDone = 0
            }
            guard let current = worker else { continue }
            if ready {
                if idleWorkerAlive(current) { return nil }
                let code = reap(current)
                worker = nil
                if policy.breakOnWorkerDeath { return String(describing: policy.workerDied(current.popen.pid, code)) }
                continue
            }
            switch handshake(current) {
            case .ready:
                ready = true
                return nil
            case .killed(let code):
                worker = nil
                if policy.breakOnWorkerDeath { return String(describing: policy.workerDied(current.popen.pid, code)) }
                killedStarts += 1
                if killedStarts >= Self.startAttempts {
                    return "\(killedStarts) worker processes in a row were killed (signal \(-code)) as they started"
                }
            case .failed(let reason):
                stop(current)
                worker = nil
                return reason
            }
        }
    }

    private var isTerminated: Bool { state.withLock { $0.phase == .terminated } }

    // MARK: - The worker threads

    private func run(slot: Int, initial: LaunchedChild?) {
        var worker = initial
        var ready = false
        var tasksDone = 0
        var eagerLaunchFailed = false
        defer {
            if let worker { stop(worker) }
            _ = state.withLock { $0.workers.removeValue(forKey: slot) }
        }
        while true {
            if worker == nil, !eagerLaunchFailed, state.withLock({ $0.phase == .running && $0.broken == nil }) {
                // Replace the process at once, so that it starts while the next job is awaited
                // (if that fails, the next job tries again and reports why).
                worker = try? launch(slot: slot)
                eagerLaunchFailed = worker == nil
                ready = false
                tasksDone = 0
            }
            let message: Message
            do {
                message = try queue.get(timeout: Self.idleCheckInterval)
            } catch {
                // Idle: make sure the worker is still there, as Python's pool maintenance does.
                if let current = worker, !(ready ? idleWorkerAlive(current) : current.popen.poll() == nil) {
                    let code = reap(current)
                    worker = nil
                    // One that died before it even said hello may not be a worker program at
                    // all: start the next one only for a job, which then learns why.
                    if !ready { eagerLaunchFailed = true }
                    if policy.breakOnWorkerDeath, !isTerminated {
                        breakPool(String(describing: policy.workerDied(current.popen.pid, code)))
                        return
                    }
                }
                continue
            }
            guard case .job(let job) = message else {
                try? queue.putNowait(.stop)
                return
            }
            let (phase, broken) = state.withLock { ($0.phase, $0.broken) }
            if phase == .terminated {
                job.cancel(policy.terminated())
                continue
            }
            if let broken {
                job.cancel(policy.broken(broken))
                continue
            }
            guard job.begin() else { continue }
            if !runJob(job, slot: slot, worker: &worker, ready: &ready, tasksDone: &tasksDone) { return }
            eagerLaunchFailed = false
        }
    }

    /// Runs `job` on the slot's worker (starting one if needed) and completes it.
    ///
    /// A worker acknowledges a task before it runs it, so a worker that dies before the
    /// acknowledgement never started the task: the task then goes to a new worker (a few times at
    /// most), and only a task that was really running fails with the death of its worker.
    /// - Returns: `false` when the thread must end (the pool is broken).
    private func runJob(
        _ job: PoolJob, slot: Int, worker: inout LaunchedChild?, ready: inout Bool, tasksDone: inout Int
    ) -> Bool {
        var attempts = 0
        while true {
            if let failure = prepare(slot: slot, worker: &worker, ready: &ready, tasksDone: &tasksDone) {
                if isTerminated {
                    job.complete(.failure(policy.terminated()))
                    return true
                }
                // Broken first, so that whoever the failure wakes finds the pool broken.
                breakPool(failure)
                job.complete(.failure(policy.broken(failure)))
                return false
            }
            guard let current = worker else { return false }
            let id = state.withLock { state -> UInt64 in
                defer { state.nextTaskID += 1 }
                return state.nextTaskID
            }
            var request = job.request
            request.id = id
            var started = false
            do {
                try current.connection.send(ParentMessage.task(request))
                _ = try current.connection.recvBytes(maxLength: 0)  // the acknowledgement
                started = true
                let reply = try current.connection.recv(TaskReply.self)
                guard reply.id == id else {
                    throw MultiprocessingError.decodingFailed("the worker answered task \(reply.id) instead of task \(id)")
                }
                job.complete(.success(reply.outcome))
                tasksDone += 1
                if let limit = maxTasksPerChild, tasksDone >= limit {
                    // The worker exits by itself after its last task.
                    reap(current)
                    worker = nil
                }
                return true
            } catch {
                let code = reap(current)
                worker = nil
                if isTerminated {
                    job.complete(.failure(policy.terminated()))
                    return true
                }
                let died = policy.workerDied(current.popen.pid, code)
                if policy.breakOnWorkerDeath {
                    breakPool(String(describing: died))
                    job.complete(.failure(died))
                    return false
                }
                attempts += 1
                if started || attempts >= Self.startAttempts {
                    job.complete(.failure(died))
                    return true
                }
            }
        }
    }

    /// Waits for a worker whose connection ended (killing it if it does not exit soon).
    @discardableResult
    private func reap(_ child: LaunchedChild) -> Int32? {
        child.connection.close()
        if let code = try? child.popen.wait(timeout: Self.stopTimeout) { return code }
        child.popen.kill()
        return try? child.popen.wait()
    }

    /// Asks a worker to exit and waits for it.
    private func stop(_ child: LaunchedChild) {
        if !isTerminated { try? child.connection.send(ParentMessage.stop) }
        reap(child)
    }

    // MARK: - Submitting and stopping

    /// Queues jobs, all or none.
    /// - Throws: `PoolRefusal.broken` once the pool is broken, `.notRunning` after close or
    ///   terminate (the caller turns them into its own errors).
    func submit(_ jobs: [PoolJob]) throws(PoolRefusal) {
        try state.withLock { (state: inout State) throws(PoolRefusal) in
            if let broken = state.broken { throw .broken(broken) }
            guard state.phase == .running else { throw .notRunning }
            for job in jobs { try? queue.putNowait(.job(job)) }
        }
    }

    /// The pool can run nothing more: queued jobs fail, later submissions are refused, and with
    /// the executor's policy the other workers are ended too.
    func breakPool(_ reason: String) {
        let workers = state.withLock { state -> [LaunchedChild] in
            if state.broken == nil { state.broken = reason }
            return Array(state.workers.values)
        }
        let failure = policy.broken(reason)
        failQueued { $0.cancel(failure) }
        try? queue.putNowait(.stop)
        if policy.breakOnWorkerDeath {
            for child in workers { child.popen.kill() }
        }
    }

    /// Removes every queued job, handing each to `body`; sentinels stay.
    private func failQueued(_ body: (PoolJob) -> Void) {
        var sentinels = 0
        while let message = try? queue.getNowait() {
            switch message {
            case .job(let job): body(job)
            case .stop: sentinels += 1
            }
        }
        for _ in 0..<sentinels { try? queue.putNowait(.stop) }
    }

    /// Stops taking jobs; the queued ones still run, then the workers exit (Python's `close`).
    func close() {
        let first = state.withLock { state -> Bool in
            guard state.phase == .running else { return false }
            state.phase = .closed
            return true
        }
        if first { try? queue.putNowait(.stop) }
    }

    /// Stops taking jobs and cancels the queued ones with `error`; running ones finish.
    func close(cancelling error: any Error) {
        close()
        failQueued { $0.cancel(error) }
    }

    /// Ends every worker now; queued and running jobs fail with the policy's terminated error.
    func terminate() {
        let workers = state.withLock { state -> [LaunchedChild] in
            state.phase = .terminated
            return Array(state.workers.values)
        }
        let failure = policy.terminated()
        failQueued { $0.cancel(failure) }
        try? queue.putNowait(.stop)
        for child in workers { child.popen.kill() }
    }

    /// Waits for the worker threads (and so their processes) to end; called from a pool's own
    /// callback (which runs on a worker thread), it does not wait for that thread.
    func join() {
        let (finished, mine) = state.withLock { ($0.finished, $0.threadEvents[SpindleThread.currentIdent]) }
        for (index, event) in finished.enumerated() where index != mine { event.wait() }
    }

    var phase: Phase { state.withLock { $0.phase } }

    /// The pids of the worker processes running now.
    var workerPIDs: [Int32] {
        let workers = state.withLock { state in state.workers.keys.sorted().compactMap { state.workers[$0] } }
        return workers.filter { $0.popen.returncode == nil }.map(\.popen.pid)
    }

    // MARK: - At exit

    private static let live = Locked<[ObjectIdentifier: WeakEngine]>([:])
    private static let exitHookInstalled = Atomic<Bool>(false)

    struct WeakEngine { weak var engine: PoolEngine? }

    /// At program exit an executor finishes its queued work (its threads are non-daemon, and
    /// the close lets them end); a pool is terminated.
    static func registerForExit(_ engine: PoolEngine) {
        live.withLock { live in
            live = live.filter { $0.value.engine != nil }
            live[ObjectIdentifier(engine)] = WeakEngine(engine: engine)
        }
        if exitHookInstalled.compareExchange(expected: false, desired: true, ordering: .relaxed).exchanged {
            SpindleThread.registerAtExit {
                let engines = PoolEngine.live.withLock { $0.values.compactMap(\.engine) }
                for engine in engines {
                    if engine.policy.finishWorkAtExit { engine.close() } else { engine.terminate() }
                }
            }
        }
    }
}

/// Why a pool refused a submission.
enum PoolRefusal: Error {
    case notRunning
    case broken(String)
}
