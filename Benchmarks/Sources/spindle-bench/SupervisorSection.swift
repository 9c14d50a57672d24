// The supervisor section: spindled against the real supervisord 4.3.0 (PyPI), each managing the
// same 100 programs from the same kind of config file, driven by the same XML-RPC client.
//
//   swift build -c release --product spindled          (at the repository's root, first)
//   cd Benchmarks && .build/release/spindle-bench supervisor
//
// Figures: time from launching the daemon to all 100 programs RUNNING; the getAllProcessInfo
// round trip; the time from a child's SIGKILL to its replacement RUNNING (startsecs=0); the
// daemon's resident memory; and the CPU it uses while idle over 60 s (scaled by --scale).
import Foundation
import Glibc
import Spindle
import SpindleSupervisorServer

let supervisorSection = Section(
    name: "supervisor",
    summary: "spindled vs supervisord 4.3.0 with 100 programs: start, round trip, crash to RUNNING, memory, idle CPU",
    runsByDefault: false
) { bench in
    guard let spindled = SupervisorBench.spindledPath() else { return }
    guard SupervisorBench.installSupervisor() else { return }
    let programs = 100
    let idleSeconds = max(5.0, 60.0 * bench.options.scale)
    let daemons: [(name: String, command: (String) -> [String])] = [
        ("spindled", { [spindled, "-n", "-c", $0] }),
        ("supervisord", { [CPython.interpreter, "-m", "supervisor.supervisord", "-n", "-c", $0] }),
    ]
    var results: [String: SupervisorBench.Figures] = [:]
    for daemon in daemons {
        progress("\n-- \(daemon.name) with \(programs) programs")
        guard let figures = SupervisorBench.measure(daemon.name, programs: programs, idleSeconds: idleSeconds, bench: bench, command: daemon.command) else {
            progress("   \(daemon.name) not measured")
            return
        }
        results[daemon.name] = figures
    }
    guard let ours = results["spindled"], let theirs = results["supervisord"] else { return }

    bench.group("V1", "time from launch to all \(programs) programs RUNNING (startsecs=0), ns")
    bench.add(theirs.startAll)
    bench.compare(bench.add(ours.startAll), with: theirs.startAll, maxRatio: 1.0 / 3.0)

    bench.group("V2", "supervisor.getAllProcessInfo round trip over the unix socket (\(programs) processes), ns")
    bench.add(theirs.roundTrip)
    bench.compare(bench.add(ours.roundTrip), with: theirs.roundTrip, maxRatio: 1.0 / 3.0)

    bench.group("V3", "a child's SIGKILL to its replacement RUNNING (autorestart, startsecs=0), ns")
    bench.add(theirs.crashToRunning)
    bench.compare(bench.add(ours.crashToRunning), with: theirs.crashToRunning, maxRatio: nil)

    bench.group("V4", "the daemon's own resources with \(programs) programs running")
    func megabytes(_ kib: Int) -> String { format(Double(kib) / 1024, decimals: 1) + " MiB" }
    bench.fact("supervisord resident memory (VmRSS)", megabytes(theirs.rssKiB) + " (peak \(megabytes(theirs.hwmKiB)))")
    bench.fact(
        "spindled resident memory (VmRSS)", megabytes(ours.rssKiB) + " (peak \(megabytes(ours.hwmKiB))), "
            + format(Double(ours.rssKiB) / Double(theirs.rssKiB), decimals: 2) + "x supervisord's",
        target: "≤ 0.25x supervisord's", passed: Double(ours.rssKiB) <= 0.25 * Double(theirs.rssKiB))
    bench.fact("supervisord private memory (RssAnon: heap, stacks)", megabytes(theirs.anonKiB))
    bench.fact(
        "spindled private memory (RssAnon: heap, stacks)",
        megabytes(ours.anonKiB) + ", " + format(Double(ours.anonKiB) / Double(theirs.anonKiB), decimals: 2) + "x supervisord's",
        target: "≤ 0.25x supervisord's", passed: Double(ours.anonKiB) <= 0.25 * Double(theirs.anonKiB))
    func cpu(_ f: SupervisorBench.Figures) -> String {
        format(f.idleCPUms, decimals: 1) + " ms CPU in " + format(idleSeconds, decimals: 0) + " s ("
            + format(f.idleCPUms / idleSeconds / 10, decimals: 3) + "%), " + format(f.idleWakeups / idleSeconds, decimals: 1)
            + " context switches/s"
    }
    bench.fact("supervisord idle CPU", cpu(theirs))
    bench.fact("spindled idle CPU", cpu(ours), target: "less than supervisord's", passed: ours.idleCPUms < theirs.idleCPUms)
    bench.printTable(title: "supervisor: spindled vs supervisord \(SupervisorBench.supervisorVersion), \(programs) programs")
}

