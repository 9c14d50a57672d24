import SpindleSupervisor
import NIOPosix
import SpindleSystem

extension SupervisorController {
    // MARK: - help

    /// The help of each command, as supervisorctl prints it.
    static let helpTexts: [String: [String]] = [
        "help": ["help\t\tPrint a list of available actions", "help <action>\tPrint help for <action>"],
        "EOF": ["To quit, type ^D or use the quit command"],
        "tail": [
            "tail [-f] <name> [stdout|stderr] (default stdout)\nEx:\ntail -f <name>\t\tContinuous tail of named process stdout\n"
                + "\t\t\tCtrl-C to exit.\ntail -100 <name>\tlast 100 *bytes* of process stdout\ntail <name> stderr\tlast 1600 *bytes* of process stderr"
        ],
        "maintail": [
            "maintail -f \tContinuous tail of supervisor main log file (Ctrl-C to exit)\nmaintail -100\tlast 100 *bytes* of supervisord main "
                + "log file\nmaintail\tlast 1600 *bytes* of supervisor main log file\n"
        ],
        "quit": ["quit\tExit the supervisor shell."],
        "exit": ["exit\tExit the supervisor shell."],
        "status": [
            "status <name>\t\tGet status for a single process", "status <gname>:*\tGet status for all processes in a group",
            "status <name> <name>\tGet status for multiple named processes", "status\t\t\tGet all process status info",
        ],
        "pid": [
            "pid\t\t\tGet the PID of supervisord.", "pid <name>\t\tGet the PID of a single child process by name.",
            "pid all\t\t\tGet the PID of every child process, one per line.",
        ],
        "start": [
            "start <name>\t\tStart a process", "start <gname>:*\t\tStart all processes in a group",
            "start <name> <name>\tStart multiple processes or groups", "start all\t\tStart all processes",
        ],
        "stop": [
            "stop <name>\t\tStop a process", "stop <gname>:*\t\tStop all processes in a group",
            "stop <name> <name>\tStop multiple processes or groups", "stop all\t\tStop all processes",
        ],
        "signal": [
            "signal <signal name> <name>\t\tSignal a process", "signal <signal name> <gname>:*\t\tSignal all processes in a group",
            "signal <signal name> <name> <name>\tSignal multiple processes or groups", "signal <signal name> all\t\tSignal all processes",
        ],
        "restart": [
            "restart <name>\t\tRestart a process", "restart <gname>:*\tRestart all processes in a group",
            "restart <name> <name>\tRestart multiple processes or groups", "restart all\t\tRestart all processes",
            "restart --rolling [--timeout=N] <gname>\tRestart a group one process at a time, each RUNNING (and healthy) before the next",
            "Note: restart does not reread config files. For that, see reread and update.",
        ],
        "shutdown": ["shutdown \tShut the remote supervisord down."],
        "reload": ["reload \t\tRestart the remote supervisord."],
        "avail": ["avail\t\t\tDisplay all configured processes"],
        "reread": ["reread \t\t\tReload the daemon's configuration files without add/remove"],
        "add": ["add <name> [...]\tActivates any updates in config for process/group"],
        "remove": ["remove <name> [...]\tRemoves process/group from active config"],
        "update": [
            "update\t\t\tReload config and add/remove as necessary, and will restart affected programs",
            "update all\t\tReload config and add/remove as necessary, and will restart affected programs",
            "update <gname> [...]\tUpdate specific groups",
        ],
        "clear": [
            "clear <name>\t\tClear a process' log files.", "clear <name> <name>\tClear multiple process' log files",
            "clear all\t\tClear all process' log files",
        ],
        "open": ["open <url>\tConnect to a remote supervisord process.", "\t\t(for UNIX domain socket, use unix:///socket/path)"],
        "version": ["version\t\t\tShow the version of the remote supervisord process"],
        "fg": ["fg <process>\tConnect to a process in foreground mode", "\t\tCtrl-C to exit"],
    ]

