import Glibc
import SpindleMultiprocessing
import SpindleSystem
import SpindleThreading
import Testing

@Suite("multiprocessing: Pool", .serialized, .timeLimit(.minutes(5)))
struct PoolTests {
    init() { Fixture.use() }

    @Test func applyAndApplyAsync() throws {
        try Pool(processes: 2).scoped { pool throws in
            #expect(try pool.apply(Fx.square, 12) == 144)
            let pending = try pool.applyAsync(Fx.sleep, 0.3)
            #expect(!pending.ready)
            #expect(throws: MultiprocessingError.invalidState("the result is not ready")) { try pending.successful() }
            #expect(try pending.get(timeout: 30) > 0)
            #expect(pending.ready)
            #expect(try pending.successful())
            #expect(try pool.apply(Fx.roundTrip, Sample.make(3)) == Sample.make(3))
            #expect(try pool.apply(Fx.sum, Array(1...100)) == 5050)
        }
    }

    /// test_multiprocessing's test_map, test_map_chunksize, test_imap, test_imap_unordered, test_starmap.
    @Test func mapsKeepOrderAtEveryChunkSize() throws {
        try Pool(processes: 3).scoped { pool throws in
            let items = Array(0..<200)
            let expected = items.map { $0 * $0 }
            #expect(try pool.map(Fx.square, items) == expected)
            for chunksize in [1, 2, 7, 200, 1000] {
                #expect(try pool.map(Fx.square, items, chunksize: chunksize) == expected)
                #expect(try pool.imap(Fx.square, items, chunksize: chunksize).results() == expected)
                #expect(try pool.imapUnordered(Fx.square, items, chunksize: chunksize).results().sorted() == expected)
            }
            #expect(try pool.map(Fx.square, [Int]()) == [])
            #expect(try pool.imap(Fx.square, [Int]()).results() == [])
            let pairs = (0..<50).map { ($0, 1000 * $0) }
            #expect(try pool.starmap(Fx.add, pairs) == pairs.map { $0.0 + $0.1 })
            #expect(try pool.starmapAsync(Fx.add, pairs, chunksize: 4).get(timeout: 30) == pairs.map { $0.0 + $0.1 })
            #expect(try pool.mapAsync(Fx.square, items).get(timeout: 30) == expected)
        }
    }

    /// Every item runs exactly once: each run creates a file of its own exclusively, and a
    /// second run of an item would fail.
    @Test func everyItemRunsExactlyOnce() throws {
        let directory = makeTemporaryDirectory()
        defer { removeDirectory(directory) }
        try Pool(processes: 3).scoped { pool throws in
            let items = (0..<600).map { ArgumentTuple(directory, $0) }
            let results = try pool.map(Fx.touchOnce, items, chunksize: 5)
            #expect(results == Array(0..<600))
            #expect(entryCount(directory) == 600)
        }
    }

    @Test func imapHandsOutResultsAsTheyCome() async throws {
        try await Pool(processes: 2).scoped { pool async throws in
            let results = try pool.imap(Fx.sleep, [0.05, 0.05, 0.05, 0.05])
            #expect(results.count == 4)
            var seen = 0
            for try await pid in results {
                #expect(pid > 0)
                seen += 1
            }
            #expect(seen == 4)
            // The items of a failing call throw where they stand; the others still come.
            let mixed = try pool.imap(Fx.failOdd, 0..<6, chunksize: 2)
            #expect(try mixed.next() == 0)
            #expect(throws: RemoteError.self) { try mixed.next() }
            #expect(try mixed.next() == 4)
            #expect(throws: RemoteError.self) { try mixed.next() }
            #expect(try mixed.next() == 16)
            #expect(throws: RemoteError.self) { try mixed.next() }
            #expect(try mixed.next() == nil)
        }
    }

