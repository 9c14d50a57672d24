import Foundation
import Glibc
import SpindleSystem
import Testing

@testable import SpindleSupervisor

/// A supervisor over a configuration written in a temporary directory, with its log lines kept.
final class Harness: @unchecked Sendable {
    let dir = TemporaryDirectory()
    let lines = Locked<[String]>([])
    let supervisor: Supervisor
    let config: SupervisorConfig

    init(_ programs: String, run: Bool = true) throws {
        let text = "[supervisord]\nchildlogdir = \(dir.path)\n" + programs
        config = try SupervisorConfig.parse(text, path: dir.file("supervisord.conf"))
        let lines = self.lines
        supervisor = Supervisor(config: config) { level, message in
            lines.withLock { $0.append("\(level.logName) \(message)") }
        }
        if run { try supervisor.run() }
    }

    func info(_ name: String) -> SupervisedProcessInfo { try! supervisor.processInfo(name: name) }

    func state(_ name: String) -> ProcessState { info(name).state }

    func log() -> [String] { lines.withLock { $0 } }

    func waitFor(_ name: String, _ state: ProcessState, timeout: Double = 20) -> Bool {
        eventually(timeout: timeout) { self.state(name) == state }
    }

    func close() {
        supervisor.shutdown(timeout: 20)
        dir.remove()
    }
}

@Suite("Supervisor with real processes", .serialized, .timeLimit(.minutes(1)))
struct SupervisorTests {
    @Test func quickExitIsBackoffThenFatal() throws {
        let h = try Harness(
            """
            [program:quick]
            command = /bin/sh -c "exit 1"
            startsecs = 1
            startretries = 2
            """)
        defer { h.close() }
        let started = monotonicSeconds()
        #expect(h.waitFor("quick", .fatal))
        let elapsed = monotonicSeconds() - started
        #expect(elapsed >= 2.9 && elapsed < 8, "retries after 1 s and 2 s, took \(elapsed)")
        let info = h.info("quick")
        #expect(info.statename == "FATAL")
        #expect(info.spawnerr == "Exited too quickly (process log may have details)")
        #expect(info.description == "Exited too quickly (process log may have details)")
        #expect(info.pid == 0)
        let log = h.log()
        #expect(log.filter { $0.hasPrefix("INFO spawned: 'quick'") }.count == 3)
        #expect(log.contains("INFO gave up: quick entered FATAL state, too many start retries too quickly"))
        #expect(log.contains("WARN exited: quick (exit status 1; not expected)"))
        // Starting it by hand reports the spawn error.
        #expect(throws: SupervisorFault.spawnError("quick")) { try h.supervisor.start(name: "quick") }
    }

    /// spindled's startretries=-1 keeps retrying past any count supervisor would allow.
    @Test func startretriesMinusOneNeverGivesUp() throws {
        let h = try Harness(
            """
            [program:flaky]
            command = /bin/sh -c "echo attempt >> %(here)s/attempts; exit 1"
            startsecs = 1
            startretries = -1
            backoff_max = 1
            """)
        defer { h.close() }
        let attempts = h.dir.file("attempts")
        func count() -> Int { ((try? String(contentsOfFile: attempts, encoding: .utf8)) ?? "").split(separator: "\n").count }
        #expect(eventually(timeout: 30) { count() >= 6 }, "only \(count()) attempts")
        #expect(h.state("flaky") != .fatal)
        #expect(!h.log().contains { $0.contains("gave up: flaky") })
    }

