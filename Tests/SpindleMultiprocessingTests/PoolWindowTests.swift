import Glibc
import SpindleMultiprocessing
import SpindleSystem
import SpindleThreading
import Testing

/// A pool worker has a window of several tasks in flight, which it reads and answers in
/// batches: what that could break.
@Suite("multiprocessing: Pool with tasks in flight", .serialized, .timeLimit(.minutes(5)))
struct PoolWindowTests {
    init() { Fixture.use() }

    /// Thousands of one-item tasks keep their order, in map, imap and starmap, and
    /// imapUnordered hands out every one exactly once.
    @Test func manySmallTasksKeepTheirOrder() throws {
        try Pool(processes: 2).scoped { pool throws in
            let items = Array(0..<20_000)
            let expected = items.map { $0 * $0 }
            #expect(try pool.map(Fx.square, items, chunksize: 1) == expected)
            #expect(try pool.imap(Fx.square, items, chunksize: 1).results() == expected)
            let unordered = try pool.imapUnordered(Fx.square, items, chunksize: 1).results()
            #expect(unordered.count == items.count)
            #expect(unordered.sorted() == expected)
            let pairs = (0..<5_000).map { ($0, -$0 * 3) }
            #expect(try pool.starmap(Fx.add, pairs, chunksize: 1) == pairs.map { $0.0 + $0.1 })
            // Errors stay with their own items in a stream of tasks.
            let outcomes = try pool.imap(Fx.failOdd, Array(0..<2_000), chunksize: 1)
            for n in 0..<2_000 {
                if n % 2 == 0 {
                    #expect(try outcomes.next(timeout: 30) == n * n)
                } else {
                    #expect(throws: RemoteError.self) { _ = try outcomes.next(timeout: 30) }
                }
            }
            #expect(try outcomes.next(timeout: 30) == nil)
        }
    }

