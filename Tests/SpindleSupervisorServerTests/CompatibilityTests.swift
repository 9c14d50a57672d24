import Foundation
import Glibc
import SpindleSubprocess
import SpindleSupervisor
import SpindleSupervisorServer
import SpindleSystem
import SpindleTestSupport
import Testing

/// One daemon and the control program driving it: a side of the comparison with supervisor 4.3.0.
final class ComparisonSide: @unchecked Sendable {
    let label: String
    let directory: TestDirectory
    let port: Int
    let control: [String]
    let daemonCommand: [String]
    var daemon: DaemonProcess?
    var transcript: [(step: String, output: String)] = []

    static let environment: [String: String] = {
        var environment = ProcessInfo.processInfo.environment
        environment["PYTHONIOENCODING"] = "utf-8"
        environment["PYTHONDONTWRITEBYTECODE"] = "1"
        return environment
    }()

    init(label: String, daemon: [String], control: [String]) {
        self.label = label
        self.directory = TestDirectory("spindle-compare")
        self.port = freePort()
        self.daemonCommand = daemon
        self.control = control
        directory.write("sleeper.sh", "echo hello\necho oops >&2\nwhile :; do sleep 1; done\n")
        directory.write("crash.sh", "echo crashing >&2\nexit 3\n")
        directory.write("stubborn.sh", "trap '' TERM\necho stubborn\nwhile :; do sleep 1; done\n")
        writeConfig(edited: false)
    }

    var configFile: String { directory.file("supervisord.conf") }
    var socket: String { directory.file("sd.sock") }

    /// The configuration both daemons run; `edited` adds `extra`, changes `manual` and drops `web`.
    func writeConfig(edited: Bool) {
        let dir = directory.path
        var text = """
            [unix_http_server]
            file=\(dir)/sd.sock

            [inet_http_server]
            port=127.0.0.1:\(port)
            username=user
            password={SHA}e5e9fa1ba31ecd1ae84f75caaa474f3a663f05f4

            [supervisord]
            logfile=\(dir)/supervisord.log
            pidfile=\(dir)/supervisord.pid
            childlogdir=\(dir)

            [rpcinterface:supervisor]
            supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface

            [supervisorctl]
            serverurl=unix://\(dir)/sd.sock

            [program:sleeper]
            command=/bin/sh \(dir)/sleeper.sh
            priority=100
            stdout_logfile=\(dir)/sleeper.out
            stderr_logfile=\(dir)/sleeper.err

            [program:crash]
            command=/bin/sh \(dir)/crash.sh
            startretries=1

            [program:stubborn]
            command=/bin/sh \(dir)/stubborn.sh
            stopwaitsecs=1
            priority=200

            [program:manual]
            command=/bin/sh \(dir)/sleeper.sh\(edited ? " changed" : "")
            autostart=false

            """
        if edited {
            text += "[program:extra]\ncommand=/bin/sh \(dir)/sleeper.sh\nstartsecs=0\n"
        } else {
            text += "[program:web]\ncommand=/bin/sh \(dir)/sleeper.sh\nprocess_name=web_%(process_num)02d\nnumprocs=2\npriority=300\n"
        }
        directory.write("supervisord.conf", text)
    }

    func start() throws {
        daemon = try DaemonProcess(daemonCommand, config: configFile, directory: directory, socket: socket)
    }

    /// Runs the control program with the configuration and `args`.
    func run(_ args: [String], input: String? = nil) -> CommandOutput {
        do {
            let done = try Subprocess.run(
                control + ["-c", configFile] + args, input: Array((input ?? "").utf8), captureOutput: true, timeout: 60,
                cwd: directory.path, env: ComparisonSide.environment)
            return CommandOutput(stdout: done.stdoutText ?? "", stderr: done.stderrText ?? "", status: done.returncode)
        } catch {
            return CommandOutput(stdout: "", stderr: "\(error)", status: -1)
        }
    }

