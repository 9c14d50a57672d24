import DequeModule
import SpindleSystem
import SpindleThreading
import Synchronization

/// One submitted work item: the future, and how to run it. `run` comes from the submitting
/// code, specialised for the future's value type there.
@usableFromInline
struct PoolJob: Sendable {
    @usableFromInline let future: any RunnableFuture
    @usableFromInline let run: @Sendable (AnyObject, () -> Void) -> Void

    @inlinable
    init(future: any RunnableFuture, run: @escaping @Sendable (AnyObject, () -> Void) -> Void) {
        self.future = future
        self.run = run
    }
}

/// The pool's state machine, guarded by `PoolCore`'s lock. Its methods decide; the actions they
/// return (waking a worker, starting a thread's work, failing futures) run after the lock is
/// released.
///
/// Waking follows the "searching worker" rule: a worker that runs out of work first searches
/// (spins, without the lock, watching the queue's length) before it parks. A submission wakes a
/// parked worker only when no worker is searching, and a searching worker that finds work and
/// leaves more behind wakes the next one. So a steady stream of small tasks is picked up by a
/// searching worker without any system call, and a burst still spreads over every worker.
struct PoolState {
    var jobs = Deque<PoolJob>()
    /// Parked idle workers, the most recently parked last.
    var sleepers: [Parker] = []
    /// Workers searching for work (spinning before they park).
    var searching = 0
    /// Python's idle semaphore: items finished minus submissions that counted on an idle worker.
    /// Kept only until every thread is started (then no decision depends on it).
    var idle = 0
    var threads: [SpindleThread] = []
    var shutdown = false
    var broken: String?

    /// The most workers that search at once (the others park at once).
    static let maxSearching = Swift.max(1, ProcessorCount.online / 2)

    enum Submit {
        case wake(Parker?)
        case fail(FutureError)
    }

    /// Queues a job; says which parked worker to wake, if any.
    mutating func submit(_ job: PoolJob) -> Submit {
        if let broken { return .fail(.broken(broken)) }
        if shutdown { return .fail(.shutDown) }
        jobs.append(job)
        guard searching == 0, !sleepers.isEmpty else { return .wake(nil) }
        let parker = sleepers.removeLast()
        searching += 1  // the woken worker searches
        return .wake(parker)
    }

    enum Next {
        /// Run the job, after waking the parker if any.
        case run(PoolJob, wake: Parker?)
        /// Search: spin, watching for work, then ask again.
        case search
        /// Park until woken (the parker is queued).
        case park
        /// The pool is shut down and its queue is empty.
        case exit
    }

    /// What a worker does next.
    /// - Parameters:
    ///   - isSearching: Whether the worker is counted as searching; updated.
    ///   - parker: The worker's parker, reset and queued if it is to park.
    mutating func next(isSearching: inout Bool, parker: Parker) -> Next {
        if let job = jobs.popFirst() {
            var wake: Parker?
            if isSearching {
                isSearching = false
                searching -= 1
                if searching == 0, !jobs.isEmpty, !sleepers.isEmpty {
                    searching += 1
                    wake = sleepers.removeLast()
                }
            }
            return .run(job, wake: wake)
        }
        if shutdown {
            if isSearching {
                isSearching = false
                searching -= 1
            }
            return .exit
        }
        if !isSearching, searching < Self.maxSearching {
            isSearching = true
            searching += 1
            return .search
        }
        if isSearching {
            isSearching = false
            searching -= 1
        }
        parker.reset()
        sleepers.append(parker)
        return .park
    }

    /// Stops accepting work; takes the parked workers to wake, and the queued jobs if they are to
    /// be cancelled.
    mutating func stop(takingJobs: Bool) -> (jobs: [PoolJob], sleepers: [Parker]) {
        shutdown = true
        var taken: [PoolJob] = []
        if takingJobs {
            taken = Array(jobs)
            jobs.removeAll()
        }
        defer { sleepers.removeAll() }
        return (taken, sleepers)
    }

    /// Breaks the pool; takes the queued jobs, which are to fail.
    mutating func breakPool(_ reason: String) -> [PoolJob] {
        broken = reason
        defer { jobs.removeAll() }
        return Array(jobs)
    }
}

/// The pool's shared parts. Workers hold this, not the executor, so that an executor nobody
/// holds any more shuts down (and its idle workers end).
@usableFromInline
final class PoolCore: @unchecked Sendable {
    let maxWorkers: Int
    let prefix: String
    let initializer: (@Sendable () throws -> Void)?
    /// The futex mutex that guards `poolState` (the module's own, rather than a `Locked`, so that
    /// the critical sections are specialised and inlined here).
    private let lockWord = allocateFutexWord(0)
    @exclusivity(unchecked) private var poolState = PoolState()
    /// The queue's length, for searching workers to watch without the lock.
    private let queued = Atomic<Int>(0)
    /// Set by `shutdown`, for searching workers to watch.
    private let stopping = Atomic<Bool>(false)
    /// Set once all `maxWorkers` threads are started: the idle count no longer matters.
    private let full = Atomic<Bool>(false)

