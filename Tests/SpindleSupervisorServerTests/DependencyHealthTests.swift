import Foundation
import Glibc
import SpindleSubprocess
import SpindleSupervisor
import SpindleSupervisorServer
import SpindleSystem
import SpindleTestSupport
import Testing

/// spindled's depends_on, health checks and rolling restarts, driven as a user drives them:
/// spindled started on a config file, spindlectl and XML-RPC against its socket.
@Suite("spindled depends_on, health checks, rolling restart", .serialized, .timeLimit(.minutes(3)))
struct DependencyHealthTests {
    /// A daemon in the foreground on a config of `programs`.
    static func start(_ directory: TestDirectory, _ programs: String) throws -> (DaemonProcess, String) {
        let path = SpindledTests.config(directory, programs: programs)
        let daemon = try DaemonProcess([Binaries.spindled], config: path, directory: directory, socket: directory.file("sd.sock"))
        return (daemon, path)
    }

    /// A program that says it is up and sleeps; with `slowStop`, it takes a second to obey SIGTERM.
    static func program(_ name: String, in directory: TestDirectory, slowStop: Bool = false, extra: String = "") -> String {
        let trap = slowStop ? "trap 'sleep 1; exit 0' TERM\n" : ""
        directory.write("\(name).sh", "\(trap)echo \(name) up\nwhile :; do sleep 0.1; done\n")
        return "[program:\(name)]\ncommand=/bin/sh \(directory.path)/\(name).sh\nstartsecs=0\nstdout_logfile=\(directory.path)/\(name).out\n\(extra)\n"
    }

    /// The index of the first main-log line containing `text`.
    static func line(_ log: String, _ text: String) -> Int? {
        log.split(separator: "\n").firstIndex { $0.contains(text) }
    }

    static func pid(_ client: SupervisorClient, _ name: String) -> Int {
        (try? client.call("supervisor.getProcessInfo", [.string(name)]))?["pid"]?.intValue ?? 0
    }

    static func health(_ client: SupervisorClient, _ name: String) -> String {
        (try? client.call("supervisor.getProcessHealth", [.string(name)]))?["health"]?.stringValue ?? "?"
    }

    /// Zombie children of `pid`.
    static func zombies(of pid: Int32) -> [Int32] {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return entries.compactMap { Int32($0) }.filter { child in
            guard let stat = try? String(contentsOfFile: "/proc/\(child)/stat", encoding: .utf8),
                let close = stat.lastIndex(of: ")")
            else { return false }
            let fields = stat[stat.index(after: close)...].split(separator: " ")
            return fields.count > 2 && fields[0] == "Z" && Int32(fields[1]) == pid
        }
    }