    @Test func errorsOfTheFunctionComeBackAsRemoteErrors() throws {
        try Pool(processes: 1).scoped { pool throws in
            #expect {
                try pool.apply(Fx.fail, "boom")
            } throws: { error in
                guard let remote = error as? RemoteError else { return false }
                return remote.function == "fail" && remote.type.hasSuffix("FixtureError")
                    && remote.message == "failed on purpose: boom" && remote.pid > 0
            }
            // A map fails with the first failing item's error.
            #expect {
                try pool.map(Fx.failOdd, [2, 4, 5, 7])
            } throws: { error in
                (error as? RemoteError)?.message == "failed on purpose: odd 5"
            }
            #expect(throws: MultiprocessingError.unknownFunction("noSuchFunction")) { try pool.apply(Fx.missing, 1) }
            #expect(
                throws: MultiprocessingError.signatureMismatch(
                    function: "square", expected: "String -> String", registered: "Int -> Int")
            ) { try pool.apply(Fx.squareOfStrings, "x") }
            // The worker is fine after all that.
            #expect(try pool.apply(Fx.square, 3) == 9)
        }
    }

    @Test func callbacksRunInTheParent() throws {
        try Pool(processes: 2).scoped { pool throws in
            let values = Locked<[Int]>([])
            let errors = Locked<[String]>([])
            let ok = try pool.applyAsync(Fx.square, 5, callback: { value in values.withLock { $0.append(value) } })
            let bad = try pool.applyAsync(
                Fx.fail, "cb", errorCallback: { error in errors.withLock { $0.append(String(describing: error)) } })
            let all = try pool.mapAsync(
                Fx.square, [1, 2, 3], callback: { results in values.withLock { $0.append(contentsOf: results) } })
            #expect(try ok.get(timeout: 30) == 25)
            #expect(throws: RemoteError.self) { try bad.get(timeout: 30) }
            #expect(try all.get(timeout: 30) == [1, 4, 9])
            // Callbacks run before the result is ready.
            #expect(values.withLock { $0.sorted() } == [1, 4, 9, 25])
            #expect(errors.withLock { $0.count } == 1)
            #expect(try !bad.successful())
        }
    }

    @Test func terminateFromACallbackDoesNotDeadlock() throws {
        let pool = try Pool(processes: 2)
        let done = Event()
        _ = try pool.applyAsync(
            Fx.square, 2,
            callback: { _ in
                pool.terminate()
                done.set()
            })
        #expect(done.wait(timeout: 30))
        try pool.join()
        #expect(pool.workerPIDs.isEmpty)
    }

    /// A worker that never answers: get(timeout:) gives up, and terminate ends it.
    @Test func aWorkerThatNeverAnswersTimesOut() throws {
        let pool = try Pool(processes: 1)
        let stuck = try pool.applyAsync(Fx.hang, 0)
        let t0 = monotonicSeconds()
        #expect(throws: MultiprocessingError.timedOut) { try stuck.get(timeout: 0.3) }
        #expect(monotonicSeconds() - t0 < 10)
        #expect(!stuck.wait(timeout: 0.1))
        let queued = try pool.applyAsync(Fx.square, 2)
        let workers = pool.workerPIDs
        pool.terminate()
        #expect(throws: MultiprocessingError.poolTerminated) { try stuck.get(timeout: 30) }
        #expect(throws: MultiprocessingError.poolTerminated) { try queued.get(timeout: 30) }
        #expect(!workers.contains(where: processAlive))
    }

    /// A worker killed with SIGKILL fails its task with a clear error and is replaced.
    @Test func aKilledWorkerFailsItsTaskAndIsReplaced() throws {
        try Pool(processes: 2).scoped { pool throws in
            #expect {
                try pool.apply(Fx.killSelf, SIGKILL)
            } throws: { error in
                guard case MultiprocessingError.workerDied(_, let code) = error else { return false }
                return code == -SIGKILL
            }
            let running = try pool.applyAsync(Fx.hang, 0)
            sleepSeconds(0.2)
            let before = pool.workerPIDs
            for pid in before { kill(pid, SIGKILL) }
            #expect {
                try running.get(timeout: 30)
            } throws: { error in
                guard case MultiprocessingError.workerDied(let pid, let code) = error else { return false }
                return before.contains(pid) && code == -SIGKILL
            }
            // The pool goes on with new workers.
            #expect(try pool.map(Fx.square, 0..<20) == (0..<20).map { $0 * $0 })
            #expect(waitUntil { pool.workerPIDs.count == 2 && Set(pool.workerPIDs).isDisjoint(with: before) })
            #expect(!before.contains(where: processAlive))
        }
    }

    /// A worker acknowledges a task before it runs it: a task that reaches a worker already
    /// killed (but not yet seen dead) goes to a new worker instead of failing.
    @Test func aTaskSentToAWorkerKilledWhileIdleStillRuns() throws {
        try Pool(processes: 2).scoped { pool throws in
            for round in 0..<5 {
                for pid in pool.workerPIDs { kill(pid, SIGKILL) }
                #expect(try pool.apply(Fx.square, round) == round * round)
            }
        }
    }

    @Test func aWorkerThatExitsMidTaskFailsItsTask() throws {
        try Pool(processes: 1).scoped { pool throws in
            #expect {
                try pool.apply(Fx.exitWith, 3)
            } throws: { error in
                guard case MultiprocessingError.workerDied(_, let code) = error else { return false }
                return code == 3
            }
            #expect(try pool.apply(Fx.square, 4) == 16)
        }
    }

    /// test_multiprocessing's test_pool_worker_lifetime: after maxTasksPerChild tasks a new
    /// process (a new pid) takes over.
    @Test func maxTasksPerChildStartsNewProcesses() throws {
        try Pool(processes: 1, maxTasksPerChild: 2).scoped { pool throws in
            var pids: [Int32] = []
            for _ in 0..<6 { pids.append(try pool.apply(Fx.pid, 0)) }
            #expect(pids[0] == pids[1] && pids[2] == pids[3] && pids[4] == pids[5])
            #expect(Set(pids).count == 3)
            #expect(waitUntil { !processAlive(pids[0]) && !processAlive(pids[2]) })
        }
        try Pool(processes: 2, maxTasksPerChild: 3).scoped { pool throws in
            let pids = try pool.map(Fx.pid, Array(repeating: 0, count: 30), chunksize: 1)
            #expect(Set(pids).count >= 10)
            for pid in Set(pids) { #expect(pids.filter { $0 == pid }.count <= 3) }
        }
    }

    @Test func theInitializerRunsInEveryWorker() throws {
        let setup = try WorkerCall(Fx.setGlobal, "initialized")
        try Pool(processes: 2, initializer: setup).scoped { pool throws in
            #expect(try pool.map(Fx.readGlobal, Array(0..<10)) == Array(repeating: "initialized", count: 10))
        }
        // Replaced workers run it too.
        try Pool(processes: 1, initializer: setup, maxTasksPerChild: 1).scoped { pool throws in
            #expect(try pool.map(Fx.readGlobal, Array(0..<4)) == Array(repeating: "initialized", count: 4))
        }
    }

    @Test func aFailingInitializerBreaksThePool() throws {
        try Pool(processes: 2, initializer: try WorkerCall(Fx.failInit, 0)).scoped { pool throws in
            #expect {
                try pool.apply(Fx.square, 2)
            } throws: { error in
                guard case MultiprocessingError.workerStartFailed(let why) = error else { return false }
                return why.contains("failInit")
            }
            #expect(throws: MultiprocessingError.self) { try pool.apply(Fx.square, 2) }
        }
    }

    @Test func closeFinishesQueuedWorkThenJoinEndsTheWorkers() throws {
        let pool = try Pool(processes: 2)
        #expect(pool.processes == 2)
        let results = try (0..<10).map { try pool.applyAsync(Fx.sleep, 0.02 * Double($0 % 3)) }
        #expect(throws: MultiprocessingError.invalidState("Pool is still running")) { try pool.join() }
        let workers = pool.workerPIDs
        pool.close()
        #expect(throws: MultiprocessingError.invalidState("Pool not running")) { try pool.apply(Fx.square, 1) }
        try pool.join()
        for result in results { #expect(try result.get(timeout: 0) > 0) }
        #expect(!workers.contains(where: processAlive))
        #expect(pool.workerPIDs.isEmpty)
    }

    @Test func aProgramThatIsNotAWorkerIsReported() throws {
        Multiprocessing.setExecutable("/bin/true")
        defer { Fixture.use() }
        try Pool(processes: 1).scoped { pool throws in
            #expect {
                try pool.apply(Fx.square, 1)
            } throws: { error in
                guard case MultiprocessingError.workerStartFailed(let why) = error else { return false }
                return why.contains("bootstrap")
            }
        }
        Multiprocessing.setExecutable("/nonexistent/worker")
        #expect {
            _ = try Pool(processes: 1)
        } throws: { error in
            guard case MultiprocessingError.workerStartFailed = error else { return false }
            return true
        }
    }

    @Test func invalidArgumentsAreRefused() throws {
        #expect(throws: MultiprocessingError.invalidState("Number of processes must be at least 1")) {
            _ = try Pool(processes: 0)
        }
        #expect(throws: MultiprocessingError.self) { _ = try Pool(processes: 1, maxTasksPerChild: 0) }
        try Pool(processes: 1).scoped { pool throws in
            #expect(throws: MultiprocessingError.invalidState("Chunksize must be 1+, not 0")) {
                _ = try pool.imap(Fx.square, [1], chunksize: 0)
            }
        }
    }

    @Test func manyThreadsShareOnePool() throws {
        try Pool(processes: 2).scoped { pool throws in
            let threads = try (0..<4).map { t in
                try spawn {
                    for i in 0..<50 {
                        let n = t * 100 + i
                        let square = try pool.apply(Fx.square, n)
                        precondition(square == n * n)
                    }
                }
            }
            for thread in threads { #expect(try thread.join(timeout: 60)) }
        }
    }
}
