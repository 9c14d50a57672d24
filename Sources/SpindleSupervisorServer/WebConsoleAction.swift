import SpindleSupervisor

/// One link of a process's Action cell, as supervisor's `actions_for_process` makes them.
struct WebConsoleAction: Sendable, Hashable {
    /// The label (`Stop`, `Tail -f Stdout`...).
    var name: String
    /// Where it leads, relative to the page.
    var href: String
    /// The action (`start`, `stop`, `restart`, `clearlog`) the page's script runs in the
    /// background, or "" for a link opened in a new window.
    var action: String

    /// The actions of a process in a state; `nil` marks a hidden slot, as on supervisord's page.
    /// - Parameter info: The process.
    /// - Returns: Five slots.
    static func actions(for info: SupervisedProcessInfo) -> [WebConsoleAction?] {
        let name = WebForm.quote(Supervisor.makeName(group: info.group, process: info.name))
        func act(_ label: String, _ action: String) -> WebConsoleAction {
            WebConsoleAction(name: label, href: "index.html?processname=\(name)&action=\(action)", action: action)
        }
        let clear = act("Clear Log", "clearlog")
        let stdout = WebConsoleAction(name: "Tail -f Stdout", href: "logtail/\(name)", action: "")
        let stderr = WebConsoleAction(name: "Tail -f Stderr", href: "logtail/\(name)/stderr", action: "")
        switch info.state {
        case .running: return [act("Restart", "restart"), act("Stop", "stop"), clear, stdout, stderr]
        case .stopped, .exited, .fatal: return [act("Start", "start"), nil, clear, stdout, stderr]
        default: return [nil, nil, clear, stdout, stderr]
        }
    }
}