    static func descriptors(of pid: Int32) -> Int {
        ((try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/fd")) ?? []).count
    }

    @Test func aDependentStartsOnlyOnceItsDependencyIsRunningAndHealthyAndStopsFirst() throws {
        let directory = TestDirectory()
        defer { directory.remove() }
        let programs =
            DependencyHealthTests.program(
                "db", in: directory,
                extra: "priority=999\nhealthcheck_command=/bin/test -e \(directory.path)/db.ready\nhealthcheck_interval=0.2\nhealthcheck_retries=1000\n")
            + DependencyHealthTests.program("web", in: directory, slowStop: true, extra: "priority=1\ndepends_on=db\n")
            + DependencyHealthTests.program("other", in: directory, extra: "priority=1\n")
        let (daemon, path) = try DependencyHealthTests.start(directory, programs)
        defer { daemon.stop() }
        #expect(daemon.waitUntilServing())
        let client = daemon.client
        #expect(daemon.waitFor(["db": .running, "other": .running]))
        // db runs but is not healthy yet: web (priority 1, so first without depends_on) waits.
        sleepSeconds(1)
        #expect(DependencyHealthTests.health(client, "db") == "starting")
        #expect(try client.call("supervisor.getProcessInfo", [.string("web")])["statename"]?.stringValue == "STOPPED")
        let waiting = runCommand([Binaries.spindlectl, "-c", path, "status"])
        #expect(waiting.stdout.contains("starting") && waiting.stdout.split(separator: "\n").contains { $0.hasPrefix("web") && $0.contains("STOPPED") }, "\(waiting)")

        directory.write("db.ready", "")
        #expect(daemon.waitFor(["web": .running]), "\(directory.read("supervisord.log"))")
        var log = directory.read("supervisord.log")
        let healthy = DependencyHealthTests.line(log, "healthy: db passed its health check")
        let spawned = DependencyHealthTests.line(log, "spawned: 'web'")
        #expect(healthy != nil && spawned != nil && healthy! < spawned!, "\(log)")

        // Health shows in spindlectl status, and over XML-RPC in a method of its own; the
        // getProcessInfo struct stays supervisor's.
        let status = runCommand([Binaries.spindlectl, "-c", path, "status"])
        let dbLine = status.stdout.split(separator: "\n").first { $0.hasPrefix("db ") }.map(String.init) ?? ""
        #expect(dbLine.contains("RUNNING") && dbLine.hasSuffix(", healthy"), "\(status)")
        #expect(!(status.stdout.split(separator: "\n").first { $0.hasPrefix("other") } ?? "").contains("health"), "\(status)")
        let info = try client.call("supervisor.getProcessInfo", [.string("db")])
        guard case .structure(let fields) = info else { throw XMLRPCError(reason: "not a struct") }
        #expect(
            fields.map(\.name) == [
                "name", "group", "start", "stop", "now", "state", "statename", "spawnerr", "exitstatus", "logfile", "stdout_logfile",
                "stderr_logfile", "pid", "description",
            ])
        let report = try client.call("supervisor.getProcessHealth", [.string("db")])
        #expect(report["health"] == .string("healthy") && report["last_result"] == .string("passed") && report["failures"] == .int(0))
        #expect((report["last_check"]?.intValue ?? 0) > 0)
        #expect(try client.call("supervisor.getProcessHealth", [.string("other")])["health"] == .string("none"))
        let all = try client.call("supervisor.getAllProcessHealth").arrayValue ?? []
        #expect(all.compactMap { $0["name"]?.stringValue } == ["db", "other", "web"])
        let methods = (try client.call("system.listMethods").arrayValue ?? []).compactMap(\.stringValue)
        #expect(methods.contains("supervisor.getProcessHealth") && methods.contains("supervisor.getAllProcessHealth"))
        #expect(try client.call("system.methodSignature", [.string("supervisor.getProcessHealth")]) == .array([.string("struct"), .string("string")]))
        #expect((try client.call("system.methodHelp", [.string("supervisor.getAllProcessHealth")]).stringValue ?? "").contains("@return array"))

        // stop all: web (slow to stop) is stopped before db is signalled.
        let stop = runCommand([Binaries.spindlectl, "-c", path, "stop", "all"])
        #expect(stop.status == 0 && Set(stop.stdout.split(separator: "\n")) == ["web: stopped", "db: stopped", "other: stopped"], "\(stop)")
        log = directory.read("supervisord.log")
        let webStopped = DependencyHealthTests.line(log, "stopped: web")
        let dbStopped = DependencyHealthTests.line(log, "stopped: db")
        #expect(webStopped != nil && dbStopped != nil && webStopped! < dbStopped!, "\(log)")

        // A start whose dependency will not come up by itself is refused, the reason logged.
        let refused = runCommand([Binaries.spindlectl, "-c", path, "start", "web"])
        #expect(refused.stdout == "web: ERROR (spawn error)\n" && refused.status == 7, "\(refused)")
        #expect(directory.read("supervisord.log").contains("not starting web: its dependency 'db' is STOPPED"))

        // start all: web waits for db again; then shutdown stops web first too.
        let startAll = runCommand([Binaries.spindlectl, "-c", path, "start", "all"])
        #expect(startAll.status == 0 && Set(startAll.stdout.split(separator: "\n")) == ["web: started", "db: started", "other: started"], "\(startAll)")
        #expect(DependencyHealthTests.pid(client, "web") > 0)
        let shutdown = runCommand([Binaries.spindlectl, "-c", path, "shutdown"])
        #expect(shutdown.stdout == "Shut down\n", "\(shutdown)")
        #expect((try? daemon.popen.wait(timeout: 30)) != nil)
        log = directory.read("supervisord.log")
        let lines = log.split(separator: "\n").map(String.init)
        let lastWeb = lines.lastIndex { $0.contains("stopped: web") }
        let lastDb = lines.lastIndex { $0.contains("stopped: db") }
        #expect(lastWeb != nil && lastDb != nil && lastWeb! < lastDb!, "\(log)")
        #expect(ProcessSweeper.pids(mentioning: directory.path).isEmpty)
    }

    @Test func aDependencyCycleOrAnUnknownNameIsAConfigurationErrorAndNothingStarts() throws {
        let directory = TestDirectory()
        defer { directory.remove() }
        let path = SpindledTests.config(
            directory,
            programs: DependencyHealthTests.program("a", in: directory, extra: "depends_on=b\n")
                + DependencyHealthTests.program("b", in: directory, extra: "depends_on=a\n"))
        let run = runCommand([Binaries.spindled, "-n", "-c", path], timeout: 20)
        #expect(run.status == 2, "\(run)")
        #expect(run.stderr.contains("depends_on cycle: a -> b -> a") && run.stderr.contains("'program:a'") && run.stderr.contains(path), "\(run)")
        #expect(!directory.exists("sd.sock") && !directory.exists("supervisord.pid"))
        #expect(ProcessSweeper.pids(mentioning: directory.path).isEmpty, "nothing may start")

        let unknown = SpindledTests.config(directory, programs: DependencyHealthTests.program("a", in: directory, extra: "depends_on=nosuch\n"))
        let refused = runCommand([Binaries.spindled, "-n", "-c", unknown], timeout: 20)
        #expect(refused.status == 2 && refused.stderr.contains("depends_on names unknown program 'nosuch'"), "\(refused)")
    }

    @Test func anUnhealthyProcessIsRestartedAndAHungCheckIsKilledWithoutLeaks() throws {
        let directory = TestDirectory()
        defer { directory.remove() }
        let check = "/bin/sh -c \"test ! -e \(directory.path)/sick && if [ -e \(directory.path)/hang ]; then sleep 987.25; fi\""
        let (daemon, path) = try DependencyHealthTests.start(
            directory,
            DependencyHealthTests.program(
                "web", in: directory,
                extra: "healthcheck_command=\(check)\nhealthcheck_interval=0.1\nhealthcheck_timeout=0.5\nhealthcheck_retries=2\n"))
        defer { daemon.stop() }
        #expect(daemon.waitUntilServing())
        let client = daemon.client
        #expect(waitUntil { DependencyHealthTests.health(client, "web") == "healthy" })
        let first = DependencyHealthTests.pid(client, "web")
        sleepSeconds(0.5)
        let baseline = DependencyHealthTests.descriptors(of: daemon.popen.pid)
        sleepSeconds(2)  // some twenty checks
        #expect(DependencyHealthTests.descriptors(of: daemon.popen.pid) <= baseline + 3, "descriptors leak per check")
        #expect(DependencyHealthTests.zombies(of: daemon.popen.pid).isEmpty)

        // Failing checks: unhealthy, restarted (new pid), logged; healthy again once fixed.
        directory.write("sick", "")
        #expect(waitUntil { directory.read("supervisord.log").contains("unhealthy: web failed 2 health checks in a row (last: exit status 1); restarting it") })
        #expect(waitUntil { let pid = DependencyHealthTests.pid(client, "web"); return pid > 0 && pid != first }, "restarted")
        unlink(directory.file("sick"))
        #expect(waitUntil { DependencyHealthTests.health(client, "web") == "healthy" })

        // A hung check is killed at the timeout, with what it started.
        let second = DependencyHealthTests.pid(client, "web")
        directory.write("hang", "")
        #expect(waitUntil { directory.read("supervisord.log").contains("health check of web timed out after 0.5 s; killing it") })
        #expect(waitUntil { let pid = DependencyHealthTests.pid(client, "web"); return pid > 0 && pid != second }, "restarted after two timeouts")
        unlink(directory.file("hang"))
        #expect(waitUntil { DependencyHealthTests.health(client, "web") == "healthy" })
        #expect(waitUntil(timeout: 5) { ProcessSweeper.pids(mentioning: "sleep 987.25").isEmpty }, "the hung check's child must be killed")
        #expect(waitUntil(timeout: 5) { DependencyHealthTests.zombies(of: daemon.popen.pid).isEmpty })
        let report = try client.call("supervisor.getProcessHealth", [.string("web")])
        #expect(report["health"] == .string("healthy"))
        let status = runCommand([Binaries.spindlectl, "-c", path, "status", "web"])
        #expect(status.stdout.hasSuffix(", healthy\n"), "\(status)")

        // Checks run only while RUNNING: stopped, none runs and the status says so.
        #expect(runCommand([Binaries.spindlectl, "-c", path, "stop", "web"]).stdout == "web: stopped\n")
        #expect(DependencyHealthTests.health(client, "web") == "inactive")
        let stopped = runCommand([Binaries.spindlectl, "-c", path, "status", "web"])
        #expect(!stopped.stdout.contains("health"), "\(stopped)")
    }

    @Test func aRollingRestartGoesOneProcessAtATimeAndStopsAtOneThatDoesNotComeBack() throws {
        let directory = TestDirectory()
        defer { directory.remove() }
        directory.write("w.sh", "echo up\nwhile :; do sleep 0.1; done\n")
        directory.write("ok", "")
        let (daemon, path) = try DependencyHealthTests.start(
            directory,
            """
            [program:w]
            command=/bin/sh \(directory.path)/w.sh
            process_name=w_%(process_num)d
            numprocs=3
            startsecs=0
            healthcheck_command=/bin/sh -c "test -e \(directory.path)/ok && kill -0 $SPINDLE_PROCESS_PID && test $SUPERVISOR_PROCESS_NAME = w_%(process_num)d"
            healthcheck_interval=0.2
            healthcheck_retries=1000

            """)
        defer { daemon.stop() }
        #expect(daemon.waitUntilServing())
        let client = daemon.client
        let names = ["w:w_0", "w:w_1", "w:w_2"]
        #expect(waitUntil { names.allSatisfy { DependencyHealthTests.health(client, $0) == "healthy" } })
        let before = names.map { DependencyHealthTests.pid(client, $0) }
        if ReferenceSupervisor.available {
            // An old client sees supervisor's status lines, health methods or not.
            let theirs = runCommand(ReferenceSupervisor.supervisorctl + ["-c", path, "status"])
            let lines = theirs.stdout.split(separator: "\n")
            #expect(theirs.status == 0 && lines.count == 3 && lines.allSatisfy { $0.contains("RUNNING") && !$0.contains("health") }, "\(theirs)")
        }
        let roll = runCommand([Binaries.spindlectl, "-c", path, "restart", "--rolling", "w"])
        #expect(roll.status == 0, "\(roll)")
        #expect(roll.stdout == names.map { "\($0): stopped\n\($0): started\n" }.joined(), "\(roll)")
        let after = names.map { DependencyHealthTests.pid(client, $0) }
        #expect(zip(before, after).allSatisfy { $0 != $1 && $1 > 0 })
        // One at a time: each was healthy again before the next was stopped.
        let log = directory.read("supervisord.log").split(separator: "\n").map(String.init)
        let rollStart = log.lastIndex { $0.contains("stopped: w_0") } ?? 0
        let tail = Array(log[rollStart...])
        for (this, next) in [("w_0", "w_1"), ("w_1", "w_2")] {
            let healthy = tail.firstIndex { $0.contains("healthy: \(this) passed") }
            let stopped = tail.firstIndex { $0.contains("stopped: \(next)") }
            #expect(healthy != nil && stopped != nil && healthy! < stopped!, "\(tail)")
        }

        // It never gets healthy: the roll stops at the first process, with an error.
        unlink(directory.file("ok"))
        let failed = runCommand([Binaries.spindlectl, "-c", path, "restart", "--rolling", "--timeout=1.5", "w:*"])
        #expect(failed.status == 7, "\(failed)")
        #expect(
            failed.stdout == "w:w_0: stopped\nw:w_0: ERROR (not up after 1.5 s: RUNNING, health starting)\nw: ERROR (rolling restart stopped at w:w_0)\n",
            "\(failed)")
        #expect(DependencyHealthTests.pid(client, "w:w_1") == after[1] && DependencyHealthTests.pid(client, "w:w_2") == after[2], "the others are left alone")
        let none = runCommand([Binaries.spindlectl, "-c", path, "restart", "--rolling", "nosuch"])
        #expect(none.stdout == "nosuch: ERROR (no such group)\n" && none.status == 2, "\(none)")
    }
}

