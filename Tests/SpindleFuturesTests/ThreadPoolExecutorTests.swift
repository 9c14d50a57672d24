import SpindleTestSupport
@testable import SpindleFutures
import SpindleSystem
import SpindleThreading
import Testing

// Behaviours of CPython's test_concurrent_futures (executor, thread pool, shutdown, wait,
// as_completed, map, initializer tests).
@Suite("ThreadPoolExecutor", .timeLimit(.minutes(3)))
struct ThreadPoolExecutorTests {
    struct Boom: Error {}

    @Test func submitAndResult() throws {
        let pool = ThreadPoolExecutor(maxWorkers: 4)
        defer { pool.shutdown() }
        let future = try pool.submit { 2 * 21 }
        #expect(try future.result(timeout: 30) == 42)
        let failing = try pool.submit { () throws -> Int in throw Boom() }
        #expect(throws: Boom.self) { try failing.result(timeout: 30) }
    }

    @Test func defaultWorkerCountAndNames() throws {
        let pool = ThreadPoolExecutor()
        #expect(pool.maxWorkers == min(32, ProcessorCount.online + 4))
        pool.shutdown()
        let named = ThreadPoolExecutor(maxWorkers: 2, threadNamePrefix: "SpecialPool")
        let gate = Event()
        let names = Shared<Set<String>>([])
        let futures = try (0..<2).map { _ in
            try named.submit {
                names.update { _ = $0.insert(SpindleThread.current.name) }
                gate.wait()
            }
        }
        #expect(waitUntil { names.value.count == 2 })
        gate.set()
        for f in futures { try f.result(timeout: 30) }
        named.shutdown()
        #expect(names.value == ["SpecialPool_0", "SpecialPool_1"])
    }

    @Test func idleThreadsAreReused() throws {
        // test_thread_pool.test_idle_thread_reuse
        let pool = ThreadPoolExecutor(maxWorkers: 4)
        for _ in 0..<5 { _ = try pool.submit { 1 }.result(timeout: 30) }
        #expect(pool.workerCount == 1)
        pool.shutdown()
    }

    @Test func submitAfterShutdownFails() throws {
        let pool = ThreadPoolExecutor(maxWorkers: 2)
        pool.shutdown()
        #expect(throws: FutureError.shutDown) { try pool.submit { 1 } }
    }

    @Test func shutdownWaitsForWork() throws {
        let pool = ThreadPoolExecutor(maxWorkers: 2)
        let done = Counter()
        for _ in 0..<10 { _ = try pool.submit { sleepSeconds(0.01); done.increment() } }
        pool.shutdown(wait: true, cancelFutures: false)
        #expect(done.value == 10)
    }

    @Test func shutdownCancelsPendingFutures() throws {
        // test_shutdown.test_cancel_futures
        let pool = ThreadPoolExecutor(maxWorkers: 1)
        let gate = Event()
        let first = try pool.submit { gate.wait(timeout: 30) }
        let rest = try (0..<10).map { _ in try pool.submit { 1 } }
        #expect(waitUntil { first.running })
        let closer = try spawn { pool.shutdown(wait: true, cancelFutures: true) }
        #expect(waitUntil { rest.allSatisfy(\.cancelled) })
        gate.set()
        try finish(closer)
        #expect(try first.result() == true)
        let allCancelled = rest.allSatisfy { $0.cancelled }
        #expect(allCancelled)
    }

    @Test func scopedShutsDown() throws {
        let pool = ThreadPoolExecutor(maxWorkers: 2)
        let sum = try pool.scoped { pool in
            try (1...10).map { i in try pool.submit { i } }.reduce(0) { try $0 + $1.result(timeout: 30) }
        }
        #expect(sum == 55)
        #expect(throws: FutureError.shutDown) { try pool.submit { 1 } }
    }

    @Test func failingInitializerBreaksThePool() throws {
        // test_init.FailingInitializerMixin
        let pool = ThreadPoolExecutor(maxWorkers: 2, initializer: { throw Boom() })
        // The first worker may fail before all five are submitted: later submits then throw.
        var futures: [Future<Int>] = []
        for _ in 0..<5 {
            guard let future = try? pool.submit({ 1 }) else { break }
            futures.append(future)
        }
        #expect(!futures.isEmpty)
        for future in futures {
            do {
                _ = try future.result(timeout: 30)
                Issue.record("a future of a broken pool succeeded")
            } catch let error as FutureError {
                guard case .broken(let why) = error else { Issue.record("unexpected \(error)"); continue }
                #expect(why.contains("initializer failed"))
            }
        }
        #expect(waitUntil { (try? pool.submit { 1 }) == nil })
        do {
            _ = try pool.submit { 1 }
        } catch {
            if case .broken = error {} else { Issue.record("expected broken, got \(error)") }
        }
        pool.shutdown()
    }

