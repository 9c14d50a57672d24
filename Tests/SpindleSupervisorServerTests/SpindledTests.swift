import Foundation
import Glibc
import SpindleSubprocess
import SpindleSupervisor
import SpindleSupervisorServer
import SpindleSystem
import SpindleTestSupport
import Testing

@Suite("spindled", .serialized, .timeLimit(.minutes(3)))
struct SpindledTests {
    static func config(_ directory: TestDirectory, programs: String) -> String {
        let dir = directory.path
        return directory.write(
            "supervisord.conf",
            """
            [unix_http_server]
            file=\(dir)/sd.sock
            chmod=0770

            [supervisord]
            logfile=\(dir)/supervisord.log
            pidfile=\(dir)/supervisord.pid
            childlogdir=\(dir)

            [rpcinterface:supervisor]
            supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface

            [supervisorctl]
            serverurl=unix://\(dir)/sd.sock

            """ + programs)
    }

    static func program(_ name: String, priority: Int, in directory: TestDirectory) -> String {
        directory.write("\(name).sh", "echo \(name) up\nwhile :; do sleep 1; done\n")
        return "[program:\(name)]\ncommand=/bin/sh \(directory.path)/\(name).sh\npriority=\(priority)\nstartsecs=0\nstdout_logfile=\(directory.path)/\(name).out\n\n"
    }

