import SpindleSupervisor

/// One column of the web console's process table: its title and how a process's cell is made.
///
/// The page and its live updates are both drawn from `WebConsoleColumn.standard`, in order: the
/// server renders the cells into the first page, and `/status.json` sends the same cells for the
/// page's script to redraw the table (which knows nothing about any column). A new column, such
/// as a health column, is one more entry in that list; the Action column always comes last.
/// A column shows only what the supervisor reports: a cell it has nothing for is empty.
struct WebConsoleColumn: Sendable {
    /// The column's key in `/status.json` and its CSS class.
    let id: String
    /// The heading.
    let title: String
    /// Makes a process's cell from its information (and the supervisor, for what the
    /// information does not carry).
    let cell: @Sendable (SupervisedProcessInfo, Supervisor) -> WebConsoleCell
    /// Whether the column is shown for a supervisor now (always, when `nil`).
    var shown: (@Sendable (Supervisor) -> Bool)? = nil

    /// supervisord's columns (State, Description, Name) and the process id.
    static let standard: [WebConsoleColumn] = [
        WebConsoleColumn(id: "state", title: "State") { info, _ in
            WebConsoleCell(text: info.statename.lowercased(), cssClass: WebConsoleColumn.cssClass(for: info.state))
        },
        WebConsoleColumn(id: "desc", title: "Description") { info, _ in WebConsoleCell(text: info.description) },
        WebConsoleColumn(id: "name", title: "Name") { info, _ in
            let name = Supervisor.makeName(group: info.group, process: info.name)
            return WebConsoleCell(text: name, link: "tail.html?processname=" + WebForm.quote(name))
        },
        WebConsoleColumn(id: "pid", title: "Pid") { info, _ in WebConsoleCell(text: info.pid > 0 ? String(info.pid) : "") },
        health,
    ]

    /// spindled's health column, shown only while some program has a health check (so the
    /// page of a plain supervisord.conf has supervisord's columns): `starting`, `healthy`,
    /// `unhealthy` or `inactive`, with the failures in a row; empty for a process without one.
    static let health = WebConsoleColumn(
        id: "health", title: "Health",
        cell: { info, supervisor in
            guard let report = try? supervisor.health(of: Supervisor.makeName(group: info.group, process: info.name)),
                report.status != .none
            else { return WebConsoleCell(text: "") }
            let failures = report.failures > 0 && report.status != .unhealthy ? " (\(report.failures) failed)" : ""
            let cssClass: String =
                switch report.status {
                case .healthy: "statusrunning"
                case .unhealthy: "statuserror"
                default: "statusnominal"
                }
            return WebConsoleCell(text: report.status.rawValue + failures, cssClass: cssClass)
        },
        shown: { $0.hasHealthChecks })

    /// supervisord's class for a state's text: `statusrunning`, `statuserror` (FATAL and
    /// BACKOFF) or `statusnominal`.
    /// - Parameter state: The state.
    /// - Returns: The class.
    static func cssClass(for state: ProcessState) -> String {
        switch state {
        case .running: "statusrunning"
        case .fatal, .backoff: "statuserror"
        default: "statusnominal"
        }
    }
}