enum SupervisorBench {
    static let supervisorVersion = "4.3.0"

    struct Figures {
        var startAll: Sample
        var roundTrip: Sample
        var crashToRunning: Sample
        var rssKiB: Int
        var hwmKiB: Int
        var anonKiB: Int
        var idleCPUms: Double
        var idleWakeups: Double
    }

    /// spindled from $SPINDLE_BENCH_SPINDLED or the repository's release build.
    static func spindledPath() -> String? {
        if let path = ProcessInfo.processInfo.environment["SPINDLE_BENCH_SPINDLED"] { return path }
        let me = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? ""
        // Benchmarks/.build/<triple>/release/spindle-bench -> <root>/.build/release/spindled
        var root = URL(fileURLWithPath: me)
        while root.path != "/" && !FileManager.default.fileExists(atPath: root.appendingPathComponent("Benchmarks/Package.swift").path) {
            root.deleteLastPathComponent()
        }
        let path = root.appendingPathComponent(".build/release/spindled").path
        guard access(path, X_OK) == 0 else {
            progress("   spindled not found at \(path): run `swift build -c release --product spindled` at the repository's root (or set SPINDLE_BENCH_SPINDLED)")
            return nil
        }
        return path
    }

    /// Makes sure supervisor 4.3.0 is importable, installing it with pip when it is not.
    static func installSupervisor() -> Bool {
        let check = "import importlib.metadata as m, sys; sys.exit(m.version('supervisor') != '\(supervisorVersion)')"
        if (try? Subprocess.run([CPython.interpreter, "-c", check], captureOutput: true).returncode) == 0 { return true }
        progress("   installing supervisor==\(supervisorVersion) with pip")
        _ = try? Subprocess.call(
            [CPython.interpreter, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "supervisor==\(supervisorVersion)"])
        if (try? Subprocess.run([CPython.interpreter, "-c", check], captureOutput: true).returncode) == 0 { return true }
        progress("   supervisor \(supervisorVersion) could not be installed: the section needs it")
        return false
    }

    static func config(directory: String, programs: Int) -> String {
        var text = """
            [unix_http_server]
            file=\(directory)/supervisor.sock

            [supervisord]
            logfile=\(directory)/supervisord.log
            pidfile=\(directory)/supervisord.pid
            childlogdir=\(directory)/logs
            nodaemon=true

            [rpcinterface:supervisor]
            supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface

            [supervisorctl]
            serverurl=unix://\(directory)/supervisor.sock

            """
        for i in 0..<programs {
            text += """

                [program:p\(i)]
                command=/bin/sleep 1000000
                startsecs=0
                autorestart=true
                stopwaitsecs=2

                """
        }
        return text
    }

