import Foundation
import Glibc
import SpindleSupervisor
import SpindleSystem
import SpindleTestSupport
import Testing

@testable import SpindleSupervisorServer

/// One raw HTTP exchange with a server.
func httpExchange(_ target: HTTPClientConnection.Target, _ request: String) throws -> (status: Int, head: HTTPClientConnection.ResponseHead, body: String) {
    var connection = try HTTPClientConnection(target)
    defer { connection.close() }
    let bytes = Array(request.utf8)
    _ = bytes.withUnsafeBytes { send(connection.descriptor, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
    let head = try connection.readHead()
    let body = try connection.readBody(head)
    return (head.status, head, String(decoding: body, as: UTF8.self))
}

/// `GET path` with a `Host` header (and more headers).
func getRequest(_ path: String, host: String = "x", headers: [String] = []) -> String {
    "GET \(path) HTTP/1.1\r\nHost: \(host)\r\n" + headers.map { $0 + "\r\n" }.joined() + "Connection: close\r\n\r\n"
}

/// The samples of a Prometheus text exposition, checked line by line: every line is a `# HELP`
/// or `# TYPE` comment or `name{labels} value`; the key is `name{labels}` as written.
func parseExposition(_ text: String) -> (samples: [String: Double], types: [String: String], bad: [String]) {
    var samples: [String: Double] = [:]
    var types: [String: String] = [:]
    var bad: [String] = []
    for line in text.split(separator: "\n").map(String.init) {
        if line.hasPrefix("# HELP ") { continue }
        if line.hasPrefix("# TYPE ") {
            let parts = line.split(separator: " ")
            if parts.count == 4 { types[String(parts[2])] = String(parts[3]) } else { bad.append(line) }
            continue
        }
        guard let space = line.lastIndex(of: " "), let value = Double(line[line.index(after: space)...]) else {
            bad.append(line)
            continue
        }
        let key = String(line[..<space])
        let name = key.prefix { $0 != "{" }
        if name.isEmpty || !name.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" || $0 == ":" }) { bad.append(line) }
        samples[key] = value
    }
    return (samples, types, bad)
}

/// The JSON object of a body.
func jsonObject(_ text: String) -> [String: Any] {
    (try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [String: Any] ?? [:]
}

/// The root of the package (this file is Tests/SpindleSupervisorServerTests/WebConsoleTests.swift).
let packageRoot: String = {
    var url = URL(fileURLWithPath: #filePath)
    for _ in 0..<3 { url.deleteLastPathComponent() }
    return url.path
}()

@Suite("Web console and /metrics", .serialized, .timeLimit(.minutes(3)))
struct WebConsoleTests {
    static let programs = """
        [program:ticker]
        command = /bin/sh -c "echo '<b>&amp; ticks'; while :; do echo tick; sleep 0.2; done"
        startsecs = 0

        [program:sleeper]
        command = /bin/sleep 1000
        startsecs = 0
        """

    static func waitForState(_ h: ServerHarness, _ name: String, _ state: ProcessState) -> Bool {
        waitUntil(timeout: 20) { (try? h.supervisor.processInfo(name: name).state) == state }
    }

    @Test func statusPageAndJSONAtSupervisordsPaths() throws {
        let h = try ServerHarness(programs: WebConsoleTests.programs)
        defer { h.close() }
        #expect(WebConsoleTests.waitForState(h, "ticker", .running) && WebConsoleTests.waitForState(h, "sleeper", .running))
        for path in ["/", "/index.html", "//index.html"] {
            let page = try h.raw(getRequest(path))
            #expect(page.status == 200, "\(path)")
            #expect(page.head.header("content-type") == "text/html;charset=utf-8")
            #expect(page.head.header("cache-control") == "no-cache")
            #expect(page.body.contains("<tr data-name=\"ticker\""), "\(path): \(page.body.prefix(300))")
            #expect(page.body.contains("<span class=\"statusrunning\">running</span>"))
            #expect(page.body.contains("href=\"index.html?processname=sleeper&amp;action=stop\" name=\"Stop\" data-action=\"stop\""))
            #expect(page.body.contains("href=\"tail.html?processname=ticker\""))
            #expect(page.body.contains("href=\"logtail/ticker/stderr\" name=\"Tail -f Stderr\" target=\"_blank\""))
            #expect(!page.body.contains("src=\"http") && !page.body.contains("href=\"http"), "no asset may come from elsewhere")
        }
        let message = try h.raw(getRequest("/?message=Hello%20%3Cthere%3E"))
        #expect(message.body.contains("<div id=\"statusmessage\" class=\"status_msg\">Hello &lt;there&gt;</div>"))

        let status = try h.raw(getRequest("/status.json"))
        #expect(status.status == 200 && status.head.header("content-type") == "application/json")
        let json = jsonObject(status.body)
        let columns = (json["columns"] as? [[String: Any]] ?? []).compactMap { $0["id"] as? String }
        #expect(columns == ["state", "desc", "name", "pid"], "\(status.body.prefix(400))")
        let processes = json["processes"] as? [[String: Any]] ?? []
        #expect(processes.compactMap { $0["namespec"] as? String } == ["sleeper", "ticker"])
        let sleeper = processes.first { $0["name"] as? String == "sleeper" } ?? [:]
        let info = try h.supervisor.processInfo(name: "sleeper")
        #expect(sleeper["statename"] as? String == "RUNNING" && sleeper["pid"] as? Int == Int(info.pid))
        let cells = sleeper["cells"] as? [String: [String: String]] ?? [:]
        #expect(cells["state"] == ["text": "running", "class": "statusrunning", "link": ""])
        #expect(cells["pid"]?["text"] == String(info.pid))
        #expect(cells["name"]?["link"] == "tail.html?processname=sleeper")
        let actions = (sleeper["actions"] as? [Any] ?? []).map { ($0 as? [String: String])?["name"] ?? "-" }
        #expect(actions == ["Restart", "Stop", "Clear Log", "Tail -f Stdout", "Tail -f Stderr"])
        #expect((json["supervisor"] as? [String: Any])?["statename"] as? String == "RUNNING")

        let ok = try h.raw(getRequest("/ok.html"))
        #expect(ok.status == 200 && ok.body == "OK")
        #expect(try h.raw(getRequest("/nowhere")).status == 404)
        #expect(try h.raw(getRequest("/index.htm")).status == 404)
    }

    @Test func actionsActAndRedirectAsSupervisordDoes() throws {
        let h = try ServerHarness(programs: WebConsoleTests.programs)
        defer { h.close() }
        #expect(WebConsoleTests.waitForState(h, "sleeper", .running))
        let stop = try h.raw(getRequest("/index.html?processname=sleeper&action=stop", host: "example:9001"))
        #expect(stop.status == 301)
        #expect(stop.head.header("location") == "http://example:9001/?message=Process%20sleeper%20stopped")
        #expect(try h.supervisor.processInfo(name: "sleeper").state == .stopped)

        let start = try h.raw(getRequest("/index.html?processname=sleeper&action=start", headers: ["Accept: application/json"]))
        #expect(start.status == 200)
        let started = jsonObject(start.body)
        #expect(started["message"] as? String == "Process sleeper started")
        let row = (started["processes"] as? [[String: Any]] ?? []).first { $0["name"] as? String == "sleeper" }
        #expect(row?["statename"] as? String == "RUNNING", "the reply carries the new status")
        #expect(try h.supervisor.processInfo(name: "sleeper").state == .running)

        let again = try h.raw(getRequest("/index.html?processname=sleeper&action=start"))
        #expect(again.head.header("location") == "http://x/?message=ERROR%3A%20Process%20sleeper%3A%20already%20started")
        let pid = try h.supervisor.processInfo(name: "sleeper").pid
        let restart = try h.raw(getRequest("/index.html?processname=sleeper&action=restart"))
        #expect(restart.head.header("location") == "http://x/?message=Process%20sleeper%20restarted")
        let after = try h.supervisor.processInfo(name: "sleeper")
        #expect(after.state == .running && after.pid != pid)
        let clear = try h.raw(getRequest("/index.html?processname=ticker&action=clearlog"))
        #expect(clear.head.header("location") == "http://x/?message=Log%20for%20ticker%20cleared")
        let bad = try h.raw(getRequest("/index.html?processname=nosuch&action=stop"))
        #expect(bad.head.header("location") == "http://x/?message=No%20such%20process%20named%20nosuch")
        let refresh = try h.raw(getRequest("/index.html?action=refresh"))
        #expect(refresh.head.header("location")?.hasPrefix("http://x/?message=Page%20refreshed%20at%20") == true)
        #expect(try h.raw(getRequest("/index.html?processname=sleeper&action=bogus")).status == 500)
        #expect(try h.raw(getRequest("/index.html?action=bogus")).status == 500)

        let form = "processname=sleeper&action=stop"
        let posted = try h.raw("POST /index.html HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: \(form.utf8.count)\r\nConnection: close\r\n\r\n\(form)")
        #expect(posted.status == 301 && posted.head.header("location") == "http://x/?message=Process%20sleeper%20stopped")
        #expect(try h.supervisor.processInfo(name: "sleeper").state == .stopped)
        let stopAll = try h.raw(getRequest("/index.html?action=stopall"))
        #expect(stopAll.head.header("location")?.hasPrefix("http://x/?message=All%20stopped%20at%20") == true)
        #expect(h.supervisor.allProcessInfo().allSatisfy { $0.state == .stopped })
    }

    @Test func tailPageShowsTheEndOfTheStandardOutputLog() throws {
        let h = try ServerHarness(programs: WebConsoleTests.programs)
        defer { h.close() }
        #expect(waitUntil(timeout: 20) { ((try? h.supervisor.readLog(name: "ticker", offset: 0, length: 0)) ?? "").contains("tick\n") })
        let tail = try h.raw(getRequest("/tail.html?processname=ticker"))
        #expect(tail.status == 200)
        #expect(tail.body.contains("<title>Supervisor tail of process ticker</title>"))
        #expect(tail.body.contains("<pre id=\"tailbody\">&lt;b&gt;&amp;amp; ticks\ntick\n"), "\(tail.body.prefix(400))")
        #expect(tail.body.contains("href=\"tail.html?processname=ticker&amp;limit=1024\""))
        let more = try h.raw(getRequest("/tail.html?processname=ticker&limit=4096"))
        #expect(more.body.contains("limit=4096"))
        #expect(try h.raw(getRequest("/tail.html")).body.contains("<pre id=\"tailbody\">No process name found</pre>"))
        #expect(try h.raw(getRequest("/tail.html?processname=nosuch")).body.contains("ERROR: unexpected rpc fault [10] BAD_NAME: nosuch"))
    }

    @Test func authenticationGuardsTheConsoleAndMetrics() throws {
        let h = try ServerHarness(auth: "username = user\npassword = secret", programs: WebConsoleTests.programs)
        defer { h.close() }
        for path in ["/", "/index.html?processname=sleeper&action=stop", "/tail.html?processname=ticker", "/status.json", "/metrics", "/ok.html"] {
            let refused = try h.raw(getRequest(path))
            #expect(refused.status == 401, "\(path)")
            #expect(refused.head.header("www-authenticate") == "Basic realm=\"default\"")
            let wrong = try h.raw(getRequest(path, headers: ["Authorization: Basic " + Base64.encode(Array("user:nope".utf8))]))
            #expect(wrong.status == 401, "\(path)")
        }
        #expect(WebConsoleTests.waitForState(h, "sleeper", .running), "no refused action may have run")
        let right = ["Authorization: Basic " + Base64.encode(Array("user:secret".utf8))]
        #expect(try h.raw(getRequest("/", headers: right)).status == 200)
        #expect(try h.raw(getRequest("/status.json", headers: right)).status == 200)
        #expect(try h.raw(getRequest("/metrics", headers: right)).status == 200)
        #expect(try httpExchange(.tcp(host: "127.0.0.1", port: h.port), getRequest("/metrics", headers: right)).status == 200)
    }

    @Test func metricsInTheTextExpositionFormat() throws {
        let h = try ServerHarness(programs: WebConsoleTests.programs)
        defer { h.close() }
        #expect(WebConsoleTests.waitForState(h, "ticker", .running) && WebConsoleTests.waitForState(h, "sleeper", .running))
        let scrape = { () throws -> (samples: [String: Double], types: [String: String], bad: [String], reply: (status: Int, head: HTTPClientConnection.ResponseHead, body: String)) in
            let reply = try httpExchange(.tcp(host: "127.0.0.1", port: h.port), getRequest("/metrics"))
            let parsed = parseExposition(reply.body)
            return (parsed.samples, parsed.types, parsed.bad, reply)
        }
        let first = try scrape()
        #expect(first.reply.status == 200)
        #expect(first.reply.head.header("content-type") == "text/plain; version=0.0.4; charset=utf-8")
        #expect(first.bad.isEmpty, "lines not in the exposition format: \(first.bad)")
        #expect(first.types["spindled_process_state"] == "gauge" && first.types["spindled_process_restarts_total"] == "counter")
        for name in ["ticker", "sleeper"] {
            let labels = "group=\"\(name)\",name=\"\(name)\""
            for state in ProcessState.allCases {
                #expect(first.samples["spindled_process_state{\(labels),state=\"\(state.name)\"}"] == (state == .running ? 1 : 0), "\(name) \(state)")
            }
            #expect(first.samples["spindled_process_restarts_total{\(labels)}"] == 0)
            let pid = try h.supervisor.processInfo(name: name).pid
            #expect(first.samples["spindled_process_pid{\(labels)}"] == Double(pid))
            #expect((first.samples["spindled_process_uptime_seconds{\(labels)}"] ?? -1) >= 0)
        }
        #expect(first.samples["spindled_processes{state=\"RUNNING\"}"] == 2 && first.samples["spindled_processes{state=\"FATAL\"}"] == 0)
        #expect(first.samples["spindled_up"] == 1 && first.samples["spindled_state_code"] == 1)
        #expect(first.samples["spindled_info{version=\"4.3.0\",identification=\"supervisor\"}"] == 1)
        let now = Date().timeIntervalSince1970
        let started = first.samples["spindled_start_time_seconds"] ?? 0
        let uptime = first.samples["spindled_uptime_seconds"] ?? -1
        #expect(started > 1_000_000_000 && started <= now + 1, "\(started)")
        #expect(uptime >= 0 && abs(started + uptime - now) < 5, "start \(started) + uptime \(uptime) is about now \(now)")

        try h.supervisor.stop(name: "sleeper")
        try h.supervisor.start(name: "sleeper")
        try h.supervisor.stop(name: "sleeper")
        try h.supervisor.start(name: "sleeper")
        let second = try scrape()
        #expect(second.samples["spindled_process_restarts_total{group=\"sleeper\",name=\"sleeper\"}"] == 2)
        #expect(second.samples["spindled_process_restarts_total{group=\"ticker\",name=\"ticker\"}"] == 0)
        try h.supervisor.stop(name: "sleeper")
        let third = try scrape()
        #expect(third.samples["spindled_process_state{group=\"sleeper\",name=\"sleeper\",state=\"STOPPED\"}"] == 1)
        #expect(third.samples["spindled_process_state{group=\"sleeper\",name=\"sleeper\",state=\"RUNNING\"}"] == 0)
        #expect(third.samples["spindled_process_pid{group=\"sleeper\",name=\"sleeper\"}"] == 0)
        #expect(third.samples["spindled_process_uptime_seconds{group=\"sleeper\",name=\"sleeper\"}"] == 0)
        #expect(third.samples["spindled_processes{state=\"STOPPED\"}"] == 1)

        try h.supervisor.removeProcessGroup(name: "sleeper")
        let fourth = try scrape()
        #expect(!fourth.reply.body.contains("group=\"sleeper\""), "a removed process loses its series")
        try h.supervisor.addProcessGroup(name: "sleeper")
        #expect(WebConsoleTests.waitForState(h, "sleeper", .running))
        let fifth = try scrape()
        #expect(fifth.samples["spindled_process_restarts_total{group=\"sleeper\",name=\"sleeper\"}"] == 0, "counted again from its first start")
        #expect(try h.raw("POST /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nConnection: close\r\n\r\n").status == 405)
    }

    /// A column added to the list shows in the page and in `/status.json` (which the page's
    /// script redraws from), with no change anywhere else: how a health column gets added.
    @Test func anAddedColumnReachesThePageAndTheJSON() throws {
        let h = try ServerHarness(programs: WebConsoleTests.programs)
        defer { h.close() }
        #expect(WebConsoleTests.waitForState(h, "sleeper", .running))
        let extra = WebConsoleColumn(id: "exit", title: "Exit status") { info, supervisor in
            WebConsoleCell(text: "\(info.exitstatus) of \(supervisor.allProcessInfo().count)", cssClass: "statusnominal")
        }
        let console = WebConsole(interface: h.server.interface, columns: WebConsoleColumn.standard + [extra])
        let page = console.statusPage(message: nil)
        #expect(page.contains("<th class=\"pid\">Pid</th><th class=\"exit\">Exit status</th><th class=\"action\">Action</th>"))
        #expect(page.contains("<td class=\"exit\"><span class=\"statusnominal\">0 of 2</span></td><td class=\"action\">"))
        let json = jsonObject(console.statusJSON(message: "hi"))
        #expect((json["columns"] as? [[String: String]])?.last == ["id": "exit", "title": "Exit status"])
        let first = (json["processes"] as? [[String: Any]])?.first?["cells"] as? [String: [String: String]]
        #expect(first?["exit"] == ["text": "0 of 2", "class": "statusnominal", "link": ""])
        #expect(json["message"] as? String == "hi")
    }

    @Test func healthShowsInTheConsoleAndTheMetricsOnlyWhenAProgramHasACheck() throws {
        // Without a check: supervisord's columns, no health series.
        do {
            let h = try ServerHarness(programs: WebConsoleTests.programs)
            defer { h.close() }
            #expect(WebConsoleTests.waitForState(h, "sleeper", .running))
            #expect(!(try h.raw(getRequest("/")).body.contains("<th class=\"health\">")))
            let columns = jsonObject(try h.raw(getRequest("/status.json")).body)["columns"] as? [[String: String]]
            #expect(columns?.map { $0["id"] ?? "" } == ["state", "desc", "name", "pid"])
            #expect(!(try h.raw(getRequest("/metrics")).body.contains("spindled_process_health")))
        }
        let programs = WebConsoleTests.programs + """

            [program:checked]
            command = /bin/sleep 1000
            startsecs = 0
            healthcheck_command = /bin/true
            healthcheck_interval = 1
            """
        let h = try ServerHarness(programs: programs)
        defer { h.close() }
        #expect(waitUntil(timeout: 20) { (try? h.supervisor.health(of: "checked").status) == .healthy })
        let page = try h.raw(getRequest("/")).body
        #expect(page.contains("<th class=\"pid\">Pid</th><th class=\"health\">Health</th>"))
        #expect(page.contains("<td class=\"health\"><span class=\"statusrunning\">healthy</span></td>"))
        let json = jsonObject(try h.raw(getRequest("/status.json")).body)
        let rows = json["processes"] as? [[String: Any]] ?? []
        let cell = { (name: String) in
            (rows.first { $0["name"] as? String == name }?["cells"] as? [String: [String: String]])?["health"]?["text"]
        }
        #expect(cell("checked") == "healthy")
        #expect(cell("sleeper") == "", "a process without a check has an empty health cell")
        let metrics = parseExposition(try h.raw(getRequest("/metrics")).body)
        #expect(metrics.bad.isEmpty)
        let labels = "group=\"checked\",name=\"checked\""
        #expect(metrics.samples["spindled_process_health{\(labels),health=\"healthy\"}"] == 1)
        #expect(metrics.samples["spindled_process_health{\(labels),health=\"unhealthy\"}"] == 0)
        #expect(!metrics.samples.keys.contains { $0.hasPrefix("spindled_process_health{group=\"sleeper\"") })
    }

    @Test func formFieldsAreDecodedAsPythonDecodesThem() {
        let form = WebForm(uri: "/index.html?processname=web%3A0&action=stop&action=start&message=a+b%21", body: Array("action=clearlog".utf8))
        #expect(form["processname"] == "web:0")
        #expect(form["action"] == "clearlog", "a body field replaces the query's")
        #expect(form["message"] == "a b!")
        #expect(WebForm(uri: "/?action=stop&action=start")["action"] == "stop", "the first of repeated query fields wins")
        #expect(WebForm.path(of: "/tail.html?processname=x") == "/tail.html")
        #expect(WebForm.quote("Process web:0 stopped/ok~") == "Process%20web%3A0%20stopped/ok~")
        #expect(WebConsole.page(for: "/") == "index.html" && WebConsole.page(for: "///tail.html") == "tail.html")
        #expect(WebConsole.page(for: "/stylesheets/x.css") == nil)
        #expect(WebText.json("a\"<\n\u{1}") == "\"a\\\"\\u003c\\n\\u0001\"")
    }
}