    /// Runs the control program and sends it SIGINT (Ctrl-C in `tail -f`) once it printed `awaited`.
    func runInterrupted(_ args: [String], awaiting awaited: String) -> CommandOutput {
        let out = directory.file("interrupted.out")
        let err = directory.file("interrupted.err")
        do {
            let process = try Popen(
                control + ["-c", configFile] + args, stdin: .devnull, stdout: .path(out), stderr: .path(err), cwd: directory.path,
                env: ComparisonSide.environment)
            _ = waitUntil(timeout: 30) { directory.read("interrupted.out").contains(awaited) }
            sleepSeconds(0.2)
            process.sendSignal(SIGINT)
            if (try? process.wait(timeout: 20)) == nil {
                process.kill()
                _ = try? process.wait(timeout: 5)
            }
            return CommandOutput(stdout: directory.read("interrupted.out"), stderr: directory.read("interrupted.err"), status: process.returncode ?? -1)
        } catch {
            return CommandOutput(stdout: "", stderr: "\(error)", status: -1)
        }
    }

    /// The output with what differs between runs replaced: the directory, the port, pids, uptimes, dates.
    func normalize(_ output: CommandOutput, stderr: Bool = false) -> String {
        var text = output.stdout + (stderr ? "--- stderr:\n" + output.stderr : "")
        text = text.replacingOccurrences(of: directory.path, with: "DIR")
        text = text.replacingOccurrences(of: String(port), with: "PORT")
        text = text.replacing(/pid \d+/, with: "pid N")
        text = text.replacing(/uptime \d+:\d\d:\d\d/, with: "uptime U")
        text = text.replacing(/[A-Z][a-z]{2} \d{2} \d{2}:\d{2} [AP]M/, with: "DATE")
        // Where in supervisorctl's Python source an unexpected error was raised.
        text = text.replacing(/: file: [^\n]* line: \d+/, with: "")
        text = text.split(separator: "\n", omittingEmptySubsequences: false)
            .map { line in (line.allSatisfy(\.isNumber) && !line.isEmpty && line != "0") ? "N" : String(line) }
            .joined(separator: "\n")
        return text + "[exit \(output.status)]"
    }

    func record(_ step: String, _ output: String) { transcript.append((step, output)) }

    func stopAndClean() {
        daemon?.stop()
        directory.remove()
    }
}

/// The steps both sides go through.
enum ComparisonStep: Sendable {
    case command([String])
    /// A command whose per-process lines come in an order supervisord itself does not fix
    /// (results of processes waited for together): the lines are compared sorted.
    case unordered([String])
    case interactive(String)
    case interrupted([String])
    case wait([String: ProcessState])
    case edit
    case awaitExit
}

@Suite("Against supervisor 4.3.0", .serialized, .timeLimit(.minutes(5)))
struct CompatibilityTests {
    static let steady: [String: ProcessState] = [
        "sleeper": .running, "crash": .fatal, "stubborn": .running, "manual": .stopped, "web:web_00": .running, "web:web_01": .running,
    ]

    static let steps: [ComparisonStep] = [
        .wait(steady),
        .command(["status"]),
        .command(["status", "sleeper", "web:*", "nosuch", "foo:*"]),
        .command(["status", "manual"]),
        .command(["pid", "sleeper"]), .command(["pid", "manual"]), .command(["pid", "nosuch"]), .command(["pid"]), .command(["pid", "all"]),
        .command(["avail"]), .command(["version"]),
        .command(["tail", "sleeper"]), .command(["tail", "sleeper", "stderr"]), .command(["tail", "-3", "sleeper"]),
        .command(["tail", "nosuch"]), .command(["tail", "crash", "stderr"]), .command(["tail", "sleeper", "bogus"]), .command(["tail"]),
        .command(["tail", "-f", "nosuch"]),
        .interrupted(["tail", "-f", "sleeper"]),
        .command(["start", "sleeper"]), .command(["start", "nosuch"]), .command(["start", "nogroup:*"]), .command(["start", "web:*"]),
        .command(["start"]),
        .command(["start", "manual"]), .command(["stop", "manual"]), .command(["stop", "manual"]), .command(["stop", "nosuch", "nogroup:*"]),
        .command(["stop", "stubborn"]),
        .command(["start", "crash"]),
        .command(["signal", "CONT", "sleeper"]), .command(["signal", "FOO", "sleeper"]), .command(["signal", "CONT", "manual"]),
        .command(["signal", "CONT", "web:*"]), .command(["signal", "CONT", "nosuch"]), .command(["signal", "CONT"]),
        .command(["restart", "sleeper"]), .unordered(["restart", "web:*"]),
        .command(["clear", "sleeper"]), .command(["tail", "sleeper"]), .command(["clear", "nosuch"]),
        .wait(["sleeper": .running, "crash": .fatal, "stubborn": .stopped, "manual": .stopped, "web:web_00": .running, "web:web_01": .running]),
        .command(["status"]),
        .unordered(["stop", "all"]), .command(["status"]),
        .unordered(["start", "all"]),
        .wait(["sleeper": .running, "stubborn": .running, "manual": .running, "web:web_00": .running, "web:web_01": .running, "crash": .fatal]),
        .edit,
        .command(["reread"]), .command(["avail"]), .command(["update"]),
        .wait(["sleeper": .running, "stubborn": .running, "extra": .running, "crash": .fatal]),
        .command(["status"]),
        .command(["reread"]),
        .command(["add", "nosuch"]), .command(["add", "sleeper"]), .command(["remove", "sleeper"]), .command(["remove", "nosuch"]),
        .command(["-s", "http://127.0.0.1:PORT", "status"]),
        .command(["-s", "http://127.0.0.1:PORT", "-u", "user", "-p", "nope", "version"]),
        .command(["-s", "http://127.0.0.1:PORT", "-u", "user", "-p", "secret", "status", "sleeper"]),
        .interactive("version\nstatus nosuch\nbogus\nhelp stop\nhelp\n"),
        .command(["shutdown"]),
        .awaitExit,
        .command(["status"]),
        .command(["shutdown"]),
    ]