    /// Runs one daemon through every figure, then stops it and checks that no child is left.
    static func measure(
        _ name: String, programs: Int, idleSeconds: Double, bench: Bench, command: (String) -> [String]
    ) -> Figures? {
        let directory = makeTemporaryDirectory("spindle-bench-\(name)")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try? FileManager.default.createDirectory(atPath: directory + "/logs", withIntermediateDirectories: true)
        let configPath = directory + "/supervisord.conf"
        _ = FileManager.default.createFile(atPath: configPath, contents: Data(config(directory: directory, programs: programs).utf8))
        let client = SupervisorClient(serverURL: "unix://\(directory)/supervisor.sock")

        var startRuns: [Double] = []
        var startOthers: [Double] = []
        var last: (daemon: Popen, figures: Figures)?
        // Start-up is measured over several launches; everything else on the last one.
        let launches = max(1, min(bench.options.repeats, 3))
        for launch in 0..<launches {
            if bench.options.quietWait > 0 { CPUClock.waitForQuiet(atMost: bench.options.quietWait) }
            let clock = CPUClock.now()
            let started = monotonicNanoseconds()
            guard let daemon = try? Popen(command(configPath), stdin: .devnull, stdout: .devnull, stderr: .path(directory + "/daemon.err", append: true)) else {
                progress("   cannot start \(name)")
                return nil
            }
            guard waitAllRunning(client, programs: programs, timeout: 60) else {
                progress("   \(name): not all \(programs) programs RUNNING within 60 s; its stderr: \(tail(directory + "/daemon.err"))")
                stop(daemon, client: client, directory: directory)
                return nil
            }
            startRuns.append(Double(monotonicNanoseconds() - started))
            startOthers.append(CPUClock.othersShare(from: clock, to: .now()))
            if launch < launches - 1 {
                stop(daemon, client: client, directory: directory)
                continue
            }
            let startAll = Sample(name: "\(name) start \(programs) programs", operations: 1, nanosecondsPerOp: startRuns, othersBusy: startOthers)

            // Round trips, after a moment for the last spawn's bookkeeping to settle.
            usleep(500_000)
            let calls = bench.options.scaled(200)
            var tripRuns: [Double] = []
            var tripOthers: [Double] = []
            for _ in 0..<bench.options.repeats {
                if bench.options.quietWait > 0 { CPUClock.waitForQuiet(atMost: bench.options.quietWait) }
                let clock = CPUClock.now()
                let elapsed = timed {
                    for _ in 0..<calls {
                        // The reply is checked, not parsed: the figure is the daemon's, not the client's XML parser's.
                        let reply = (try? client.rawCall("supervisor.getAllProcessInfo")) ?? []
                        let running = String(decoding: reply, as: UTF8.self).split(separator: "<string>RUNNING</string>", omittingEmptySubsequences: false).count - 1
                        check(running == programs, "\(name): getAllProcessInfo reported \(running) RUNNING processes")
                    }
                }
                tripRuns.append(Double(elapsed) / Double(calls))
                tripOthers.append(CPUClock.othersShare(from: clock, to: .now()))
            }
            let roundTrip = Sample(name: "\(name) getAllProcessInfo", operations: calls, nanosecondsPerOp: tripRuns, othersBusy: tripOthers)

            // A child killed, and the time until its replacement is RUNNING.
            var crashRuns: [Double] = []
            var crashOthers: [Double] = []
            for round in 0..<max(3, bench.options.repeats * 2) {
                if bench.options.quietWait > 0 { CPUClock.waitForQuiet(atMost: bench.options.quietWait) }
                let process = "p\(round % programs)"
                guard let before = info(client, process), before.state == "RUNNING", before.pid > 0 else {
                    progress("   \(name): \(process) is not RUNNING before the kill")
                    return nil
                }
                let clock = CPUClock.now()
                let killed = monotonicNanoseconds()
                Glibc.kill(before.pid, SIGKILL)
                var replaced = false
                while monotonicNanoseconds() - killed < 30_000_000_000 {
                    if let now = info(client, process), now.state == "RUNNING", now.pid > 0, now.pid != before.pid {
                        replaced = true
                        break
                    }
                    usleep(200)
                }
                check(replaced, "\(name): \(process) was not replaced within 30 s")
                crashRuns.append(Double(monotonicNanoseconds() - killed))
                crashOthers.append(CPUClock.othersShare(from: clock, to: .now()))
            }
            let crash = Sample(name: "\(name) kill -9 to RUNNING", operations: 1, nanosecondsPerOp: crashRuns, othersBusy: crashOthers)

            // Idle: nobody calls the daemon; its CPU time and context switches over the window.
            usleep(1_000_000)
            progress("   \(name): idle for \(Int(idleSeconds)) s")
            let before = taskCounters(daemon.pid)
            usleep(UInt32(idleSeconds * 1_000_000))
            let after = taskCounters(daemon.pid)
            let memory = memoryKiB(daemon.pid)
            let figures = Figures(
                startAll: startAll, roundTrip: roundTrip, crashToRunning: crash, rssKiB: memory.rss, hwmKiB: memory.hwm, anonKiB: memory.anon,
                idleCPUms: Double(after.cpuNanoseconds - before.cpuNanoseconds) / 1e6,
                idleWakeups: Double(after.switches - before.switches))
            progress("   \(name): VmRSS \(memory.rss) KiB, idle CPU \(format(figures.idleCPUms, decimals: 2)) ms, \(Int(figures.idleWakeups)) context switches")
            last = (daemon, figures)
        }
        guard let last else { return nil }
        stop(last.daemon, client: client, directory: directory)
        return last.figures
    }