    @Test func longRunnerIsRunningThenStopped() throws {
        let h = try Harness(
            """
            [program:sleeper]
            command = sleep 1000
            startsecs = 1
            stopwaitsecs = 5
            """)
        defer { h.close() }
        #expect(h.state("sleeper") == .starting)
        #expect(h.waitFor("sleeper", .running))
        let info = h.info("sleeper")
        #expect(info.pid > 0 && processAlive(info.pid))
        #expect(info.description.hasPrefix("pid \(info.pid), uptime 0:00:0"))
        #expect(info.start > 0 && info.stop == 0)
        #expect(info.group == "sleeper" && info.name == "sleeper")
        #expect(h.log().contains("INFO success: sleeper entered RUNNING state, process has stayed up for > than 1 seconds (startsecs)"))
        #expect(throws: SupervisorFault.alreadyStarted("sleeper")) { try h.supervisor.start(name: "sleeper") }
        try h.supervisor.stop(name: "sleeper")
        let stopped = h.info("sleeper")
        #expect(stopped.state == .stopped)
        #expect(stopped.pid == 0)
        #expect(stopped.exitstatus == -1)
        #expect(stopped.stop >= stopped.start)
        #expect(stopped.description == SupervisedProcessInfo.localTime(stopped.stop))
        #expect(h.log().contains("WARN stopped: sleeper (terminated by SIGTERM)"))
        #expect(!processAlive(info.pid))
        #expect(throws: SupervisorFault.notRunning("sleeper")) { try h.supervisor.stop(name: "sleeper") }
        // Started again by hand, waiting for RUNNING.
        try h.supervisor.start(name: "sleeper", wait: true)
        #expect(h.state("sleeper") == .running)
    }

    @Test func notStartedDescription() throws {
        let h = try Harness("[program:idle]\ncommand = sleep 1000\nautostart = false\n")
        defer { h.close() }
        let info = h.info("idle")
        #expect(info.state == .stopped && info.description == "Not started" && info.start == 0)
    }

    @Test func sigtermIgnoredIsKilledAfterStopwaitsecs() throws {
        let h = try Harness(
            """
            [program:stubborn]
            command = /bin/sh -c "trap '' TERM; echo ready; exec sleep 1000"
            startsecs = 0
            stopwaitsecs = 1
            """)
        defer { h.close() }
        #expect(h.waitFor("stubborn", .running))
        #expect(eventually { (try? h.supervisor.readLog(name: "stubborn", offset: 0, length: 0))?.contains("ready") == true })
        let pid = h.info("stubborn").pid
        let before = monotonicSeconds()
        try h.supervisor.stop(name: "stubborn", wait: true)
        let took = monotonicSeconds() - before
        #expect(took >= 0.9 && took < 5, "SIGKILL comes after stopwaitsecs; took \(took)")
        #expect(h.state("stubborn") == .stopped)
        #expect(h.log().contains("WARN killing 'stubborn' (\(pid)) with SIGKILL"))
        #expect(h.log().contains("WARN stopped: stubborn (terminated by SIGKILL)"))
        #expect(!processAlive(pid))
    }

    @Test func autorestartAfterCrashGetsANewPid() throws {
        let h = try Harness(
            """
            [program:crashy]
            command = /bin/sh -c "sleep 0.3; exit 3"
            startsecs = 0
            autorestart = unexpected
            """)
        defer { h.close() }
        #expect(h.waitFor("crashy", .running))
        let first = h.info("crashy").pid
        #expect(eventually { let i = h.info("crashy"); return i.pid != 0 && i.pid != first })
        #expect(h.log().contains("WARN exited: crashy (exit status 3; not expected)"))
        #expect(h.log().filter { $0.hasPrefix("INFO spawned: 'crashy'") }.count >= 2)
    }

    @Test func expectedExitIsNotRestarted() throws {
        let h = try Harness("[program:done]\ncommand = /bin/true\nstartsecs = 0\n")
        defer { h.close() }
        #expect(h.waitFor("done", .exited))
        let info = h.info("done")
        #expect(info.exitstatus == 0 && info.spawnerr == "")
        usleep(300_000)
        #expect(h.log().filter { $0.hasPrefix("INFO spawned: 'done'") }.count == 1)
    }

    @Test func priorityOrderForStartAndShutdown() throws {
        let h = try Harness(
            """
            [program:c]
            command = sleep 1000
            priority = 30
            startsecs = 0
            [program:a]
            command = sleep 1000
            priority = 10
            startsecs = 0
            [program:b]
            command = sleep 1000
            priority = 20
            startsecs = 0
            """)
        #expect(eventually { ["a", "b", "c"].allSatisfy { h.state($0) == .running } })
        let spawned = h.log().filter { $0.hasPrefix("INFO spawned:") }.map { $0.split(separator: "'")[1] }
        #expect(spawned == ["a", "b", "c"])
        #expect(h.supervisor.processNames == ["a", "b", "c"])
        #expect(h.supervisor.shutdown(timeout: 20))
        let stopped = h.log().filter { $0.contains("stopped:") }.map { $0.split(separator: " ")[2] }
        #expect(stopped == ["c", "b", "a"])
        #expect(throws: SupervisorFault.shutdownState()) { try h.supervisor.start(name: "a") }
        h.dir.remove()
    }

