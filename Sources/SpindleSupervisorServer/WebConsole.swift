#if canImport(Glibc)
import Glibc
#endif
import SpindleSupervisor

/// supervisord's web interface, at its paths: the status page (`/` and `/index.html`, with
/// its action URLs `index.html?processname=NAME&action=start|stop|restart|clearlog` and
/// `action=refresh|stopall|restartall`, which act and then redirect to `/?message=...`), the
/// log page (`/tail.html?processname=NAME[&limit=N]`) and `/ok.html`; and `/status.json`, what
/// the status page's script polls to redraw itself every second without a reload.
///
/// The page is one self-contained document (styles and script inside it, nothing fetched from
/// elsewhere). Without its script it works as supervisord's does: every action is a link. With
/// it, actions run in the background (asked with `Accept: application/json`, answered with the
/// message and the new status instead of a redirect) and the table follows the processes live.
///
/// Requests block (a start waits for `startsecs`): answer them off any event loop.
final class WebConsole: Sendable {
    let interface: SupervisorRPCInterface
    /// The table's columns, before the Action column.
    let columns: [WebConsoleColumn]

    /// Creates the console of an interface.
    /// - Parameters:
    ///   - interface: The XML-RPC interface (its supervisor is shown and driven).
    ///   - columns: The table's columns.
    init(interface: SupervisorRPCInterface, columns: [WebConsoleColumn] = WebConsoleColumn.standard) {
        self.interface = interface
        self.columns = columns
    }

    var supervisor: Supervisor { interface.supervisor }

    /// The page a request path names (supervisor strips every leading slash; nothing left is
    /// the status page), or `nil` when the path is not the console's.
    /// - Parameter path: The decoded path.
    /// - Returns: `index.html`, `tail.html`, `ok.html` or `status.json`.
    static func page(for path: String) -> String? {
        var name = Substring(path)
        while name.hasPrefix("/") { name = name.dropFirst() }
        if name.isEmpty { return "index.html" }
        return ["index.html", "tail.html", "ok.html", "status.json"].contains(String(name)) ? String(name) : nil
    }

    /// Answers a request for one of the console's pages.
    /// - Parameters:
    ///   - page: What `page(for:)` returned.
    ///   - form: The query and form fields.
    ///   - host: The request's `Host` header, for the redirect after an action.
    ///   - wantsJSON: Whether the request asked for JSON (`Accept: application/json`): an action
    ///     then answers with its message and the status instead of a redirect.
    /// - Returns: The reply.
    func respond(page: String, form: WebForm, host: String?, wantsJSON: Bool) -> WebResponse {
        switch page {
        case "ok.html":
            return WebResponse(status: 200, contentType: "text/plain", body: Array("OK".utf8))
        case "tail.html":
            return .page(tailPage(form))
        case "status.json":
            return .json(statusJSON(message: form["message"]))
        default:
            var message = form["message"]
            if let action = form["action"], !action.isEmpty {
                guard let done = perform(action: action, name: form["processname"]) else {
                    mainLogError("Web interface error: unknown action \(action.debugDescription)")
                    return WebResponse(status: 500, contentType: "text/html", body: [])
                }
                if wantsJSON { return .json(statusJSON(message: done)) }
                let location = (host.map { "http://" + $0 } ?? "") + "/?message=" + WebForm.quote(done)
                return WebResponse(status: 301, contentType: "text/html", body: [], headers: [("Location", location)] + WebResponse.page("").headers)
            }
            if message?.isEmpty == true { message = nil }
            return .page(statusPage(message: message))
        }
    }

    // MARK: - Actions