    @Test func aBadConfigurationIsReportedAndNothingStarts() throws {
        let directory = TestDirectory()
        defer { directory.remove() }
        let path = SpindledTests.config(directory, programs: SpindledTests.program("good", priority: 1, in: directory) + "[program:bad]\ncommand=/bin/true\nstartsecs=abc\n")
        let run = runCommand([Binaries.spindled, "-n", "-c", path], timeout: 20)
        #expect(run.status == 2, "\(run)")
        #expect(run.stderr.hasPrefix("Error: "), "\(run)")
        for part in ["'startsecs'", "'program:bad'", path, "For help, use"] { #expect(run.stderr.contains(part), "\(part) in \(run)") }
        #expect(!directory.exists("sd.sock") && !directory.exists("supervisord.pid") && !directory.exists("supervisord.log"))
        #expect(ProcessSweeper.pids(mentioning: directory.path).isEmpty, "nothing may start")

        let missing = runCommand([Binaries.spindled, "-c", directory.file("nowhere.conf")])
        #expect(missing.status == 2 && missing.stderr.contains("could not find config file"), "\(missing)")
        let flag = runCommand([Binaries.spindled, "--bogus"])
        #expect(flag.status == 2 && flag.stderr.hasPrefix("Error: "), "\(flag)")
        let level = runCommand([Binaries.spindled, "-c", path, "-e", "chatty"])
        #expect(level.status == 2 && level.stderr.contains("bad logging level name"), "\(level)")
        #expect(runCommand([Binaries.spindled, "-v"]).stdout == "4.3.0\n")
    }

    /// spindled reads its command line as supervisord does (Python's getopt): the same refusals
    /// with the same first line and status 2, abbreviated and grouped options accepted, -h and -v
    /// acting where they stand (before the values after them are checked).
    @Test(.enabled(if: ReferenceSupervisor.available, Comment(rawValue: ReferenceSupervisor.installation.why)))
    func theCommandLineIsReadAsSupervisordReadsIt() throws {
        let directory = TestDirectory()
        defer { directory.remove() }
        let refused: [[String]] = [
            ["--bogus"], ["-x"], ["-nx"], ["-c"], ["--conf"], ["--log", "x"], ["--nodaemon=1"], ["foo", "bar"], ["-n", "--", "it's"],
            ["-c", "a", "-c", "b"], ["-n", "--nodaemon"], ["-m", "9"], ["--umask=x"], ["--minprocs=abc"], ["-a", "1.5"],
            ["-e", "chatty"], ["-y", "12xb"], ["-d", directory.file("nowhere")], ["-l", directory.file("nowhere/log")],
        ]
        for arguments in refused {
            let ours = runCommand([Binaries.spindled] + arguments, timeout: 20)
            let theirs = runCommand(ReferenceSupervisor.supervisord + arguments, timeout: 20)
            let firstLine = { (output: CommandOutput) in output.stderr.split(separator: "\n").first.map(String.init) ?? "" }
            #expect(ours.status == 2 && theirs.status == 2, "\(arguments): \(ours) / \(theirs)")
            #expect(firstLine(ours) == firstLine(theirs), "\(arguments)")
            #expect(ours.stderr.contains("For help, use \(Binaries.spindled) -h"), "\(arguments): \(ours)")
        }
        for arguments in [["-v"], ["--vers"], ["-nv"], ["-v", "-e", "chatty"]] {
            #expect(runCommand([Binaries.spindled] + arguments).stdout == "4.3.0\n", "\(arguments)")
        }
        for arguments in [["-h"], ["-?"], ["--he"], ["-nh", "-e", "chatty"]] {
            let help = runCommand([Binaries.spindled] + arguments)
            #expect(help.status == 0 && help.stderr.isEmpty, "\(arguments): \(help)")
            for option in ["-c, --configuration FILENAME", "-n, --nodaemon", "-s, --silent", "-u, --user USER", "-m, --umask UMASK",
                "-d, --directory DIRECTORY", "-l, --logfile FILENAME", "-y, --logfile_maxbytes BYTES", "-z, --logfile_backups NUM",
                "-e, --loglevel LEVEL", "-j, --pidfile FILENAME", "-i, --identifier STR", "-q, --childlogdir DIRECTORY",
                "-k, --nocleanup", "-a, --minfds NUM", "-t, --strip_ansi", "--minprocs NUM", "-v, --version", "-h, --help"]
            {
                #expect(help.stdout.contains(option), "\(option) in \(arguments)")
            }
        }
        // Grouped flags with the value attached to the last, and a long option abbreviated.
        let path = SpindledTests.config(directory, programs: "")
        let grouped = runCommand([Binaries.spindled, "-nc\(path)", "--logl=chatty"], timeout: 20)
        #expect(grouped.status == 2 && grouped.stderr.hasPrefix("Error: invalid value for --loglevel 'chatty': bad logging level name"), "\(grouped)")
    }

    /// spindled is built small (docs/PERFORMANCE.md, Supervisor): once serving, the only shared
    /// libraries it has mapped are glibc's, libstdc++, libgcc_s and zlib (no Swift runtime,
    /// no Foundation: -static-stdlib and no swift-argument-parser), and the regex engine that a
    /// `String.contains(String)` in any linked module would bring in is absent.
    @Test func theDaemonLoadsNeitherTheSwiftRuntimeNorFoundationNorTheRegexEngine() throws {
        let directory = TestDirectory()
        defer { directory.remove() }
        let path = SpindledTests.config(directory, programs: SpindledTests.program("one", priority: 1, in: directory))
        let daemon = try DaemonProcess([Binaries.spindled], config: path, directory: directory, socket: directory.file("sd.sock"))
        defer { daemon.stop() }
        #expect(daemon.waitUntilServing(), "\(directory.read("daemon.out"))")
        let maps = (try? String(contentsOfFile: "/proc/\(daemon.popen.pid)/maps", encoding: .utf8)) ?? ""
        let libraries = Set(maps.split(separator: "\n").compactMap { line in
            line.split(separator: " ", omittingEmptySubsequences: true).last.map(String.init).flatMap { $0.contains(".so") ? $0 : nil }
        })
        #expect(!libraries.isEmpty)
        let allowed = ["/libc.so", "/libm.so", "/ld-linux", "/libstdc++.so", "/libgcc_s.so", "/libz.so", "/libnss_", "/libresolv.so"]
        for library in libraries {
            #expect(allowed.contains { library.contains($0) }, "spindled maps \(library)")
        }
        let image = try #require(FileManager.default.contents(atPath: Binaries.spindled))
        for module in ["12_RegexParser", "17_StringProcessing", "20FoundationEssentials"] {
            #expect(image.range(of: Data(module.utf8)) == nil, "spindled links \(module)")
        }
    }

    /// spindled's stdout_forward/stderr_forward: the child's lines also reach spindled's own
    /// streams, each prefixed by the process name, and still reach the log file.
    @Test func forwardedOutputReachesSpindledsStreamsLineByLine() throws {
        let directory = TestDirectory()
        defer { directory.remove() }
        directory.write("talk.sh", "printf 'one\\ntwo\\npartial'; printf 'oops\\n' >&2; sleep 0.2\n")
        let path = SpindledTests.config(
            directory,
            programs: """
                [program:talk]
                command=/bin/sh \(directory.path)/talk.sh
                startsecs=0
                autorestart=false
                stdout_logfile=\(directory.path)/talk.out
                stdout_forward=true
                stderr_forward=true

                [program:quiet]
                command=/bin/sh -c "echo not forwarded; sleep 0.2"
                startsecs=0
                autorestart=false

                """)
        let daemon = try Popen([Binaries.spindled, "-n", "-s", "-c", path], stdin: .devnull, stdout: .pipe, stderr: .pipe)
        let client = SupervisorClient(serverURL: "unix://\(directory.path)/sd.sock")
        let exited = waitUntil(timeout: 20) {
            ["talk", "quiet"].allSatisfy { (try? client.call("supervisor.getProcessInfo", [.string($0)]))?["statename"]?.stringValue == "EXITED" }
        }
        #expect(exited)
        daemon.terminate()
        let (out, err) = try daemon.communicate(timeout: 30)
        let stdout = String(decoding: out ?? [], as: UTF8.self)
        let stderr = String(decoding: err ?? [], as: UTF8.self)
        #expect(stdout == "talk | one\ntalk | two\ntalk | partial\n", "\(stdout)")
        #expect(stderr.contains("talk | oops\n"), "\(stderr)")
        #expect(!stdout.contains("not forwarded") && !stderr.contains("not forwarded"))
        #expect(directory.read("talk.out") == "one\ntwo\npartial")
    }

    @Test func daemonizesWritesItsPidFileAndShutsDownCleanly() throws {
        let directory = TestDirectory()
        defer { directory.remove() }
        let path = SpindledTests.config(directory, programs: SpindledTests.program("alpha", priority: 1, in: directory))
        let start = runCommand([Binaries.spindled, "-c", path], timeout: 20)
        #expect(start.status == 0, "\(start)")
        let client = SupervisorClient(serverURL: "unix://" + directory.file("sd.sock"))
        #expect(waitUntil(timeout: 20) { (try? client.call("supervisor.getState")) != nil }, "\(directory.read("supervisord.log"))")
        let pid = Int32(directory.read("supervisord.pid").trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0
        #expect(pid > 0 && processAlive(pid))
        #expect(try client.call("supervisor.getPID") == .int(Int(pid)))
        var info = stat()
        #expect(stat(directory.file("sd.sock"), &info) == 0 && info.st_mode & 0o777 == 0o770)
        #expect(waitUntil { (try? client.call("supervisor.getProcessInfo", [.string("alpha")]))?["statename"] == .string("RUNNING") })
        let log = directory.read("supervisord.log")
        #expect(log.contains("INFO daemonizing the supervisord process") && log.contains("supervisord started with pid \(pid)"), "\(log)")

        let maintail = runCommand([Binaries.spindlectl, "-c", path, "maintail"])
        #expect(maintail.status == 0 && maintail.stdout.contains("spawned: 'alpha'"), "\(maintail)")
        let shutdown = runCommand([Binaries.spindlectl, "-c", path, "shutdown"])
        #expect(shutdown.stdout == "Shut down\n", "\(shutdown)")
        #expect(waitUntil(timeout: 20) { !processAlive(pid) }, "the daemon must exit")
        #expect(waitUntil(timeout: 10) { ProcessSweeper.pids(mentioning: directory.path).isEmpty }, "no child may be left")
        #expect(!directory.exists("supervisord.pid") && !directory.exists("sd.sock"))
        if processAlive(pid) { kill(pid, SIGKILL) }
    }

    @Test func signalsReopenReloadAndStopInReversePriority() throws {
        let directory = TestDirectory()
        defer { directory.remove() }
        let programs = SpindledTests.program("first", priority: 1, in: directory) + SpindledTests.program("second", priority: 2, in: directory)
            + SpindledTests.program("third", priority: 3, in: directory)
        let path = SpindledTests.config(directory, programs: programs)
        let daemon = try DaemonProcess([Binaries.spindled], config: path, directory: directory, socket: directory.file("sd.sock"))
        defer { daemon.stop() }
        #expect(daemon.waitUntilServing(), "\(directory.read("daemon.out"))")
        #expect(daemon.waitFor(["first": .running, "second": .running, "third": .running]))
        // Foreground: the log goes to standard output too.
        #expect(waitUntil { directory.read("daemon.out").contains("spawned: 'third'") })

        // SIGUSR2: logs are opened again (after a rotator moved them away).
        rename(directory.file("supervisord.log"), directory.file("supervisord.log.old"))
        rename(directory.file("first.out"), directory.file("first.out.old"))
        daemon.popen.sendSignal(SIGUSR2)
        // As supervisord, the request is logged to the old file, then the files are opened anew.
        #expect(waitUntil { directory.read("supervisord.log.old").contains("received SIGUSR2 indicating log reopen request") })
        #expect(waitUntil { directory.exists("supervisord.log") && directory.exists("first.out") })

        // SIGHUP: everything stops and starts again with the configuration read anew.
        let before = (try? daemon.client.call("supervisor.getProcessInfo", [.string("first")]))?["pid"]
        directory.write("supervisord.conf", directory.read("supervisord.conf") + SpindledTests.program("fourth", priority: 4, in: directory))
        daemon.popen.sendSignal(SIGHUP)
        #expect(waitUntil { directory.read("supervisord.log").contains("received SIGHUP indicating restart request") })
        #expect(daemon.waitFor(["first": .running, "fourth": .running], timeout: 30), "\(directory.read("supervisord.log"))")
        #expect((try? daemon.client.call("supervisor.getProcessInfo", [.string("first")]))?["pid"] != before)

        // SIGTERM: stopped in reverse priority, then the daemon exits 0.
        daemon.popen.sendSignal(SIGTERM)
        let status = try? daemon.popen.wait(timeout: 30)
        #expect(status == 0)
        let log = directory.read("supervisord.log")
        #expect(log.contains("received SIGTERM indicating exit request"))
        let stops = log.split(separator: "\n").filter { $0.contains("stopped: ") }.suffix(4).map { line in
            String(line[line.range(of: "stopped: ")!.upperBound...].prefix(while: { $0 != " " }))
        }
        #expect(stops == ["fourth", "third", "second", "first"], "\(log)")
        #expect(waitUntil(timeout: 10) { ProcessSweeper.pids(mentioning: directory.path).isEmpty })
        #expect(!directory.exists("sd.sock") && !directory.exists("supervisord.pid"))
    }

    @Test func aSecondDaemonOnTheSameSocketIsRefused() throws {
        let directory = TestDirectory()
        defer { directory.remove() }
        let path = SpindledTests.config(directory, programs: SpindledTests.program("only", priority: 1, in: directory))
        let daemon = try DaemonProcess([Binaries.spindled], config: path, directory: directory, socket: directory.file("sd.sock"))
        defer { daemon.stop() }
        #expect(daemon.waitUntilServing())
        let second = runCommand([Binaries.spindled, "-n", "-c", path], timeout: 20)
        #expect(second.status == 2)
        #expect(second.stderr.contains("Another program is already listening on a port that one of our HTTP servers is configured to use"), "\(second)")
        #expect(try daemon.client.call("supervisor.getState")["statename"] == .string("RUNNING"))
    }
}