    /// Polls getAllProcessInfo until `programs` processes are RUNNING.
    static func waitAllRunning(_ client: SupervisorClient, programs: Int, timeout: Double) -> Bool {
        let deadline = monotonicNanoseconds() + UInt64(timeout * 1e9)
        while monotonicNanoseconds() < deadline {
            if let all = (try? client.call("supervisor.getAllProcessInfo"))?.arrayValue,
                all.count == programs, all.allSatisfy({ $0["statename"]?.stringValue == "RUNNING" })
            {
                return true
            }
            usleep(1000)
        }
        return false
    }

    static func info(_ client: SupervisorClient, _ name: String) -> (state: String, pid: Int32)? {
        guard let value = try? client.call("supervisor.getProcessInfo", [.string(name)]) else { return nil }
        return (value["statename"]?.stringValue ?? "", Int32(value["pid"]?.intValue ?? 0))
    }

    /// Shuts the daemon down (SIGTERM), waits for it, and makes sure none of its programs outlive it.
    static func stop(_ daemon: Popen, client: SupervisorClient, directory: String) {
        let children = childPids(of: daemon.pid)
        daemon.terminate()
        if (try? daemon.wait(timeout: 30)) == nil {
            daemon.kill()
            _ = try? daemon.wait()
        }
        let survivors = children.filter { Glibc.kill($0, 0) == 0 && isSleeper($0) }
        check(survivors.isEmpty, "\(directory): \(survivors.count) programs outlived their daemon")
    }

    static func childPids(of pid: Int32) -> [Int32] {
        let text = (try? String(contentsOfFile: "/proc/\(pid)/task/\(pid)/children", encoding: .utf8)) ?? ""
        return text.split(separator: " ").compactMap { Int32($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
    }

    static func isSleeper(_ pid: Int32) -> Bool {
        ((try? String(contentsOfFile: "/proc/\(pid)/comm", encoding: .utf8)) ?? "").hasPrefix("sleep")
    }

    /// CPU nanoseconds (schedstat) and context switches summed over the process's threads.
    static func taskCounters(_ pid: Int32) -> (cpuNanoseconds: UInt64, switches: UInt64) {
        let tasks = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/task")) ?? []
        var cpu: UInt64 = 0
        var switches: UInt64 = 0
        for task in tasks {
            let schedstat = (try? String(contentsOfFile: "/proc/\(pid)/task/\(task)/schedstat", encoding: .utf8)) ?? ""
            cpu += UInt64(schedstat.split(separator: " ").first ?? "0") ?? 0
            let status = (try? String(contentsOfFile: "/proc/\(pid)/task/\(task)/status", encoding: .utf8)) ?? ""
            for line in status.split(separator: "\n") where line.contains("ctxt_switches") {
                switches += UInt64(line.split(separator: ":").last?.trimmingCharacters(in: .whitespaces) ?? "0") ?? 0
            }
        }
        return (cpu, switches)
    }

    static func memoryKiB(_ pid: Int32) -> (rss: Int, hwm: Int, anon: Int) {
        let status = (try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)) ?? ""
        func field(_ name: String) -> Int {
            guard let line = status.split(separator: "\n").first(where: { $0.hasPrefix(name + ":") }) else { return 0 }
            return Int(line.split(separator: " ").dropFirst().first ?? "0") ?? 0
        }
        return (field("VmRSS"), field("VmHWM"), field("RssAnon"))
    }

    static func makeTemporaryDirectory(_ prefix: String) -> String {
        var template = Array("/tmp/\(prefix)-XXXXXX".utf8CString)
        let made = template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }
        check(made != nil, "mkdtemp failed")
        return String(decoding: template.dropLast().map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    static func tail(_ path: String) -> String {
        String(((try? String(contentsOfFile: path, encoding: .utf8)) ?? "").suffix(400))
    }
}
