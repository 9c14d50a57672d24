import Glibc
import SpindleFutures
import SpindleMultiprocessing
import SpindleSystem
import Testing

/// Ported from CPython's test_concurrent_futures (test_process_pool, test_shutdown,
/// test_deadlock's crash cases).
@Suite("multiprocessing: ProcessPoolExecutor", .serialized, .timeLimit(.minutes(5)))
struct ProcessPoolExecutorTests {
    init() { Fixture.use() }

    @Test func submitAndResult() throws {
        try ProcessPoolExecutor(maxWorkers: 2).scoped { executor throws in
            #expect(executor.maxWorkers == 2)
            let future = try executor.submit(Fx.square, 8)
            #expect(try future.result(timeout: 30) == 64)
            #expect(future.done && !future.cancelled)
            let futures = try (0..<20).map { try executor.submit(Fx.square, $0) }
            #expect(try futures.map { try $0.result(timeout: 30) } == (0..<20).map { $0 * $0 })
            #expect(try executor.submit(Fx.roundTrip, Sample.make(9)).result(timeout: 30) == Sample.make(9))
        }
    }

    /// Runs the same executor-generic code (`some FutureExecutor`) that a caller would write once.
    private func squaresAndPIDs(on executor: some FutureExecutor, square: some ExecutorFunction<Int, Int>,
                                pid: some ExecutorFunction<Int, Int32>) throws -> (sum: Int, mapped: [Int], pids: Set<Int32>) {
        let futures = try (1...10).map { try executor.submit(square, $0) }
        let sum = try futures.reduce(0) { try $0 + $1.result(timeout: 30) }
        let mapped = try executor.map(square, 0..<25, timeout: 60, chunksize: 4).results()
        let pids = Set(try executor.map(pid, 0..<8, timeout: 60, chunksize: 1).results())
        return (sum, mapped, pids)
    }

    @Test func codeWrittenAgainstFutureExecutorRunsOnThreadsAndOnProcesses() throws {
        // The same names as the worker program's functions, with bodies for this process.
        let square = WorkerFunction<Int, Int>("square") { $0 * $0 }
        let pid = WorkerFunction<Int, Int32>("pid") { _ in getpid() }
        let onThreads = try ThreadPoolExecutor(maxWorkers: 2).scoped { try squaresAndPIDs(on: $0, square: square, pid: pid) }
        let onProcesses = try ProcessPoolExecutor(maxWorkers: 2).scoped { executor in
            let outcome = try squaresAndPIDs(on: executor, square: square, pid: pid)
            #expect(outcome.pids.isSubset(of: Set(executor.workerPIDs)))
            return outcome
        }
        #expect(onThreads.sum == 385 && onProcesses.sum == 385)
        #expect(onThreads.mapped == (0..<25).map { $0 * $0 })
        #expect(onProcesses.mapped == onThreads.mapped)
        #expect(onThreads.pids == [getpid()])
        #expect(!onProcesses.pids.contains(getpid()) && !onProcesses.pids.isEmpty)
    }

    @Test func aFailedItemOfAMapThrowsWhenReachedAndTheRestCanBeRead() throws {
        try ProcessPoolExecutor(maxWorkers: 2).scoped { executor throws in
            let results = try executor.map(Fx.failOdd, [0, 2, 3, 4], timeout: 60, chunksize: 4)
            #expect(try results.next() == 0)
            #expect(try results.next() == 4)
            #expect(throws: RemoteError.self) { try results.next() }
            #expect(try results.next() == 16)
            #expect(try results.next() == nil)
        }
    }

    @Test func awaitingAFuture() async throws {
        let executor = ProcessPoolExecutor(maxWorkers: 1)
        defer { executor.shutdown() }
        let future = try executor.submit(Fx.square, 11)
        #expect(try await future.value == 121)
    }

    @Test func mapKeepsOrderWithAndWithoutChunks() throws {
        try ProcessPoolExecutor(maxWorkers: 3).scoped { executor throws in
            let items = Array(0..<100)
            #expect(try executor.map(Fx.square, items).results() == items.map { $0 * $0 })
            #expect(try executor.map(Fx.square, items, chunksize: 9).results() == items.map { $0 * $0 })
            #expect(try executor.map(Fx.square, [Int]()).results() == [])
        }
    }

    @Test func mapTimesOut() throws {
        let executor = ProcessPoolExecutor(maxWorkers: 1)
        let results = try executor.map(Fx.sleep, [0.0, 5.0], timeout: 0.5)
        #expect(try results.next() != nil)
        #expect(throws: FutureError.timedOut) { try results.next() }
        executor.shutdown(wait: true, cancelFutures: true)
    }