    @Test func initializerRunsPerWorker() throws {
        let inits = Counter()
        let pool = ThreadPoolExecutor(maxWorkers: 3, initializer: { inits.increment() })
        let gate = Event()
        let futures = try (0..<3).map { _ in try pool.submit { gate.wait(timeout: 30) } }
        #expect(waitUntil { inits.value == 3 })
        gate.set()
        for f in futures { _ = try f.result(timeout: 30) }
        pool.shutdown()
        #expect(inits.value == 3)
    }

    @Test func mapKeepsOrderAndRaisesLazily() throws {
        let pool = ThreadPoolExecutor(maxWorkers: 4)
        defer { pool.shutdown() }
        let squares = try pool.map(0..<100) { x in x * x }.results()
        #expect(squares == (0..<100).map { $0 * $0 })
        let chunked = try pool.map(0..<101, chunksize: 7) { x in x + 1 }.results()
        #expect(chunked == Array(1...101))
        let results = try pool.map([1, 0, 2]) { x -> Int in
            if x == 0 { throw Boom() }
            return 10 / x
        }
        #expect(try results.next() == 10)
        #expect(throws: Boom.self) { try results.next() }
    }

    @Test func mapTimeout() throws {
        // test_executor.test_map_timeout
        let pool = ThreadPoolExecutor(maxWorkers: 2)
        let gate = Event()
        let results = try pool.map([0, 1, 2], timeout: 0.2) { x -> Int in
            if x == 2 { gate.wait(timeout: 30) }
            return x
        }
        #expect(try results.next() == 0)
        #expect(try results.next() == 1)
        #expect(throws: FutureError.timedOut) { try results.next() }
        gate.set()
        pool.shutdown()
    }

    @Test func mapFromATask() async throws {
        let pool = ThreadPoolExecutor(maxWorkers: 2)
        var collected: [Int] = []
        for try await value in try pool.map(1...5, { $0 * 2 }) { collected.append(value) }
        #expect(collected == [2, 4, 6, 8, 10])
        pool.shutdown()
    }
}

@Suite("wait and asCompleted", .timeLimit(.minutes(2)))
struct WaitTests {
    struct Boom: Error {}

    @Test func firstCompleted() throws {
        let pool = ThreadPoolExecutor(maxWorkers: 2)
        let gate = Event()
        let slow = try pool.submit { gate.wait(timeout: 30) }
        let fast = try pool.submit { true }
        let (done, notDone) = Futures.wait([slow, fast], timeout: 30, returnWhen: .firstCompleted)
        #expect(done == [fast])
        #expect(notDone == [slow])
        gate.set()
        pool.shutdown()
    }

    @Test func firstException() throws {
        let pool = ThreadPoolExecutor(maxWorkers: 3)
        let gate = Event()
        let slow = try pool.submit { () throws -> Bool in gate.wait(timeout: 30) }
        let ok = try pool.submit { () throws -> Bool in true }
        let failing = try pool.submit { () throws -> Bool in sleepSeconds(0.05); throw Boom() }
        let (done, notDone) = Futures.wait([slow, ok, failing], timeout: 30, returnWhen: .firstException)
        #expect(done.contains(failing))
        #expect(done.contains(ok))
        #expect(notDone == [slow])
        gate.set()
        pool.shutdown()
    }

    @Test func allCompletedAndTimeout() throws {
        let pool = ThreadPoolExecutor(maxWorkers: 2)
        let futures = try (0..<5).map { i in try pool.submit { i } }
        let (done, notDone) = Futures.wait(futures)
        #expect(done.count == 5 && notDone.isEmpty)
        let gate = Event()
        let blocked = try pool.submit { gate.wait(timeout: 30) }
        let t0 = monotonicSeconds()
        let (d2, n2) = Futures.wait([blocked], timeout: 0.1)
        #expect(d2.isEmpty && n2 == [blocked])
        #expect(monotonicSeconds() - t0 >= 0.09)
        gate.set()
        pool.shutdown()
    }

