import Glibc
import SpindleMultiprocessing
import SpindleSubprocess
import SpindleSystem
import Testing

@Suite("multiprocessing: WorkerProcess", .serialized, .timeLimit(.minutes(3)))
struct WorkerProcessTests {
    init() { Fixture.use() }

    @Test func aProcessRunsAndExitsWithZero() throws {
        let process = WorkerProcess(target: Fx.square, argument: 7, name: "squarer")
        #expect(process.pid == nil && process.exitcode == nil && !process.isAlive)
        #expect(process.name == "squarer")
        #expect(!process.daemon)
        try process.start()
        #expect(process.pid != nil)
        #expect(try process.join(timeout: 30))
        #expect(process.exitcode == 0)
        #expect(!process.isAlive)
        #expect(String(describing: process).contains("exitcode=0"))
    }

    @Test func defaultNamesCount() {
        let first = WorkerProcess(target: Fx.square, argument: 1)
        let second = WorkerProcess(target: Fx.square, argument: 1)
        #expect(first.name.hasPrefix("Process-") && second.name.hasPrefix("Process-"))
        #expect(first.name != second.name)
    }

    /// test_multiprocessing's test_exitcode / test_terminate / test_kill: the status is the exit
    /// code, 1 for a target that throws, minus the signal for a signal.
    @Test func exitCodesAndSignals() throws {
        let throwing = WorkerProcess(target: Fx.fail, argument: "on purpose")
        let exiting = WorkerProcess(target: Fx.exitWith, argument: 7)
        let signalled = WorkerProcess(target: Fx.killSelf, argument: SIGUSR1)
        for process in [throwing, exiting, signalled] { try process.start() }
        for process in [throwing, exiting, signalled] { #expect(try process.join(timeout: 30)) }
        #expect(throwing.exitcode == 1)
        #expect(exiting.exitcode == 7)
        #expect(signalled.exitcode == -SIGUSR1)

        let terminated = WorkerProcess(target: Fx.hang, argument: 0)
        let killed = WorkerProcess(target: Fx.hang, argument: 0)
        try terminated.start()
        try killed.start()
        #expect(terminated.isAlive && killed.isAlive)
        #expect(try terminated.join(timeout: 0.2) == false)
        terminated.terminate()
        killed.kill()
        #expect(try terminated.join(timeout: 30))
        #expect(try killed.join(timeout: 30))
        #expect(terminated.exitcode == -SIGTERM)
        #expect(killed.exitcode == -SIGKILL)
        terminated.terminate()  // after the end: nothing happens
        #expect(terminated.exitcode == -SIGTERM)
    }

    @Test func anUnknownOrMistypedTargetFailsInTheChild() throws {
        let unknown = WorkerProcess(target: Fx.missing, argument: 1)
        let mistyped = WorkerProcess(target: Fx.squareOfStrings, argument: "x")
        try unknown.start()
        try mistyped.start()
        #expect(try unknown.join(timeout: 30) && unknown.exitcode == 1)
        #expect(try mistyped.join(timeout: 30) && mistyped.exitcode == 1)
    }

    @Test func misuseIsReported() throws {
        let process = WorkerProcess(target: Fx.square, argument: 1)
        #expect(throws: MultiprocessingError.invalidState("can only join a started process")) { try process.join() }
        try process.setDaemon(true)
        #expect(process.daemon)
        try process.start()
        #expect(throws: MultiprocessingError.invalidState("cannot start a process twice")) { try process.start() }
        #expect(throws: MultiprocessingError.invalidState("process has already started")) { try process.setDaemon(false) }
        #expect(try process.join(timeout: 30))
    }

    @Test func aProgramThatCannotStartIsReported() throws {
        Multiprocessing.setExecutable("/nonexistent/spindle-worker")
        defer { Fixture.use() }
        let process = WorkerProcess(target: Fx.square, argument: 1)
        #expect {
            try process.start()
        } throws: { error in
            guard case MultiprocessingError.workerStartFailed(let why) = error else { return false }
            return why.contains("/nonexistent/spindle-worker")
        }
        #expect(process.pid == nil)
    }

    /// A connection in the argument reaches the child: a round trip of values and bytes between
    /// parent and child (test_multiprocessing's test_pipe / _echo).
    @Test func aConnectionPassedToTheChildCarriesMessagesBothWays() throws {
        let (mine, theirs) = try Multiprocessing.pipe()
        let child = WorkerProcess(target: Fx.echo, argument: theirs)
        try child.start()
        theirs.close()  // the child has its own copy; closing ours lets it see the end later
        for size in [0, 1, 100, 70_000, 3 << 20] {
            let payload = (0..<size).map { UInt8(truncatingIfNeeded: $0 * 7) }
            try mine.sendBytes(payload)
            #expect(try mine.recvBytes() == payload)
        }
        try mine.send(Sample.make(5))
        #expect(try mine.recv(Sample.self) == Sample.make(5))
        mine.close()
        #expect(try child.join(timeout: 30))
        #expect(child.exitcode == 0)
    }