    /// With maxTasksPerChild, a worker gets no more than its limit even when its window is
    /// larger: one worker answers exactly N tasks in a row, then a new pid takes over.
    @Test func maxTasksPerChildCountsTasksWithAWindow() throws {
        try Pool(processes: 1, maxTasksPerChild: 7).scoped { pool throws in
            let pids = try pool.map(Fx.pid, Array(repeating: 0, count: 7 * 40 + 3), chunksize: 1)
            var runs: [(pid: Int32, count: Int)] = []
            for pid in pids {
                if let last = runs.last, last.pid == pid {
                    runs[runs.count - 1].count += 1
                } else {
                    runs.append((pid, 1))
                }
            }
            #expect(runs.count == 41)
            #expect(runs.dropLast().allSatisfy { $0.count == 7 }, "\(runs.map(\.count))")
            #expect(runs.last?.count == 3)
            #expect(Set(runs.map(\.pid)).count == 41)
        }
        // Chunks count as one task each.
        try Pool(processes: 2, maxTasksPerChild: 4).scoped { pool throws in
            let pids = try pool.map(Fx.pid, Array(repeating: 0, count: 400), chunksize: 2)
            for pid in Set(pids) { #expect(pids.filter { $0 == pid }.count <= 8) }
            #expect(Set(pids).count >= 25)
        }
    }

    /// A worker killed from outside while a stream of tasks runs: the pool does not hang, the
    /// tasks the killed worker had read fail with its death, the others run (once, never twice)
    /// on the other worker or on its replacement.
    @Test func aWorkerKilledWithTasksInFlightFailsOnlyThoseItRead() throws {
        let directory = makeTemporaryDirectory()
        defer { removeDirectory(directory) }
        try Pool(processes: 2).scoped { pool throws in
            let count = 30_000
            let results = try pool.imap(Fx.touchOnce, (0..<count).map { ArgumentTuple(directory, $0) }, chunksize: 1)
            // Let the stream get going (the windows grow), then kill one worker.
            #expect(try results.next(timeout: 30) == 0)
            for _ in 1..<200 { _ = try results.next(timeout: 30) }
            let victim = pool.workerPIDs[0]
            kill(victim, SIGKILL)
            var succeeded = 200
            var died = 0
            for item in 200..<count {
                do {
                    #expect(try results.next(timeout: 60) == item)
                    succeeded += 1
                } catch let error as MultiprocessingError {
                    guard case .workerDied(let pid, let code) = error else {
                        Issue.record("item \(item): \(error)")
                        continue
                    }
                    #expect(pid == victim && code == -SIGKILL)
                    died += 1
                } catch {
                    // A second run of an item would throw alreadyDone here.
                    Issue.record("item \(item): \(error)")
                }
            }
            #expect(try results.next(timeout: 30) == nil)
            #expect(succeeded + died == count)
            // At most a window's worth failed; those may or may not have run.
            #expect(died <= 128)
            let files = entryCount(directory)
            #expect(files >= succeeded && files <= succeeded + died)
            // The pool goes on with a new worker.
            #expect(try pool.map(Fx.square, Array(0..<1_000), chunksize: 1) == (0..<1_000).map { $0 * $0 })
            #expect(waitUntil { pool.workerPIDs.count == 2 && !pool.workerPIDs.contains(victim) })
        }
    }

    /// A task that kills its worker in the middle of a stream fails with that worker's death;
    /// the tasks queued behind it in the same window either fail the same way or run once.
    @Test func aTaskThatKillsItsWorkerInAStream() throws {
        try Pool(processes: 2).scoped { pool throws in
            let before = try (0..<3_000).map { try pool.applyAsync(Fx.square, $0) }
            let killer = try pool.applyAsync(Fx.killSelf, SIGKILL)
            let after = try (3_000..<6_000).map { try pool.applyAsync(Fx.square, $0) }
            #expect {
                try killer.get(timeout: 60)
            } throws: { error in
                guard case MultiprocessingError.workerDied(_, let code) = error else { return false }
                return code == -SIGKILL
            }
            var died = 0
            for (n, result) in zip(0..., before + after) {
                do {
                    #expect(try result.get(timeout: 60) == n * n)
                } catch MultiprocessingError.workerDied(_, let code) {
                    #expect(code == -SIGKILL)
                    died += 1
                }
            }
            #expect(died < 128)
        }
    }

    /// A task that never ends holds back no task submitted after it while another worker is free.
    @Test func aHangingTaskDoesNotHoldBackLaterTasks() throws {
        try Pool(processes: 2).scoped { pool throws in
            let stuck = try pool.applyAsync(Fx.hang, 0)
            sleepSeconds(0.2)
            #expect(try pool.map(Fx.square, Array(0..<5_000), chunksize: 1) == (0..<5_000).map { $0 * $0 })
            #expect(!stuck.ready)
        }
    }

    /// terminate() with thousands of tasks queued and in flight fails each of them; nothing hangs.
    @Test func terminateWithTasksInFlight() throws {
        let pool = try Pool(processes: 2)
        let stream = try pool.imap(Fx.sleep, Array(repeating: 0.001, count: 10_000), chunksize: 1)
        let whole = try pool.mapAsync(Fx.sleep, Array(repeating: 0.001, count: 1_000), chunksize: 1)
        #expect(try stream.next(timeout: 30) != nil)
        let workers = pool.workerPIDs
        pool.terminate()
        #expect(throws: MultiprocessingError.poolTerminated) { try whole.get(timeout: 30) }
        var succeeded = 0
        var terminated = 0
        while true {
            do {
                guard try stream.next(timeout: 30) != nil else { break }
                succeeded += 1
            } catch MultiprocessingError.poolTerminated {
                terminated += 1
            }
        }
        #expect(succeeded + terminated == 10_000 - 1)
        #expect(terminated > 5_000)
        #expect(!workers.contains(where: processAlive))
    }
}