extension DependencyHealthTests {
    @Test func anAutorestartWaitsUntilItsDependencyIsHealthyAgain() throws {
        let directory = TestDirectory()
        defer { directory.remove() }
        directory.write("db.ready", "")
        let (daemon, _) = try DependencyHealthTests.start(
            directory,
            DependencyHealthTests.program(
                "db", in: directory,
                extra: "healthcheck_command=/bin/test -e \(directory.path)/db.ready\nhealthcheck_interval=0.1\nhealthcheck_retries=1\n")
                + DependencyHealthTests.program("web", in: directory, extra: "depends_on=db\nautorestart=true\n"))
        defer { daemon.stop() }
        #expect(daemon.waitUntilServing())
        let client = daemon.client
        #expect(daemon.waitFor(["db": .running, "web": .running]))
        // db turns unhealthy and is restarted; while it is not healthy, web's autorestart waits.
        unlink(directory.file("db.ready"))
        #expect(waitUntil { directory.read("supervisord.log").contains("unhealthy: db") })
        let web = DependencyHealthTests.pid(client, "web")
        kill(Int32(web), SIGKILL)
        #expect(daemon.waitFor(["web": .exited]))
        sleepSeconds(1)
        #expect(try client.call("supervisor.getProcessInfo", [.string("web")])["statename"] == .string("EXITED"), "\(directory.read("supervisord.log"))")
        directory.write("db.ready", "")
        #expect(daemon.waitFor(["web": .running]))
        #expect(DependencyHealthTests.health(client, "db") == "healthy")
        let pid = DependencyHealthTests.pid(client, "web")
        #expect(pid > 0 && pid != web)
    }
}