    @Test func typedMessagesRoundTripThroughAChild() throws {
        let (mine, theirs) = try Multiprocessing.pipe()
        let child = WorkerProcess(target: Fx.doubleIDs, argument: theirs)
        try child.start()
        theirs.close()
        for id in 0..<200 {
            try mine.send(Sample.make(id))
            var expected = Sample.make(id)
            expected.id *= 2
            #expect(try mine.recv(Sample.self) == expected)
        }
        mine.close()
        #expect(try child.join(timeout: 30) && child.exitcode == 0)
    }

    @Test func theChildKnowsItsNameAndParent() throws {
        let (reader, writer) = try Multiprocessing.pipe(duplex: false)
        let child = WorkerProcess(target: Fx.whoAmI, argument: writer, name: "worker-x")
        try child.start()
        writer.close()
        let answer = try reader.recv([String].self)
        #expect(answer == ["worker-x", String(getpid()), String(child.pid ?? 0)])
        #expect(throws: MultiprocessingError.endOfFile) { try reader.recv([String].self) }
        #expect(try child.join(timeout: 30))
        #expect(Multiprocessing.currentProcessName == "MainProcess")
        #expect(Multiprocessing.parentProcessID == nil)
    }

    @Test func activeChildrenListsTheRunningOnes() throws {
        let sleeper = WorkerProcess(target: Fx.hang, argument: 0)
        try sleeper.start()
        #expect(Multiprocessing.activeChildren().contains { $0 === sleeper })
        sleeper.kill()
        #expect(try sleeper.join(timeout: 30))
        #expect(!Multiprocessing.activeChildren().contains { $0 === sleeper })
    }

    /// A daemon child dies with its parent even when the parent is killed with SIGKILL: the
    /// fixture is the parent here, and the test kills it.
    @Test func aDaemonChildDiesWhenItsParentIsKilled() throws {
        let parent = try Popen([Fixture.path, "daemon-parent"], stdout: .pipe)
        defer {
            parent.kill()
            _ = try? parent.wait(timeout: 30)
        }
        let line = try readLine(parent)
        let child = try #require(Int32(line.dropFirst("child ".count)))
        #expect(processAlive(child))
        #expect(parentOf(child) == parent.pid)
        parent.kill()
        _ = try parent.wait(timeout: 30)
        #expect(waitUntil(timeout: 30) { !processAlive(child) })
    }

    /// A non-daemon child outlives a parent killed with SIGKILL, as in Python.
    @Test func aNonDaemonChildOutlivesAKilledParent() throws {
        let parent = try Popen([Fixture.path, "nondaemon-sleeper"], stdout: .pipe)
        defer {
            parent.kill()
            _ = try? parent.wait(timeout: 30)
        }
        let child = try #require(Int32(try readLine(parent).dropFirst("child ".count)))
        parent.kill()
        _ = try parent.wait(timeout: 30)
        sleepSeconds(0.3)
        #expect(processAlive(child))
        kill(child, SIGKILL)
        #expect(waitUntil(timeout: 30) { !processAlive(child) })
    }

    /// A parent that returns from main waits for its non-daemon child first.
    @Test func aNonDaemonChildIsJoinedAtExit() throws {
        let t0 = monotonicSeconds()
        let parent = try Popen([Fixture.path, "nondaemon-exit"], stdout: .pipe)
        let child = try #require(Int32(try readLine(parent).dropFirst("child ".count)))
        #expect(try parent.wait(timeout: 30) == 0)
        #expect(!processAlive(child))
        #expect(monotonicSeconds() - t0 >= 0.9)
    }

    /// Pool workers are daemons: killing the pool's process with SIGKILL ends them too.
    @Test func poolWorkersDieWhenTheirParentIsKilled() throws {
        let parent = try Popen([Fixture.path, "pool-parent"], stdout: .pipe)
        defer {
            parent.kill()
            _ = try? parent.wait(timeout: 30)
        }
        let line = try readLine(parent)
        let workers = line.split(separator: " ").dropFirst().compactMap { Int32($0) }
        #expect(workers.count == 2)
        #expect(workers.allSatisfy(processAlive))
        parent.kill()
        _ = try parent.wait(timeout: 30)
        #expect(waitUntil(timeout: 30) { !workers.contains(where: processAlive) })
    }

    /// Reads one line of the child's standard output, without its newline.
    private func readLine(_ process: Popen) throws -> String {
        let reader = try #require(process.stdout)
        let line = try #require(try reader.readLine())
        return String(line.prefix { $0 != "\n" })
    }
}