    init(maxWorkers: Int, prefix: String, initializer: (@Sendable () throws -> Void)?) {
        self.maxWorkers = maxWorkers
        self.prefix = prefix
        self.initializer = initializer
    }

    deinit { deallocateFutexWord(lockWord) }

    /// Runs `body` on the state with the mutex held.
    @inline(__always)
    private func withState<Result>(_ body: (inout PoolState) -> Result) -> Result {
        futexMutexLock(lockWord)
        defer { futexMutexUnlock(lockWord) }
        return body(&poolState)
    }

    var workerCount: Int { withState { $0.threads.count } }

    @usableFromInline
    func enqueue(_ job: PoolJob) throws(FutureError) {
        let full = self.full.load(ordering: .relaxed)
        let action = withState { state -> PoolState.Submit in
            let action = state.submit(job)
            if case .wake = action {
                queued.store(state.jobs.count, ordering: .relaxed)
                if !full { adjustThreadCount(&state) }
            }
            return action
        }
        switch action {
        case .wake(let parker): parker?.unpark(WaitToken.granted)
        case .fail(let error): throw error
        }
    }

    /// Starts a worker unless one is idle (Python's `_adjust_thread_count`).
    private func adjustThreadCount(_ state: inout PoolState) {
        if state.idle > 0 {
            state.idle -= 1
            return
        }
        guard state.threads.count < maxWorkers else { return }
        let worker = SpindleThread(name: "\(prefix)_\(state.threads.count)", daemon: false) { [self] in
            workerLoop()
        }
        state.threads.append(worker)
        do {
            try worker.start()
        } catch {
            state.threads.removeLast()
        }
        if state.threads.count == maxWorkers { full.store(true, ordering: .relaxed) }
    }

    /// Counts the worker idle (Python releases the idle semaphore after each item).
    private func markIdle() {
        if full.load(ordering: .relaxed) { return }
        withState { $0.idle += 1 }
    }

    private func workerLoop() {
        if let initializer {
            do {
                try initializer()
            } catch {
                initializerFailed(error)
                return
            }
        }
        var isSearching = false
        let parker = Parker.forCurrentThread()
        while true {
            let (next, searching) = withState { state -> (PoolState.Next, Bool) in
                var searching = isSearching
                let next = state.next(isSearching: &searching, parker: parker)
                if case .run = next { queued.store(state.jobs.count, ordering: .relaxed) }
                return (next, searching)
            }
            isSearching = searching
            switch next {
            case .run(let job, let wake):
                wake?.unpark(WaitToken.granted)
                job.run(job.future) { markIdle() }
            case .search:
                search()
            case .park:
                // Woken by a submission (as a searching worker) or by shutdown.
                isSearching = parker.park() == WaitToken.granted
            case .exit:
                return
            }
        }
    }

    /// Spins until the queue has work or the pool stops, for a short while: first on the
    /// processor, then yielding it (the submitter may share it).
    private func search() {
        for round in 0..<Self.searchRounds {
            if queued.load(ordering: .relaxed) > 0 || stopping.load(ordering: .relaxed) { return }
            if round < Self.spinRounds { cpuRelax() } else { yieldProcessor() }
        }
    }

    private static let spinRounds = 100
    private static let searchRounds = 120

    private func initializerFailed(_ error: any Error) {
        let reason = "A thread initializer failed, the thread pool is not usable anymore (\(error))"
        let jobs = withState { state in
            let jobs = state.breakPool(reason)
            queued.store(0, ordering: .relaxed)
            return jobs
        }
        for job in jobs { job.future.fail(FutureError.broken(reason)) }
    }

    func shutdown(wait: Bool, cancelFutures: Bool) {
        let (jobs, sleepers, threads) = withState { state in
            let (jobs, sleepers) = state.stop(takingJobs: cancelFutures)
            stopping.store(true, ordering: .relaxed)
            queued.store(state.jobs.count, ordering: .relaxed)
            return (jobs, sleepers, state.threads)
        }
        for job in jobs { job.future.cancel() }
        for parker in sleepers { parker.unpark(WaitToken.shutDown) }
        if wait {
            for thread in threads where thread !== SpindleThread.current { _ = try? thread.join() }
        }
    }

    // At program exit every live pool is shut down without waiting, so that its workers finish
    // the queued work and end, and the exit-time join of non-daemon threads completes.
    private static let live = Locked<[ObjectIdentifier: WeakCore]>([:])
    private static let exitHookInstalled = Atomic<Bool>(false)

    struct WeakCore { weak var core: PoolCore? }

    static func registerForExit(_ core: PoolCore) {
        live.withLock { live in
            live = live.filter { $0.value.core != nil }
            live[ObjectIdentifier(core)] = WeakCore(core: core)
        }
        if exitHookInstalled.compareExchange(expected: false, desired: true, ordering: .relaxed).exchanged {
            SpindleThread.registerAtExit {
                let cores = PoolCore.live.withLock { $0.values.compactMap(\.core) }
                for core in cores { core.shutdown(wait: false, cancelFutures: false) }
            }
        }
    }
}