    /// Carries out an action as supervisor's `StatusView.make_callback` does.
    /// - Parameters:
    ///   - action: `refresh`, `stopall`, `restartall`, or `start`, `stop`, `restart`, `clearlog`.
    ///   - name: The process, for the last four.
    /// - Returns: The message shown next, or `nil` for an action supervisor does not know.
    func perform(action: String, name: String?) -> String? {
        switch action {
        case "refresh":
            return "Page refreshed at \(WebConsole.ctime())"
        case "stopall":
            _ = try? supervisor.stopAll(wait: true)
            return "All stopped at \(WebConsole.ctime())"
        case "restartall":
            _ = try? supervisor.stopAll(wait: true)
            _ = try? supervisor.startAll(wait: true)
            return "All restarted at \(WebConsole.ctime())"
        default:
            break
        }
        guard let name, !name.isEmpty, ["start", "stop", "restart", "clearlog"].contains(action) else { return nil }
        guard Supervisor.splitName(name).process != nil, (try? supervisor.processInfo(name: name)) != nil else {
            return "No such process named \(name)"
        }
        switch action {
        case "start":
            do throws(SupervisorFault) {
                try supervisor.start(name: name, wait: true)
                return "Process \(name) started"
            } catch {
                return "ERROR: Process \(name): \(WebConsole.startError(error))"
            }
        case "stop":
            do throws(SupervisorFault) {
                try supervisor.stop(name: name, wait: true)
                return "Process \(name) stopped"
            } catch {
                return "unexpected rpc fault [\(error.code)] \(error.text)"
            }
        case "restart":
            try? supervisor.stop(name: name, wait: true)
            try? supervisor.start(name: name, wait: true)
            return "Process \(name) restarted"
        default:
            do throws(SupervisorFault) {
                try supervisor.clearLog(name: name)
                return "Log for \(name) cleared"
            } catch {
                return "unexpected rpc fault [\(error.code)] \(error.text)"
            }
        }
    }

    /// supervisor's words for a failed start.
    static func startError(_ fault: SupervisorFault) -> String {
        switch fault {
        case .noFile: "no such file"
        case .notExecutable: "file not executable"
        case .alreadyStarted: "already started"
        case .spawnError: "spawn error"
        case .abnormalTermination: "abnormal termination"
        default: "unexpected rpc fault [\(fault.code)] \(fault.text)"
        }
    }

    // MARK: - Status

    /// One process's row: its name, information, cells and action slots.
    struct Row {
        var namespec: String
        var info: SupervisedProcessInfo
        var cells: [WebConsoleCell]
        var actions: [WebConsoleAction?]
    }

    /// The columns shown now (a column may show only for some configurations).
    func visibleColumns() -> [WebConsoleColumn] {
        let supervisor = self.supervisor
        return columns.filter { $0.shown?(supervisor) ?? true }
    }

    /// Every process, by group and then process name.
    /// - Parameter columns: The columns whose cells are made.
    func rows(_ columns: [WebConsoleColumn]) -> [Row] {
        let supervisor = self.supervisor
        return supervisor.allProcessInfo().map { info in
            Row(
                namespec: Supervisor.makeName(group: info.group, process: info.name), info: info,
                cells: columns.map { $0.cell(info, supervisor) }, actions: WebConsoleAction.actions(for: info))
        }
    }

    /// What the status page's script polls: the columns, the processes (their cells and
    /// actions, and the raw fields for other clients) and spindled's own state.
    /// - Parameter message: The message to show, if any.
    /// - Returns: The document.
    func statusJSON(message: String?) -> String {
        let columns = visibleColumns()
        let columnList = columns.map { WebText.object([("id", WebText.json($0.id)), ("title", WebText.json($0.title))]) }
        let processes = rows(columns).map { row -> String in
            let info = row.info
            let cells = zip(columns, row.cells).map { column, cell in
                (column.id, WebText.object([("text", WebText.json(cell.text)), ("class", WebText.json(cell.cssClass)), ("link", WebText.json(cell.link))]))
            }
            let actions = row.actions.map { action -> String in
                guard let action else { return "null" }
                return WebText.object([("name", WebText.json(action.name)), ("href", WebText.json(action.href)), ("action", WebText.json(action.action))])
            }
            return WebText.object([
                ("namespec", WebText.json(row.namespec)), ("name", WebText.json(info.name)), ("group", WebText.json(info.group)),
                ("state", String(info.state.rawValue)), ("statename", WebText.json(info.statename)), ("pid", String(info.pid)),
                ("start", String(info.start)), ("stop", String(info.stop)), ("now", String(info.now)),
                ("uptime", String(info.state == .running ? max(0, info.now - info.start) : 0)),
                ("exitstatus", String(info.exitstatus)), ("spawnerr", WebText.json(info.spawnerr)),
                ("description", WebText.json(info.description)),
                ("cells", WebText.object(cells)), ("actions", WebText.array(actions)),
            ])
        }
        let state = interface.state
        return WebText.object([
            ("supervisor", WebText.object([
                ("statename", WebText.json(state.name)), ("statecode", String(state.rawValue)), ("pid", String(getpid())),
                ("identification", WebText.json(interface.identifier)), ("version", WebText.json(SupervisorRPCInterface.supervisorVersion)),
            ])),
            ("message", message.map(WebText.json) ?? "null"),
            ("columns", WebText.array(columnList)),
            ("processes", WebText.array(processes)),
        ])
    }