    /// Goes through the steps on one side, recording what the control program printed.
    static func drive(_ side: ComparisonSide) {
        for (index, step) in steps.enumerated() {
            switch step {
            case .command(let args):
                let resolved = args.map { $0.replacingOccurrences(of: "PORT", with: String(side.port)) }
                let stderr = args.contains("-f")
                side.record("\(index): \(args.joined(separator: " "))", side.normalize(side.run(resolved), stderr: stderr))
            case .unordered(let args):
                let output = side.normalize(side.run(args))
                side.record("\(index): \(args.joined(separator: " ")) (sorted)", output.split(separator: "\n").sorted().joined(separator: "\n"))
            case .interactive(let input):
                side.record("\(index): shell <<< \(input.debugDescription)", side.normalize(side.run([], input: input)))
            case .interrupted(let args):
                side.record("\(index): \(args.joined(separator: " ")) ^C", side.normalize(side.runInterrupted(args, awaiting: "hello\n")))
            case .wait(let states):
                let reached = side.daemon?.waitFor(states) ?? false
                side.record("\(index): wait", reached ? "reached" : "not reached: \((try? side.daemon?.client.call("supervisor.getAllProcessInfo")).map { "\($0)" } ?? "")")
            case .edit:
                side.writeConfig(edited: true)
            case .awaitExit:
                let status = try? side.daemon?.popen.wait(timeout: 30)
                side.record("\(index): daemon exit", status == 0 ? "exit 0" : "exit \(String(describing: status))")
            }
        }
    }

    @Test(
        "supervisorctl prints the same against spindled as against supervisord; spindlectl drives supervisord alike",
        .enabled(if: ReferenceSupervisor.available, Comment(rawValue: ReferenceSupervisor.installation.why)))
    func sideBySide() throws {
        let reference = ComparisonSide(label: "supervisorctl → supervisord", daemon: ReferenceSupervisor.supervisord, control: ReferenceSupervisor.supervisorctl)
        let spindled = ComparisonSide(label: "supervisorctl → spindled", daemon: [Binaries.spindled], control: ReferenceSupervisor.supervisorctl)
        let spindlectl = ComparisonSide(label: "spindlectl → supervisord", daemon: ReferenceSupervisor.supervisord, control: [Binaries.spindlectl])
        let sides = [reference, spindled, spindlectl]
        defer { for side in sides { side.stopAndClean() } }
        for side in sides {
            try side.start()
            #expect(side.daemon?.waitUntilServing() == true, "\(side.label) does not serve: \(side.directory.read("daemon.out"))")
        }
        let threads = try sides.map { side in try spawn { CompatibilityTests.drive(side) } }
        for thread in threads { try finish(thread, timeout: 240) }

        // The reference went through the scenarios (so that two sides failing alike cannot pass).
        let story = reference.transcript.map(\.output).joined(separator: "\n")
        for line in [
            "sleeper                          RUNNING   pid N, uptime U", "crash                            FATAL     Exited too quickly",
            "stubborn: stopped", "crash: ERROR (spawn error)", "web:web_01: signalled", "web: removed process group",
            "extra: added process group", "Server requires authentication", "Shut down", "hello",
        ] {
            #expect(story.contains(line), "the reference run lacks \(line.debugDescription)")
        }
        for side in [spindled, spindlectl] {
            #expect(side.transcript.count == reference.transcript.count)
            for (expected, actual) in zip(reference.transcript, side.transcript) {
                #expect(actual.output == expected.output, "\(side.label), step \(expected.step):\n--- supervisor:\n\(expected.output)\n--- \(side.label):\n\(actual.output)")
            }
        }
        // Both daemons logged the same story of the crash and of the stubborn program.
        for side in [reference, spindled] {
            let log = side.directory.read("supervisord.log")
            #expect(log.contains("gave up: crash entered FATAL state, too many start retries too quickly"), "\(side.label)")
            #expect(log.contains("killing 'stubborn' ("), "\(side.label)")
            #expect(log.contains("stopped: stubborn (terminated by SIGKILL)"), "\(side.label)")
            #expect(log.contains("received SIGTERM") == false)
            // No child is left behind, and the socket and pid file are gone.
            #expect(waitUntil(timeout: 10) { ProcessSweeper.pids(mentioning: side.directory.path).isEmpty }, "\(side.label) left processes")
            #expect(!side.directory.exists("sd.sock") && !side.directory.exists("supervisord.pid"), "\(side.label)")
        }
    }