    func help(_ argument: String) {
        let topic = argument.trimmingASCIIWhitespace()
        if topic.isEmpty {
            output("")
            let header = "default commands (type help <topic>):"
            output(header)
            output(String(repeating: "=", count: header.count))
            for line in SupervisorController.columnize(SupervisorController.commands, width: 79) { output(line) }
            output("")
            return
        }
        guard let lines = SupervisorController.helpTexts[topic] else {
            output("*** No help on \(topic)")
            return
        }
        for line in lines { output(line) }
    }

    /// Python's `cmd.Cmd.columnize`: the fewest rows that fit `width`, columns two spaces apart.
    static func columnize(_ items: [String], width: Int) -> [String] {
        guard items.count > 1 else { return items.isEmpty ? ["<empty>"] : items }
        var rows = items.count
        var widths = [0]
        for candidate in 1..<items.count {
            let columns = (items.count + candidate - 1) / candidate
            var columnWidths: [Int] = []
            var total = -2
            for column in 0..<columns {
                let cells = (0..<candidate).map { column * candidate + $0 }.filter { $0 < items.count }
                let columnWidth = cells.map { items[$0].count }.max() ?? 0
                columnWidths.append(columnWidth)
                total += columnWidth + 2
                if total > width { break }
            }
            if total <= width {
                rows = candidate
                widths = columnWidths
                break
            }
        }
        if widths == [0] { rows = items.count }
        var lines: [String] = []
        for row in 0..<rows {
            var texts: [String] = []
            for column in 0..<widths.count {
                let index = row + rows * column
                texts.append(index < items.count ? items[index] : "")
            }
            while let last = texts.last, last.isEmpty { texts.removeLast() }
            lines.append(texts.enumerated().map { pad($0.element, widths[$0.offset]) }.joined(separator: "  "))
        }
        return lines
    }

    // MARK: - fg

    /// `fg`: shows a process's output as it comes and sends what is typed to its standard input,
    /// until Ctrl-C, the end of input, or the process ends.
    func foreground(_ argument: String) throws(SupervisorClientError) {
        if try !upcheck() { return }
        let names = SupervisorController.words(argument)
        if names.isEmpty {
            output("ERROR: no process name supplied")
            exitStatus = ExitStatus.generic
            return help("fg")
        }
        if names.count > 1 {
            output("ERROR: too many process names supplied")
            exitStatus = ExitStatus.generic
            return
        }
        let name = names[0]
        let info: XMLRPCValue
        do {
            info = try call("getProcessInfo", [.string(name)])
        } catch {
            if case .fault(let code, let string) = error {
                if code == SupervisorFault.badName("").code {
                    output("ERROR: bad process name supplied")
                    exitStatus = ExitStatus.generic
                } else {
                    output("ERROR: <Fault \(code): '\(string)'>")
                }
                return
            }
            throw error
        }
        if info.number("state") != ProcessState.running.rawValue {
            output("ERROR: process not running")
            exitStatus = ExitStatus.generic
            return
        }
        output("==> Press Ctrl-C to exit <==")
        let stop = Locked(false)
        let client = self.client
        let write = self.write
        // Both channels are followed on threads of their own while this thread reads input.
        let streams = NIOThreadPool(numberOfThreads: 2)
        streams.start()
        for channel in ["stdout", "stderr"] {
            streams.submit { _ in
                try? client.follow("/logtail/\(name)/\(channel)", shouldStop: { stop.withLock { $0 } }) { bytes in
                    write(bytes)
                    return true
                }
            }
        }
        _ = interrupted()
        interruptible(true)
        defer {
            interruptible(false)
            stop.withLock { $0 = true }
            try? streams.syncShutdownGracefully()
        }
        while let line = readLine("") {
            if interrupted() { break }
            do {
                _ = try call("sendProcessStdin", [.string(name), .string(line + "\n")])
            } catch {
                if case .fault(let code, let string) = error {
                    output(code == SupervisorFault.notRunning("").code ? "Process got killed" : "ERROR: <Fault \(code): '\(string)'>")
                    output("Exiting foreground")
                    return
                }
                throw error
            }
            if try call("getProcessInfo", [.string(name)]).number("state") != ProcessState.running.rawValue {
                output("Process got killed")
                output("Exiting foreground")
                return
            }
        }
        output("Exiting foreground")
    }
}