    /// The status page, drawn with the table as it is now.
    /// - Parameter message: The message shown above the table, if any.
    /// - Returns: The page.
    func statusPage(message: String?) -> String {
        let columns = visibleColumns()
        let rows = rows(columns)
        var body = ""
        for (index, row) in rows.enumerated() {
            body += "<tr data-name=\"\(WebText.html(row.namespec))\"\(index % 2 == 1 ? " class=\"shade\"" : "")>"
            for (column, cell) in zip(columns, row.cells) {
                body += "<td class=\"\(WebText.html(column.id))\">" + WebConsole.cellHTML(cell) + "</td>"
            }
            body += "<td class=\"action\"><ul>"
            for action in row.actions {
                guard let action else {
                    body += "<li><a class=\"hidden\"></a></li>"
                    continue
                }
                let target = action.action.isEmpty ? " target=\"_blank\"" : " data-action=\"\(WebText.html(action.action))\""
                body += "<li><a href=\"\(WebText.html(action.href))\" name=\"\(WebText.html(action.name))\"\(target)>\(WebText.html(action.name))</a></li>"
            }
            body += "</ul></td></tr>\n"
        }
        let head = columns.map { "<th class=\"\(WebText.html($0.id))\">\(WebText.html($0.title))</th>" }.joined()
        return WebConsolePage.status(
            message: message.map(WebText.html), head: head, rows: body, empty: rows.isEmpty,
            version: WebText.html(SupervisorRPCInterface.supervisorVersion), identification: WebText.html(interface.identifier))
    }

    static func cellHTML(_ cell: WebConsoleCell) -> String {
        let cssClass = cell.cssClass.isEmpty ? "" : " class=\"\(WebText.html(cell.cssClass))\""
        if cell.link.isEmpty { return "<span\(cssClass)>\(WebText.html(cell.text))</span>" }
        return "<a href=\"\(WebText.html(cell.link))\" target=\"_blank\"\(cssClass)>\(WebText.html(cell.text))</a>"
    }

    // MARK: - Tail

    /// supervisor's `TailView`: the last `limit` bytes (at least 1024) of a process's standard output.
    func tailPage(_ form: WebForm) -> String {
        guard let name = form["processname"] else {
            return WebConsolePage.tail(title: "Supervisor tail of process None", text: "No process name found", refresh: nil)
        }
        let asked = form["limit"] ?? "1024"
        let digits = !asked.isEmpty && asked.utf8.allSatisfy { $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }
        let limit = min(-1024, digits ? -(Int(asked) ?? 1024) : -1024)
        let text: String
        if name.isEmpty {
            text = "No process name found"
        } else {
            do throws(SupervisorFault) {
                text = try supervisor.readLog(name: name, channel: .stdout, offset: limit, length: 0)
            } catch {
                if case .noFile = error {
                    text = "No file for \(name)"
                } else {
                    text = "ERROR: unexpected rpc fault [\(error.code)] \(error.text)"
                }
            }
        }
        return WebConsolePage.tail(
            title: WebText.html("Supervisor tail of process \(name)"), text: WebText.html(text),
            refresh: WebText.html("tail.html?processname=\(WebForm.quote(name))&limit=\(-limit)"))
    }

    // MARK: - Helpers

    /// Python's `time.ctime()`: `Wed Dec  2 01:02:03 2026`, in local time.
    static func ctime() -> String {
        var now = time(nil)
        var parts = tm()
        localtime_r(&now, &parts)
        var buffer = [Int8](repeating: 0, count: 64)
        let n = strftime(&buffer, buffer.count, "%a %b %e %H:%M:%S %Y", &parts)
        return String(decoding: buffer[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    func mainLogError(_ text: String) {
        interface.mainLog?.log(.error, text)
    }
}