    @Test func asCompletedYieldsInCompletionOrder() throws {
        let pool = ThreadPoolExecutor(maxWorkers: 3)
        let gates = (0..<3).map { _ in Event() }
        let futures = try (0..<3).map { i in try pool.submit { gates[i].wait(timeout: 30); return i } }
        let already = Future<Int>()
        try already.setResult(99)
        let sequence = Futures.asCompleted(futures + [already, already], timeout: 30)
        #expect(try sequence.next()?.result() == 99)  // done ones first; duplicates once
        for i in [2, 0, 1] {
            gates[i].set()
            #expect(try sequence.next()?.result() == i)
        }
        #expect(try sequence.next() == nil)
        pool.shutdown()
    }

    @Test func asCompletedTimesOut() throws {
        let never = Future<Int>()
        let done = Future<Int>()
        try done.setResult(1)
        let sequence = Futures.asCompleted([never, done], timeout: 0.1)
        #expect(try sequence.next() == done)
        #expect(throws: FutureError.timedOut) { try sequence.next() }
    }

    @Test func asCompletedFromATask() async throws {
        let pool = ThreadPoolExecutor(maxWorkers: 2)
        let futures = try (0..<10).map { i in try pool.submit { i } }
        var seen: [Int] = []
        for try await future in Futures.asCompleted(futures) { seen.append(try future.result()) }
        #expect(seen.sorted() == Array(0..<10))
        pool.shutdown()
    }
}

@Suite("Futures stress", .timeLimit(.minutes(10)))
struct FuturesStressTests {
    /// 1,000,000 tasks submitted from 4 threads; every result is checked once.
    @Test func millionTasksFromFourThreads() throws {
        let pool = ThreadPoolExecutor(maxWorkers: 4)
        let perThread = 250_000
        let sums = Shared<[Int]>([])
        let submitters = try (0..<4).map { t in
            try spawn {
                var futures: [Future<Int>] = []
                futures.reserveCapacity(perThread)
                for i in 0..<perThread {
                    let n = t * perThread + i
                    futures.append(try pool.submit { n })
                }
                var sum = 0
                var wrong = 0
                for (i, future) in futures.enumerated() {
                    let value = try future.result(timeout: 300)
                    if value != t * perThread + i { wrong += 1 }
                    sum += value
                }
                sums.update { $0.append(wrong == 0 ? sum : -1) }
            }
        }
        for s in submitters { try finish(s, timeout: 500) }
        pool.shutdown()
        let total = 4 * perThread
        #expect(sums.value.count == 4)
        #expect(!sums.value.contains(-1))
        #expect(sums.value.reduce(0, +) == total * (total - 1) / 2)
    }
}

/// A function of the executor-generic API that is not SpindleMultiprocessing's: any type with a
/// name and a body conforms.
private struct Cube: ExecutorFunction {
    var name: String { "cube" }
    func callAsFunction(_ argument: Int) throws -> Int {
        if argument < 0 { throw FutureError.invalidState("negative: \(argument)") }
        return argument * argument * argument
    }
}

@Suite("futures: executor-generic code", .timeLimit(.minutes(2)))
struct ExecutorFunctionTests {
    /// What a caller writes once for every executor.
    private func cubes(on executor: some FutureExecutor, _ items: [Int], chunksize: Int) throws -> [Int] {
        try executor.map(Cube(), items, timeout: 30, chunksize: chunksize).results()
    }

    @Test func aThreadPoolRunsExecutorFunctionsThroughTheProtocol() throws {
        let items = Array(0..<50)
        try ThreadPoolExecutor(maxWorkers: 3).scoped { pool throws in
            #expect(try cubes(on: pool, items, chunksize: 1) == items.map { $0 * $0 * $0 })
            #expect(try cubes(on: pool, items, chunksize: 7) == items.map { $0 * $0 * $0 })
            #expect(try pool.submit(Cube(), 4).result(timeout: 30) == 64)
            #expect(throws: FutureError.invalidState("negative: -1")) { try pool.submit(Cube(), -1).result(timeout: 30) }
        }
        let closed = ThreadPoolExecutor(maxWorkers: 1)
        closed.shutdown()
        #expect(throws: FutureError.shutDown) { try cubes(on: closed, [1], chunksize: 1) }
    }
}