    @Test func stopasgroupKillsTheGrandchild() throws {
        let h = try Harness(
            """
            [program:parent]
            command = /bin/sh -c "sleep 1000 & echo $! > %(here)s/grandchild.pid; wait"
            startsecs = 0
            stopasgroup = true
            stopwaitsecs = 5
            """)
        defer { h.close() }
        #expect(h.waitFor("parent", .running))
        let pidFile = h.dir.file("grandchild.pid")
        #expect(eventually { ((try? String(contentsOfFile: pidFile, encoding: .utf8)) ?? "").hasSuffix("\n") })
        let grandchild = Int32(try String(contentsOfFile: pidFile, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines))!
        #expect(processAlive(grandchild))
        try h.supervisor.stop(name: "parent")
        #expect(h.state("parent") == .stopped)
        #expect(eventually(timeout: 5) { !processAlive(grandchild) })
    }

    @Test func faults() throws {
        let h = try Harness(
            """
            [program:missing]
            command = /no/such/program
            autostart = false
            [program:dir]
            command = /tmp
            autostart = false
            [program:idle]
            command = sleep 1000
            autostart = false
            stdout_logfile = NONE
            """)
        defer { h.close() }
        #expect(throws: SupervisorFault.badName("nope")) { try h.supervisor.start(name: "nope") }
        #expect(SupervisorFault.badName("nope").text == "BAD_NAME: nope")
        #expect(SupervisorFault.badName("nope").code == 10)
        #expect(throws: SupervisorFault.noFile("can't find command '/no/such/program'")) { try h.supervisor.start(name: "missing") }
        #expect(throws: SupervisorFault.notExecutable("command at '/tmp' is a directory")) { try h.supervisor.start(name: "dir") }
        #expect(throws: SupervisorFault.notRunning("idle")) { try h.supervisor.stop(name: "idle") }
        #expect(throws: SupervisorFault.notRunning("idle")) { try h.supervisor.signal(name: "idle", signal: "HUP") }
        #expect(throws: SupervisorFault.badSignal("NOPE")) { try h.supervisor.signal(name: "idle", signal: "NOPE") }
        #expect(throws: SupervisorFault.badName("idle:other")) { try h.supervisor.processInfo(name: "idle:other") }
        #expect(throws: SupervisorFault.notRunning("idle")) { try h.supervisor.sendProcessStdin(name: "idle", chars: "x") }
        #expect(throws: SupervisorFault.noFile(nil)) { try h.supervisor.readLog(name: "idle", channel: .stdout, offset: 0, length: 0) }
        let codes: [(SupervisorFault, Int)] = [
            (.unknownMethod(), 1), (.incorrectParameters(), 2), (.badArguments(), 3), (.signatureUnsupported(), 4),
            (.shutdownState(), 6), (.badSignal("x"), 11), (.noFile(nil), 20), (.notExecutable("x"), 21), (.failed(), 30),
            (.abnormalTermination("x"), 40), (.spawnError("x"), 50), (.alreadyStarted("x"), 60), (.notRunning("x"), 70),
            (.success, 80), (.alreadyAdded("x"), 90), (.stillRunning("x"), 91), (.cantReread("x"), 92),
        ]
        for (fault, code) in codes { #expect(fault.code == code) }
        #expect(SupervisorFault.failed().text == "FAILED")
    }

    @Test func groupsAndAllOperations() throws {
        let h = try Harness(
            """
            [group:pool]
            programs = w
            [program:w]
            command = sleep 1000
            process_name = w_%(process_num)d
            numprocs = 3
            startsecs = 0
            autostart = false
            [program:solo]
            command = sleep 1000
            startsecs = 0
            autostart = false
            """)
        defer { h.close() }
        let started = try h.supervisor.startGroup(name: "pool")
        #expect(started.map(\.name) == ["w_0", "w_1", "w_2"])
        #expect(started.allSatisfy { $0.status == 80 && $0.description == "OK" && $0.group == "pool" })
        #expect(h.state("pool:w_1") == .running)
        #expect(h.state("solo") == .stopped)
        let all = try h.supervisor.startAll()
        #expect(all.map(\.name) == ["solo"])
        let signalled = try h.supervisor.signalGroup(name: "pool", signal: "CONT")
        #expect(signalled.count == 3)
        try h.supervisor.stop(name: "pool:*")
        #expect(["pool:w_0", "pool:w_1", "pool:w_2"].allSatisfy { h.state($0) == .stopped })
        let stopped = try h.supervisor.stopAll()
        #expect(stopped.map(\.name) == ["solo"])
        #expect(h.supervisor.allProcessInfo().map { "\($0.group):\($0.name)" } == ["pool:w_0", "pool:w_1", "pool:w_2", "solo:solo"])
    }

    @Test func signalReachesTheProcess() throws {
        let h = try Harness(
            """
            [program:trapper]
            command = /bin/sh -c "trap 'echo got usr1' USR1; echo ready; while :; do sleep 0.05; done"
            startsecs = 0
            stopasgroup = true
            """)
        defer { h.close() }
        #expect(h.waitFor("trapper", .running))
        #expect(eventually { (try? h.supervisor.readLog(name: "trapper", offset: 0, length: 0))?.contains("ready") == true })
        try h.supervisor.signal(name: "trapper", signal: "USR1")
        #expect(eventually { (try? h.supervisor.readLog(name: "trapper", offset: 0, length: 0))?.contains("got usr1") == true })
        #expect(h.state("trapper") == .running)
    }

    @Test func stdinIsDelivered() throws {
        let h = try Harness("[program:echo]\ncommand = cat\nstartsecs = 0\n")
        defer { h.close() }
        #expect(h.waitFor("echo", .running))
        try h.supervisor.sendProcessStdin(name: "echo", chars: "hello supervisor\n")
        #expect(eventually { (try? h.supervisor.readLog(name: "echo", offset: 0, length: 0)) == "hello supervisor\n" })
    }

    @Test func reloadAddAndRemoveGroups() throws {
        let h = try Harness(
            """
            [program:keep]
            command = sleep 1000
            startsecs = 0
            [program:change]
            command = sleep 1000
            startsecs = 0
            [program:drop]
            command = sleep 1000
            startsecs = 0
            """)
        defer { h.close() }
        let newText = """
            [supervisord]
            childlogdir = \(h.dir.path)
            [program:keep]
            command = sleep 1000
            startsecs = 0
            [program:change]
            command = sleep 999
            startsecs = 0
            [program:fresh]
            command = sleep 1000
            startsecs = 0
            """
        let newConfig = try SupervisorConfig.parse(newText, path: h.dir.file("supervisord.conf"))
        let diff = try h.supervisor.reload(config: newConfig)
        #expect(diff == ConfigDiff(added: ["fresh"], changed: ["change"], removed: ["drop"]))
        #expect(throws: SupervisorFault.stillRunning("drop")) { try h.supervisor.removeProcessGroup(name: "drop") }
        try h.supervisor.stop(name: "drop")
        try h.supervisor.removeProcessGroup(name: "drop")
        #expect(throws: SupervisorFault.badName("drop")) { try h.supervisor.processInfo(name: "drop") }
        #expect(throws: SupervisorFault.badName("drop")) { try h.supervisor.removeProcessGroup(name: "drop") }
        try h.supervisor.addProcessGroup(name: "fresh")
        #expect(h.waitFor("fresh", .running))
        #expect(throws: SupervisorFault.alreadyAdded("fresh")) { try h.supervisor.addProcessGroup(name: "fresh") }
        #expect(throws: SupervisorFault.badName("ghost")) { try h.supervisor.addProcessGroup(name: "ghost") }
    }
}
