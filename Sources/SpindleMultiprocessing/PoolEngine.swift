import CSpindle
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
    /// How many tasks may be in flight to one worker at most (1: a task goes only to an idle
    /// worker, so that every pending one stays cancellable, as in Python's executor).
    var maxWindow: Int
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

    /// Makes sure the slot's worker is a live, started worker: launches one when there is none,
    /// replaces one that died while idle, and does the handshake of a new one.
    /// - Returns: `nil` when it is ready, or why the pool cannot start workers.
    private func prepare(_ index: Int, _ slot: inout Slot) -> String? {
        var killedStarts = 0
        while true {
            if slot.worker == nil {
                do {
                    slot.worker = try launch(slot: index)
                } catch {
                    return error.description
                }
                slot.newProcess()
            }
            guard let current = slot.worker else { continue }
            if slot.ready {
                if idleWorkerAlive(current) { return nil }
                let code = reap(current)
                slot.worker = nil
                if policy.breakOnWorkerDeath { return String(describing: policy.workerDied(current.popen.pid, code)) }
                continue
            }
            switch handshake(current) {
            case .ready:
                slot.ready = true
                return nil
            case .killed(let code):
                slot.worker = nil
                if policy.breakOnWorkerDeath { return String(describing: policy.workerDied(current.popen.pid, code)) }
                killedStarts += 1
                if killedStarts >= Self.startAttempts {
                    return "\(killedStarts) worker processes in a row were killed (signal \(-code)) as they started"
                }
            case .failed(let reason):
                stop(current)
                slot.worker = nil
                return reason
            }
        }
    }

    private var isTerminated: Bool { state.withLock { $0.phase == .terminated } }

    // MARK: - The worker threads
    //
    // Each thread keeps a window of tasks in flight to its process: it takes as many jobs as the
    // window allows from the shared queue, writes them in one write, then reads every reply
    // that has come (the worker runs what it read in order and writes the replies back in one
    // write). The window grows while the replies come back fast and stays at one task for slow
    // tasks, so that a long task holds back at most about `windowBudget` of other work; a thread
    // that goes idle starts again from one. Jobs that are not in any window stay in the shared
    // queue for whichever thread has room first.

    /// A task sent to a worker process and not answered yet.
    struct Flight {
        let job: PoolJob
        let id: UInt64
        let bytes: Int
        /// How many workers died before they received it.
        let attempts: Int
    }

    /// What a worker thread knows about its process and the tasks in flight to it.
    struct Slot {
        var worker: LaunchedChild?
        /// Whether the worker did its handshake.
        var ready = false
        /// Tasks sent to this process, and answered by it (for maxTasksPerChild).
        var sent = 0
        var done = 0
        var eagerLaunchFailed = false
        /// The tasks in flight, oldest first, are `flights[head...]`; the process has read the
        /// first `received` of them.
        var flights: [Flight] = []
        var head = 0
        var received = 0
        var bytesInFlight = 0
        /// Jobs whose process died before it read them: they go out first, to the next process.
        var retry: [(job: PoolJob, attempts: Int)] = []
        var nextID: UInt64 = 1
        /// How many tasks may be in flight now.
        var window = 1
        /// The time one task takes, as the replies show it (ns; 0: not known yet).
        var taskTime = 0.0
        /// When the last replies came, or when the process became busy.
        var lastProgress: Int64 = 0
        /// The thread took the stop message: it ends once nothing is in flight.
        var stopping = false
        /// The thread must end now (the pool is broken).
        var finished = false

        var inFlight: Int { flights.count - head }

        mutating func newProcess() {
            ready = false
            sent = 0
            done = 0
        }

        mutating func popFlight() -> Flight {
            let flight = flights[head]
            head += 1
            if head == flights.count {
                flights.removeAll(keepingCapacity: true)
                head = 0
            }
            received -= 1
            bytesInFlight -= flight.bytes
            return flight
        }

        /// Removes every task in flight; returns them with how many the process had read.
        mutating func takeFlights() -> (flights: ArraySlice<Flight>, received: Int) {
            let taken = (flights[head...], received)
            flights = []
            head = 0
            received = 0
            bytesInFlight = 0
            return taken
        }
    }

    /// The work a worker may have queued beyond the task it runs, in ns (see the note above).
    static let windowBudget = 1_000_000.0
    /// The argument bytes in flight to one worker at most (a single larger task goes alone). It
    /// is well below a socket's buffer, so a write of tasks never waits for the worker to read,
    /// and the worker's replies are always read.
    static let maxBytesInFlight = 65536

    private func run(slot index: Int, initial: LaunchedChild?) {
        var slot = Slot()
        slot.worker = initial
        defer {
            if let worker = slot.worker { stop(worker) }
            _ = state.withLock { $0.workers.removeValue(forKey: index) }
            // Nothing is dropped: what this thread still holds fails.
            let error: any Error = isTerminated ? policy.terminated() : policy.broken(state.withLock { $0.broken } ?? "the pool stopped")
            for flight in slot.takeFlights().flights { flight.job.complete(.failure(error)) }
            for entry in slot.retry { entry.job.complete(.failure(error)) }
        }
        while !slot.finished {
            if slot.worker == nil, !slot.eagerLaunchFailed, !slot.stopping,
                state.withLock({ $0.phase == .running && $0.broken == nil })
            {
                // Replace the process at once, so that it starts while the next job is awaited
                // (if that fails, the next job tries again and reports why).
                slot.worker = try? launch(slot: index)
                slot.eagerLaunchFailed = slot.worker == nil
                slot.newProcess()
            }
            let batch = takeJobs(&slot)
            if slot.finished { return }
            if !batch.isEmpty { send(batch, index, &slot) }
            if slot.finished { return }
            if slot.inFlight > 0 {
                receive(index, &slot)
            } else if batch.isEmpty, slot.stopping, slot.retry.isEmpty {
                return
            }
        }
    }

    /// Takes the jobs to send now: as many as the window and the task limit allow, waiting for
    /// one only when nothing is in flight (and checking meanwhile that an idle worker is there).
    private func takeJobs(_ slot: inout Slot) -> [(job: PoolJob, attempts: Int)] {
        var batch: [(job: PoolJob, attempts: Int)] = []
        var bytes = 0
        var checked: (phase: Phase, broken: String?)?
        while true {
            var limit = slot.window
            if let maxTasksPerChild { limit = Swift.min(limit, maxTasksPerChild - slot.sent) }
            guard slot.inFlight + batch.count < limit else { break }
            let entry: (job: PoolJob, attempts: Int)
            if !slot.retry.isEmpty {
                entry = slot.retry.removeFirst()
            } else {
                if slot.stopping { break }
                let message: Message
                if slot.inFlight == 0 && batch.isEmpty {
                    do {
                        message = try queue.get(timeout: Self.idleCheckInterval)
                    } catch {
                        idle(&slot)
                        if slot.finished { return [] }
                        continue
                    }
                } else {
                    guard let next = try? queue.getNowait() else { break }
                    message = next
                }
                guard case .job(let job) = message else {
                    try? queue.putNowait(.stop)
                    slot.stopping = true
                    break
                }
                if checked == nil { checked = state.withLock { ($0.phase, $0.broken) } }
                if checked!.phase == .terminated {
                    job.cancel(policy.terminated())
                    continue
                }
                if let broken = checked!.broken {
                    job.cancel(policy.broken(broken))
                    continue
                }
                guard job.begin() else { continue }
                entry = (job, 0)
            }
            let size = entry.job.request.arguments.count
            if slot.inFlight + batch.count > 0, slot.bytesInFlight + bytes + size > Self.maxBytesInFlight {
                slot.retry.insert(entry, at: 0)
                break
            }
            batch.append(entry)
            bytes += size
        }
        return batch
    }

    /// Nothing came for a while: makes sure the idle worker is still there, as Python's pool
    /// maintenance does, and starts the window again from one task.
    private func idle(_ slot: inout Slot) {
        slot.window = 1
        slot.taskTime = 0
        guard let current = slot.worker, !(slot.ready ? idleWorkerAlive(current) : current.popen.poll() == nil) else { return }
        let code = reap(current)
        slot.worker = nil
        // One that died before it even said hello may not be a worker program at all: start the
        // next one only for a job, which then learns why.
        if !slot.ready { slot.eagerLaunchFailed = true }
        if policy.breakOnWorkerDeath, !isTerminated {
            breakPool(String(describing: policy.workerDied(current.popen.pid, code)))
            slot.finished = true
        }
    }

    /// Sends `batch` to the slot's worker (starting one first if nothing is in flight) in one write.
    private func send(_ batch: [(job: PoolJob, attempts: Int)], _ index: Int, _ slot: inout Slot) {
        if slot.inFlight == 0 {
            if let failure = prepare(index, &slot) {
                if isTerminated {
                    for entry in batch { entry.job.complete(.failure(policy.terminated())) }
                    return
                }
                // Broken first, so that whoever the failure wakes finds the pool broken.
                breakPool(failure)
                for entry in batch { entry.job.complete(.failure(policy.broken(failure))) }
                slot.finished = true
                return
            }
            slot.eagerLaunchFailed = false
            slot.lastProgress = spindle_monotonic_ns()
        }
        guard let current = slot.worker else { return }
        var frames: [UInt8] = []
        for entry in batch {
            let id = slot.nextID
            slot.nextID &+= 1
            PoolWire.appendTask(entry.job.request, id: id, to: &frames)
            let size = entry.job.request.arguments.count
            slot.flights.append(Flight(job: entry.job, id: id, bytes: size, attempts: entry.attempts))
            slot.bytesInFlight += size
        }
        slot.sent += batch.count
        do {
            try current.connection.sendFrames(frames)
        } catch {
            workerLost(&slot)
        }
    }

    /// Reads the replies of the slot's worker: waits for one frame, then takes every one that
    /// has come, and completes the answered jobs.
    private func receive(_ index: Int, _ slot: inout Slot) {
        guard let current = slot.worker else { return }
        var replies = 0
        defer { adaptWindow(&slot, replies: replies) }
        do {
            repeat {
                let frame = try current.connection.recvBytes()
                switch try PoolWire.readReply(frame) {
                case .received(let count):
                    guard slot.received + count <= slot.inFlight else {
                        throw MultiprocessingError.decodingFailed("the worker read \(slot.received + count) of \(slot.inFlight) tasks")
                    }
                    slot.received += count
                case .outcome(let id, let outcome):
                    guard slot.received > 0, slot.flights[slot.head].id == id else {
                        let expected = slot.inFlight > 0 ? String(slot.flights[slot.head].id) : "none"
                        throw MultiprocessingError.decodingFailed("the worker answered task \(id) instead of task \(expected)")
                    }
                    let flight = slot.popFlight()
                    slot.done += 1
                    replies += 1
                    flight.job.complete(.success(outcome))
                    if let limit = maxTasksPerChild, slot.done >= limit {
                        // The worker exits by itself after its last task.
                        reap(current)
                        slot.worker = nil
                        slot.newProcess()
                        return
                    }
                }
            } while try slot.inFlight > 0 && current.connection.poll(timeout: 0)
        } catch {
            workerLost(&slot)
        }
    }

    /// Sets the window from the time the last replies took: about `windowBudget` of work, at
    /// most the policy's window, growing at most twofold at a time.
    private func adaptWindow(_ slot: inout Slot, replies: Int) {
        guard replies > 0 else { return }
        let now = spindle_monotonic_ns()
        let perTask = Double(Swift.max(0, now - slot.lastProgress)) / Double(replies)
        slot.lastProgress = now
        slot.taskTime = slot.taskTime == 0 ? perTask : 0.75 * slot.taskTime + 0.25 * perTask
        let target = Swift.min(Double(policy.maxWindow), Swift.max(1, Self.windowBudget / Swift.max(slot.taskTime, 1)))
        slot.window = Swift.min(Int(target), slot.window * 2)
    }

    /// The slot's worker died (or broke the protocol) with tasks in flight. Those it had read
    /// fail with its death: one was running, and it may have run others whose replies it had
    /// not written yet. Those it had not read go to the next process, a few times at most.
    private func workerLost(_ slot: inout Slot) {
        guard let current = slot.worker else { return }
        let code = reap(current)
        slot.worker = nil
        slot.newProcess()
        let (flights, received) = slot.takeFlights()
        if isTerminated {
            for flight in flights { flight.job.complete(.failure(policy.terminated())) }
            return
        }
        let died = policy.workerDied(current.popen.pid, code)
        if policy.breakOnWorkerDeath {
            // Broken first, so that whoever the failure wakes finds the pool broken.
            breakPool(String(describing: died))
            for flight in flights { flight.job.complete(.failure(died)) }
            slot.finished = true
            return
        }
        for (offset, flight) in flights.enumerated() {
            if offset < received || flight.attempts + 1 >= Self.startAttempts {
                flight.job.complete(.failure(died))
            } else {
                slot.retry.append((flight.job, flight.attempts + 1))
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
        if !isTerminated {
            var frame: [UInt8] = []
            PoolWire.appendStop(to: &frame)
            try? child.connection.sendFrames(frame)
        }
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