    @Test func exceptionsComeBackThroughTheFuture() throws {
        try ProcessPoolExecutor(maxWorkers: 1).scoped { executor throws in
            let future = try executor.submit(Fx.fail, "executor")
            #expect {
                try future.result(timeout: 30)
            } throws: { error in
                (error as? RemoteError)?.message == "failed on purpose: executor"
            }
            let exception = try future.exception(timeout: 30)
            #expect(exception is RemoteError)
            #expect(throws: MultiprocessingError.unknownFunction("noSuchFunction")) {
                try executor.submit(Fx.missing, 1).result(timeout: 30)
            }
            #expect(try executor.submit(Fx.square, 2).result(timeout: 30) == 4)
        }
    }

    @Test func submitAfterShutdownIsRefused() throws {
        let executor = ProcessPoolExecutor(maxWorkers: 1)
        executor.shutdown()
        #expect(throws: FutureError.shutDown) { try executor.submit(Fx.square, 1) }
        #expect(throws: FutureError.shutDown) { try executor.map(Fx.square, [1]) }
        executor.shutdown()  // twice is harmless
    }

    /// shutdown(wait:) lets the submitted work finish; cancelFutures cancels what has not started.
    @Test func shutdownFinishesOrCancelsPendingWork() throws {
        let finishing = ProcessPoolExecutor(maxWorkers: 1)
        let all = try (0..<5).map { _ in try finishing.submit(Fx.sleep, 0.05) }
        finishing.shutdown(wait: true)
        #expect(all.allSatisfy { $0.done && !$0.cancelled })
        #expect(finishing.workerPIDs.isEmpty)

        let cancelling = ProcessPoolExecutor(maxWorkers: 1)
        let first = try cancelling.submit(Fx.sleep, 0.5)
        #expect(waitUntil { first.running })
        let rest = try (0..<5).map { _ in try cancelling.submit(Fx.sleep, 0.5) }
        cancelling.shutdown(wait: true, cancelFutures: true)
        #expect(try first.result(timeout: 0) > 0)
        #expect(rest.allSatisfy { $0.cancelled })
    }

    /// test_concurrent_futures' crash tests: a worker killed with SIGKILL (or crashing) breaks
    /// the pool; running, pending and later work fails with BrokenProcessPool, nothing hangs.
    @Test func aKilledWorkerBreaksThePool() throws {
        let executor = ProcessPoolExecutor(maxWorkers: 2)
        defer { executor.shutdown(wait: true) }
        #expect(try executor.submit(Fx.square, 3).result(timeout: 30) == 9)
        let running = try executor.submit(Fx.hang, 0)
        #expect(waitUntil { running.running })
        let pending = try (0..<10).map { _ in try executor.submit(Fx.hang, 0) }
        #expect(waitUntil { executor.workerPIDs.count == 2 })
        for pid in executor.workerPIDs { kill(pid, SIGKILL) }
        for future in [running] + pending {
            #expect {
                try future.result(timeout: 30)
            } throws: { error in
                guard case FutureError.broken(let why) = error else { return false }
                return why.hasPrefix("A process in the process pool was terminated abruptly")
            }
        }
        #expect {
            try executor.submit(Fx.square, 1)
        } throws: { error in
            guard case FutureError.broken = error else { return false }
            return true
        }
    }

    @Test func aWorkerThatCrashesBreaksThePool() throws {
        let executor = ProcessPoolExecutor(maxWorkers: 1)
        defer { executor.shutdown(wait: true) }
        let crash = try executor.submit(Fx.killSelf, SIGSEGV)
        #expect {
            try crash.result(timeout: 30)
        } throws: { error in
            guard case FutureError.broken(let why) = error else { return false }
            return why.contains("signal \(SIGSEGV)")
        }
        #expect(throws: FutureError.self) { try executor.submit(Fx.square, 1) }
    }

    /// A worker killed while idle breaks the pool too, so that later work does not land on it.
    @Test func anIdleWorkerKilledBreaksThePool() throws {
        let executor = ProcessPoolExecutor(maxWorkers: 1)
        defer { executor.shutdown(wait: true) }
        #expect(try executor.submit(Fx.square, 3).result(timeout: 30) == 9)
        let pids = executor.workerPIDs
        #expect(pids.count == 1)
        for pid in pids { kill(pid, SIGKILL) }
        #expect(
            waitUntil {
                do {
                    _ = try executor.submit(Fx.square, 1).result(timeout: 30)
                    return false
                } catch {
                    return error is FutureError
                }
            })
    }

    @Test func maxTasksPerChildAndInitializer() throws {
        let setup = try WorkerCall(Fx.setGlobal, "ready")
        try ProcessPoolExecutor(maxWorkers: 1, initializer: setup, maxTasksPerChild: 2).scoped { executor throws in
            var pids: [Int32] = []
            for _ in 0..<6 { pids.append(try executor.submit(Fx.pid, 0).result(timeout: 30)) }
            #expect(Set(pids).count == 3)
            #expect(try executor.submit(Fx.readGlobal, 0).result(timeout: 30) == "ready")
        }
    }

    @Test func aFailingInitializerBreaksTheExecutor() throws {
        let executor = ProcessPoolExecutor(maxWorkers: 1, initializer: try WorkerCall(Fx.failInit, 0))
        defer { executor.shutdown(wait: true) }
        let future = try executor.submit(Fx.square, 1)
        #expect {
            try future.result(timeout: 30)
        } throws: { error in
            guard case FutureError.broken(let why) = error else { return false }
            return why.contains("failInit")
        }
    }

    @Test func futuresWorkWithFuturesWaitAndAsCompleted() throws {
        try ProcessPoolExecutor(maxWorkers: 2).scoped { executor throws in
            let futures = try [0.3, 0.0, 0.1].map { try executor.submit(Fx.sleep, $0) }
            let (done, notDone) = Futures.wait(futures, timeout: 30, returnWhen: .allCompleted)
            #expect(done.count == 3 && notDone.isEmpty)
        }
    }
}