    @Test(
        "system.listMethods and methodSignature answer as supervisord's",
        .enabled(if: ReferenceSupervisor.available, Comment(rawValue: ReferenceSupervisor.installation.why)))
    func introspection() throws {
        let reference = ComparisonSide(label: "supervisord", daemon: ReferenceSupervisor.supervisord, control: ReferenceSupervisor.supervisorctl)
        let spindled = ComparisonSide(label: "spindled", daemon: [Binaries.spindled], control: ReferenceSupervisor.supervisorctl)
        defer {
            reference.stopAndClean()
            spindled.stopAndClean()
        }
        try reference.start()
        try spindled.start()
        #expect(reference.daemon?.waitUntilServing() == true)
        #expect(spindled.daemon?.waitUntilServing() == true)
        let theirs = try #require(reference.daemon?.client)
        let ours = try #require(spindled.daemon?.client)
        let methods = try theirs.call("system.listMethods")
        #expect(try ours.call("system.listMethods") == methods)
        for method in methods.arrayValue ?? [] {
            #expect(try ours.call("system.methodSignature", [method]) == theirs.call("system.methodSignature", [method]), "\(method)")
        }
        for (method, params) in [
            ("supervisor.nope", []), ("nope", []), ("supervisor.getState", [XMLRPCValue.int(1)]), ("system.methodHelp", [.string("x")]),
            ("supervisor.getProcessInfo", [.string("nosuch")]), ("supervisor.startProcess", [.string("nogroup:*")]),
            ("supervisor.stopProcess", [.string("manual")]), ("supervisor.readProcessStdoutLog", [.string("sleeper"), .int(-1), .int(1)]),
            ("supervisor.signalProcess", [.string("sleeper"), .string("NOPE")]), ("supervisor.addProcessGroup", [.string("sleeper")]),
        ] as [(String, [XMLRPCValue])] {
            #expect(outcome { try ours.call(method, params) } == outcome { try theirs.call(method, params) }, "\(method)")
        }
        let theirConfig = (try theirs.call("supervisor.getAllConfigInfo")).arrayValue ?? []
        let ourConfig = (try ours.call("supervisor.getAllConfigInfo")).arrayValue ?? []
        #expect(ourConfig.count == theirConfig.count)
        for (a, b) in zip(theirConfig, ourConfig) {
            guard case .structure(let theirFields) = a, case .structure(let ourFields) = b else { continue }
            #expect(ourFields.map(\.name) == theirFields.map(\.name))
            for field in theirFields where !["command", "stdout_logfile", "stderr_logfile"].contains(field.name) {
                #expect(b[field.name] == field.value, "\(b["name"] ?? .nil).\(field.name)")
            }
        }
    }
}

/// A call's value, or its error, as text.
func outcome(_ body: () throws -> XMLRPCValue) -> String {
    do { return "value \(try body())" } catch { return "error \(error)" }
}
