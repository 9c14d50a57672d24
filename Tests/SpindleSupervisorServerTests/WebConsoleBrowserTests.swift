import Foundation
import Glibc
import SpindleSupervisor
import SpindleSystem
import SpindleTestSupport
import Testing

@testable import SpindleSupervisorServer

/// The web console as a person uses it: spindled started for real, its console opened in a
/// real headless Chromium (scripts/test installs Debian's chromium; without it the test fails,
/// saying so), and its pages side by side with the real supervisord's.
@Suite("Web console in a browser", .serialized, .timeLimit(.minutes(4)))
struct WebConsoleBrowserTests {
    static func config(_ directory: TestDirectory, daemon: String, port: Int, auth: Bool) -> String {
        let dir = directory.path
        return directory.write(
            "\(daemon).conf",
            """
            [unix_http_server]
            file=\(dir)/\(daemon).sock

            [inet_http_server]
            port=127.0.0.1:\(port)
            \(auth ? "username=admin\npassword=s3cret" : "")

            [supervisord]
            logfile=\(dir)/\(daemon).log
            pidfile=\(dir)/\(daemon).pid
            childlogdir=\(dir)/\(daemon)-logs

            [rpcinterface:supervisor]
            supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface

            [program:sleeper]
            command=/bin/sleep 1000
            startsecs=0

            [program:ticker]
            command=/bin/sh -c "while :; do echo tick; sleep 0.5; done"
            startsecs=0

            """)
    }

    static func start(_ command: [String], daemon: String, directory: TestDirectory, port: Int, auth: Bool) throws -> DaemonProcess {
        mkdir(directory.file("\(daemon)-logs"), 0o755)
        let path = config(directory, daemon: daemon, port: port, auth: auth)
        return try DaemonProcess(command, config: path, directory: directory, socket: directory.file("\(daemon).sock"))
    }

    @Test func clickingStopInHeadlessChromiumStopsTheProgramLive() throws {
        let directory = TestDirectory("spindle-web")
        defer { directory.remove() }
        let port = freePort()
        let daemon = try WebConsoleBrowserTests.start([Binaries.spindled], daemon: "spindled", directory: directory, port: port, auth: true)
        defer { daemon.stop() }
        try #require(daemon.waitUntilServing(), "spindled did not serve: \(directory.read("daemon.out"))")
        try #require(daemon.waitFor(["sleeper": .running, "ticker": .running]))

        let screenshot = packageRoot + "/.build/web-console-test.png"
        unlink(screenshot)
        let script = packageRoot + "/Tests/Fixtures/browser/console_click.py"
        let run = runCommand(
            ["python3", script, "--url", "http://127.0.0.1:\(port)/", "--program", "sleeper", "--screenshot", screenshot,
             "--username", "admin", "--password", "s3cret", "--timeout", "60"],
            timeout: 180)
        #expect(run.status != 3, "Chromium is missing: scripts/test installs it (apt-get install -y chromium). \(run)")
        #expect(run.status == 0, "the browser run failed: \(run)")
        let report = jsonObject(run.stdout.split(separator: "\n").last.map(String.init) ?? "")
        #expect(report["title"] as? String == "Supervisor Status", "\(run)")
        #expect(report["before"] as? String == "running", "\(run)")
        #expect(report["clicked"] as? String == "Stop", "\(run)")
        #expect(report["after"] as? String == "stopped", "\(run)")
        #expect(report["reloaded"] as? Bool == false, "the state must change without a reload: \(run)")
        #expect(report["message"] as? String == "Process sleeper stopped", "\(run)")
        #expect(report["rows"] as? [String] == ["sleeper=stopped", "ticker=running"], "\(run)")

        // The page told the truth: XML-RPC says the same.
        let infos = try daemon.client.call("supervisor.getAllProcessInfo").arrayValue ?? []
        let states = Dictionary(uniqueKeysWithValues: infos.map { ($0["name"]?.stringValue ?? "", $0["statename"]?.stringValue ?? "") })
        #expect(states == ["sleeper": "STOPPED", "ticker": "RUNNING"])

        let png = FileManager.default.contents(atPath: screenshot) ?? Data()
        #expect(png.count > 1000, "screenshot at \(screenshot): \(png.count) bytes")
        #expect(Array(png.prefix(8)) == [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A], "a PNG file")

        // Without the password the browser's requests are refused, as /RPC2 refuses them.
        let refused = try httpExchange(.tcp(host: "127.0.0.1", port: port), getRequest("/status.json"))
        #expect(refused.status == 401)
    }

    /// What the real supervisord answers at its page paths, spindled answers (ports aside).
    @Test(.enabled(if: ReferenceSupervisor.available, Comment(rawValue: ReferenceSupervisor.installation.why)))
    func pagePathsAnswerAsTheRealSupervisordDoes() throws {
        let directory = TestDirectory("spindle-web")
        defer { directory.remove() }
        var answers: [String: [String]] = [:]
        let requests = [
            "/index.html?processname=sleeper&action=stop", "/index.html?processname=sleeper&action=start",
            "/index.html?processname=sleeper&action=start", "/index.html?processname=nosuch&action=stop",
            "/index.html?processname=ticker&action=clearlog", "/index.html?processname=sleeper&action=restart",
            "/index.html?action=bogus", "/ok.html", "/tail.html", "/tail.html?processname=nosuch", "/nowhere.html",
        ]
        for (name, command) in [("supervisord", ReferenceSupervisor.supervisord), ("spindled", [Binaries.spindled])] {
            let port = freePort()
            let daemon = try WebConsoleBrowserTests.start(command, daemon: name, directory: directory, port: port, auth: false)
            defer { daemon.stop() }
            try #require(daemon.waitUntilServing(), "\(name) did not serve: \(directory.read("daemon.out"))")
            try #require(daemon.waitFor(["sleeper": .running, "ticker": .running]))
            var lines: [String] = []
            for path in requests {
                let reply = try httpExchange(.tcp(host: "127.0.0.1", port: port), getRequest(path, host: "127.0.0.1:\(port)"))
                let location = (reply.head.header("location") ?? "").replacingOccurrences(of: ":\(port)/", with: ":PORT/")
                var text = "\(path) -> \(reply.status) \(location)"
                if path.hasPrefix("/ok") { text += " body=\(reply.body)" }
                if path.hasPrefix("/tail"), let pre = reply.body.range(of: "<pre"), let end = reply.body.range(of: "</pre>") {
                    let inner = reply.body[pre.upperBound..<end.lowerBound]
                    text += " pre=" + String(inner.drop { $0 != ">" }.dropFirst())
                }
                lines.append(text)
            }
            answers[name] = lines
        }
        let reference = answers["supervisord"] ?? []
        let ours = answers["spindled"] ?? []
        #expect(reference.count == requests.count)
        for (theirs, mine) in zip(reference, ours) { #expect(mine == theirs) }
    }
}
