import SpindleSupervisor

extension SupervisorController {
    // MARK: - status, pid, version

    func status(_ argument: String) throws(SupervisorClientError) {
        if try !upcheck() {
            exitStatus = ExitStatus.statusUnknown
            return
        }
        let infos = try call("getAllProcessInfo").arrayValue ?? []
        let names = SupervisorController.words(argument)
        var matching: [XMLRPCValue] = []
        if names.isEmpty || names.contains("all") {
            matching = infos
        } else {
            for name in names {
                let (group, process) = Supervisor.splitName(name)
                var found = false
                for info in infos where info.text("group") == group && (process == nil || info.text("name") == process) {
                    found = true
                    matching.append(info)
                }
                if !found {
                    output(process == nil ? "\(group): ERROR (no such group)" : "\(name): ERROR (no such process)")
                    exitStatus = ExitStatus.statusUnknown
                }
            }
        }
        showStatuses(matching, health: healthWords())
        for info in matching where ProcessState(rawValue: info.number("state")).map(\.isStopped) ?? false {
            exitStatus = ExitStatus.statusNotRunning
        }
    }

    /// The status table: the name padded to the longest name (at least 30) plus 3, the state
    /// padded to 10, the description.
    func showStatuses(_ infos: [XMLRPCValue], health: [String: String] = [:]) {
        let names = infos.map { Supervisor.makeName(group: $0.text("group"), process: $0.text("name")) }
        let width = max(30, names.map(\.count).max() ?? 0) + 3
        for (name, info) in zip(names, infos) {
            let description = info.text("description") + (health[name].map { ", " + $0 } ?? "")
            output(SupervisorController.pad(name, width) + SupervisorController.pad(info.text("statename"), 10) + description)
        }
    }

    func pid(_ argument: String) throws(SupervisorClientError) {
        if try !upcheck() { return }
        let names = SupervisorController.words(argument)
        if names.isEmpty {
            output(String(try call("getPID").intValue ?? 0))
        } else if names.contains("all") {
            for info in try call("getAllProcessInfo").arrayValue ?? [] { output(String(info.number("pid"))) }
        } else {
            for name in names {
                do {
                    let pid = try call("getProcessInfo", [.string(name)]).number("pid")
                    output(String(pid))
                    if pid == 0 { exitStatus = ExitStatus.notRunning }
                } catch {
                    exitStatus = ExitStatus.generic
                    guard case .fault(let code, _) = error, code == SupervisorFault.badName("").code else { throw error }
                    output("No such process \(name)")
                }
            }
        }
    }

    func version(_ argument: String) throws(SupervisorClientError) {
        if !argument.isEmpty {
            output("Error: version accepts no arguments")
            exitStatus = ExitStatus.generic
            return help("version")
        }
        if try !upcheck() { return }
        output(try call("getSupervisorVersion").stringValue ?? "")
    }

    // MARK: - start, stop, restart, signal

    /// The line for one start result.
    func startResult(_ name: String, _ code: Int) -> String {
        switch code {
        case SupervisorFault.badName("").code: "\(name): ERROR (no such process)"
        case SupervisorFault.noFile(nil).code: "\(name): ERROR (no such file)"
        case SupervisorFault.notExecutable("").code: "\(name): ERROR (file is not executable)"
        case SupervisorFault.alreadyStarted("").code: "\(name): ERROR (already started)"
        case SupervisorFault.spawnError("").code: "\(name): ERROR (spawn error)"
        case SupervisorFault.abnormalTermination("").code: "\(name): ERROR (abnormal termination)"
        case SupervisorFault.success.code: "\(name): started"
        default: "\(name): ERROR (unknown result code \(code))"
        }
    }

    /// The line for one signal (or stop) result.
    func signalResult(_ name: String, _ code: Int, _ description: String, success: String = "signalled") -> String {
        switch code {
        case SupervisorFault.badName("").code: "\(name): ERROR (no such process)"
        case SupervisorFault.badSignal("").code: "\(name): ERROR (bad signal name)"
        case SupervisorFault.notRunning("").code: "\(name): ERROR (not running)"
        case SupervisorFault.success.code: "\(name): \(success)"
        case SupervisorFault.failed().code: description
        default: "\(name): ERROR (unknown result code \(code))"
        }
    }

    func start(_ argument: String) throws(SupervisorClientError) {
        if try !upcheck() { return }
        let names = SupervisorController.words(argument)
        if names.isEmpty {
            output("Error: start requires a process name")
            exitStatus = ExitStatus.invalidArguments
            return help("start")
        }
        let ignored = SupervisorFault.alreadyStarted("").code
        if names.contains("all") {
            for result in try call("startAllProcesses").arrayValue ?? [] {
                output(startResult(result.namespec, result.number("status")))
                setExitStatus(fromFault: result.number("status"), ignoring: ignored)
            }
            return
        }
        for name in names {
            let (group, process) = Supervisor.splitName(name)
            guard let process else {
                do {
                    for result in try call("startProcessGroup", [.string(group)]).arrayValue ?? [] {
                        output(startResult(result.namespec, result.number("status")))
                        setExitStatus(fromFault: result.number("status"), ignoring: ignored)
                    }
                } catch {
                    guard case .fault(let code, _) = error, code == SupervisorFault.badName("").code else {
                        exitStatus = ExitStatus.generic
                        throw error
                    }
                    output("\(group): ERROR (no such group)")
                    exitStatus = ExitStatus.invalidArguments
                }
                continue
            }
            do {
                _ = try call("startProcess", [.string(name)])
                output("\(Supervisor.makeName(group: group, process: process)): started")
            } catch {
                guard case .fault(let code, _) = error else { throw error }
                output(startResult(Supervisor.makeName(group: group, process: process), code))
                setExitStatus(fromFault: code, ignoring: ignored)
            }
        }
    }

    func stop(_ argument: String) throws(SupervisorClientError) {
        if try !upcheck() { return }
        let names = SupervisorController.words(argument)
        if names.isEmpty {
            output("Error: stop requires a process name")
            exitStatus = ExitStatus.generic
            return help("stop")
        }
        let ignored = SupervisorFault.notRunning("").code
        if names.contains("all") {
            for result in try call("stopAllProcesses").arrayValue ?? [] {
                output(signalResult(result.namespec, result.number("status"), result.text("description"), success: "stopped"))
                setExitStatus(fromFault: result.number("status"), ignoring: ignored)
            }
            return
        }
        for name in names {
            let (group, process) = Supervisor.splitName(name)
            guard let process else {
                do {
                    for result in try call("stopProcessGroup", [.string(group)]).arrayValue ?? [] {
                        output(signalResult(result.namespec, result.number("status"), result.text("description"), success: "stopped"))
                        setExitStatus(fromFault: result.number("status"), ignoring: ignored)
                    }
                } catch {
                    exitStatus = ExitStatus.generic
                    guard case .fault(let code, _) = error, code == SupervisorFault.badName("").code else { throw error }
                    output("\(group): ERROR (no such group)")
                }
                continue
            }
            do {
                _ = try call("stopProcess", [.string(name)])
                output("\(Supervisor.makeName(group: group, process: process)): stopped")
            } catch {
                guard case .fault(let code, let string) = error else { throw error }
                output(signalResult(Supervisor.makeName(group: group, process: process), code, string, success: "stopped"))
                setExitStatus(fromFault: code, ignoring: ignored)
            }
        }
    }

    func restart(_ argument: String) throws(SupervisorClientError) {
        if try !upcheck() { return }
        if SupervisorController.words(argument).first == "--rolling" { return try rollingRestart(argument) }
        if SupervisorController.words(argument).isEmpty {
            output("Error: restart requires a process name")
            exitStatus = ExitStatus.generic
            return help("restart")
        }
        try stop(argument)
        try start(argument)
    }

    func signal(_ argument: String) throws(SupervisorClientError) {
        if try !upcheck() { return }
        let words = SupervisorController.words(argument)
        if words.count < 2 {
            output("Error: signal requires a signal name and a process name")
            help("signal")
            exitStatus = ExitStatus.generic
            return
        }
        let signal = words[0]
        let names = Array(words.dropFirst())
        if names.contains("all") {
            for result in try call("signalAllProcesses", [.string(signal)]).arrayValue ?? [] {
                output(signalResult(result.namespec, result.number("status"), result.text("description")))
                setExitStatus(fromFault: result.number("status"))
            }
            return
        }
        for name in names {
            let (group, process) = Supervisor.splitName(name)
            guard let process else {
                do {
                    for result in try call("signalProcessGroup", [.string(group), .string(signal)]).arrayValue ?? [] {
                        output(signalResult(result.namespec, result.number("status"), result.text("description")))
                        setExitStatus(fromFault: result.number("status"))
                    }
                } catch {
                    guard case .fault(let code, _) = error, code == SupervisorFault.badName("").code else { throw error }
                    output("\(group): ERROR (no such group)")
                    exitStatus = ExitStatus.generic
                }
                continue
            }
            do {
                _ = try call("signalProcess", [.string(name), .string(signal)])
                output("\(Supervisor.makeName(group: group, process: process)): signalled")
            } catch {
                guard case .fault(let code, let string) = error else { throw error }
                output(signalResult(Supervisor.makeName(group: group, process: process), code, string))
                setExitStatus(fromFault: code)
            }
        }
    }

    // MARK: - Logs

    func tail(_ argument: String) throws(SupervisorClientError) {
        if try !upcheck() { return }
        var words = SupervisorController.words(argument)
        if words.isEmpty {
            output("Error: too few arguments")
            exitStatus = ExitStatus.generic
            return help("tail")
        }
        if words.count > 3 {
            output("Error: too many arguments")
            exitStatus = ExitStatus.generic
            return help("tail")
        }
        var modifier: String?
        if words[0].hasPrefix("-") { modifier = words.removeFirst() }
        let name: String
        var channel = "stdout"
        if words.count == 1 {
            name = words[0]
        } else if !words.isEmpty {
            name = words[0]
            channel = words[words.count - 1].lowercased()
            if channel != "stderr", channel != "stdout" {
                output("Error: bad channel '\(channel)'")
                exitStatus = ExitStatus.generic
                return
            }
        } else {
            output("Error: tail requires process name")
            exitStatus = ExitStatus.generic
            return
        }
        var bytes: Int? = 1600
        if let modifier {
            let what = String(modifier.dropFirst())
            if what == "f" {
                bytes = nil
            } else if let n = Int(what.trimmingASCIIWhitespace()) {
                bytes = n
            } else {
                output("Error: bad argument \(modifier)")
                exitStatus = ExitStatus.generic
                return
            }
        }
        guard let bytes else { return follow("/logtail/\(name)/\(channel)") }
        do {
            let method = channel == "stdout" ? "readProcessStdoutLog" : "readProcessStderrLog"
            output(try call(method, [.string(name), .int(-bytes), .int(0)]).stringValue ?? "")
        } catch {
            guard case .fault(let code, _) = error else { throw error }
            exitStatus = ExitStatus.generic
            switch code {
            case SupervisorFault.noFile(nil).code: output("\(name): ERROR (no log file)")
            case SupervisorFault.failed().code: output("\(name): ERROR (unknown error reading log)")
            case SupervisorFault.badName("").code: output("\(name): ERROR (no such process name)")
            default: throw error
            }
        }
    }

    func maintail(_ argument: String) throws(SupervisorClientError) {
        if try !upcheck() { return }
        let words = SupervisorController.words(argument)
        var bytes = 1600
        if words.count > 1 {
            output("Error: too many arguments")
            exitStatus = ExitStatus.generic
            return help("maintail")
        } else if words.count == 1 {
            guard words[0].hasPrefix("-") else {
                output("Error: bad argument \(words[0])")
                exitStatus = ExitStatus.generic
                return
            }
            let what = String(words[0].dropFirst())
            if what == "f" { return follow("/mainlogtail") }
            guard let n = Int(what.trimmingASCIIWhitespace()) else {
                output("Error: bad argument \(words[0])")
                exitStatus = ExitStatus.generic
                return
            }
            bytes = n
        }
        do {
            output(try call("readLog", [.int(-bytes), .int(0)]).stringValue ?? "")
        } catch {
            guard case .fault(let code, _) = error else { throw error }
            exitStatus = ExitStatus.generic
            switch code {
            case SupervisorFault.noFile(nil).code: output("supervisord: ERROR (no log file)")
            case SupervisorFault.failed().code: output("supervisord: ERROR (unknown error reading log)")
            default: throw error
            }
        }
    }

    /// `tail -f` and `maintail -f`: streams until Ctrl-C or the server ends the stream. A
    /// failure is reported on standard error and leaves the exit status alone, as supervisorctl's.
    func follow(_ path: String) {
        output("==> Press Ctrl-C to exit <==")
        let url = client.serverURL + path
        var stoppedByUser = false
        _ = interrupted()
        interruptible(true)
        defer { interruptible(false) }
        do {
            try client.follow(path, shouldStop: {
                if interrupted() { stoppedByUser = true }
                return stoppedByUser
            }) { bytes in
                write(bytes)
                return true
            }
        } catch {
            switch error {
            case .http(let status, _): writeError("\(url) Cannot read, status code \(status)\n")
            default: writeError("\(url) Cannot connect, error: \(error)\n")
            }
        }
        if stoppedByUser { output("") }
    }

    func clear(_ argument: String) throws(SupervisorClientError) {
        if try !upcheck() { return }
        let names = SupervisorController.words(argument)
        if names.isEmpty {
            output("Error: clear requires a process name")
            exitStatus = ExitStatus.generic
            return help("clear")
        }
        func line(_ name: String, _ code: Int) -> String {
            switch code {
            case SupervisorFault.badName("").code: "\(name): ERROR (no such process)"
            case SupervisorFault.failed().code: "\(name): ERROR (failed)"
            case SupervisorFault.success.code: "\(name): cleared"
            default: "\(name): ERROR (unknown result code \(code))"
            }
        }
        if names.contains("all") {
            for result in try call("clearAllProcessLogs").arrayValue ?? [] {
                output(line(result.namespec, result.number("status")))
                setExitStatus(fromFault: result.number("status"))
            }
            return
        }
        for name in names {
            let (group, process) = Supervisor.splitName(name)
            let shown = process.map { Supervisor.makeName(group: group, process: $0) } ?? "\(group):None"
            do {
                _ = try call("clearProcessLogs", [.string(name)])
                output("\(shown): cleared")
            } catch {
                guard case .fault(let code, _) = error else { throw error }
                output(line(shown, code))
                setExitStatus(fromFault: code)
            }
        }
    }

    // MARK: - Configuration

    func avail(_ argument: String) throws(SupervisorClientError) {
        if !argument.isEmpty {
            output("Error: avail accepts no arguments")
            exitStatus = ExitStatus.generic
            return help("avail")
        }
        do {
            for info in try call("getAllConfigInfo").arrayValue ?? [] {
                let name = Supervisor.makeName(group: info.text("group"), process: info.text("name"))
                let inuse = info["inuse"]?.boolValue == true ? "in use" : "avail"
                let autostart = info["autostart"]?.boolValue == true ? "auto" : "manual"
                let priority = "\(info.number("group_prio")):\(info.number("process_prio"))"
                output(SupervisorController.pad(name, 32) + " " + SupervisorController.pad(inuse, 9) + " " + SupervisorController.pad(autostart, 9) + " " + priority)
            }
        } catch {
            exitStatus = ExitStatus.generic
            guard case .fault(let code, _) = error, code == SupervisorFault.shutdownState().code else { throw error }
            output("ERROR: supervisor shutting down")
        }
    }

    func reread(_ argument: String) throws(SupervisorClientError) {
        if !argument.isEmpty {
            output("Error: reread accepts no arguments")
            exitStatus = ExitStatus.generic
            return help("reread")
        }
        do {
            let result = try call("reloadConfig")
            formatChanges(result.arrayValue?.first?.arrayValue ?? [])
        } catch {
            exitStatus = ExitStatus.generic
            guard case .fault(let code, let string) = error else { throw error }
            if code == SupervisorFault.shutdownState().code {
                output("ERROR: supervisor shutting down")
            } else if code == SupervisorFault.cantReread("").code {
                output("ERROR: \(string)")
            } else {
                throw error
            }
        }
    }

    /// `reread`'s report: each changed group with `available`, `changed` or `disappeared`, by name.
    func formatChanges(_ lists: [XMLRPCValue]) {
        var changes: [String: String] = [:]
        for (index, word) in ["available", "changed", "disappeared"].enumerated() where index < lists.count {
            for name in lists[index].arrayValue ?? [] { changes[name.stringValue ?? ""] = word }
        }
        if changes.isEmpty {
            output("No config updates to processes")
            return
        }
        for name in changes.keys.sorted(by: { $0.utf8.lexicographicallyPrecedes($1.utf8) }) { output("\(name): \(changes[name]!)") }
    }

    func add(_ argument: String) throws(SupervisorClientError) {
        for name in SupervisorController.words(argument) {
            do {
                _ = try call("addProcessGroup", [.string(name)])
                output("\(name): added process group")
            } catch {
                guard case .fault(let code, _) = error else {
                    exitStatus = ExitStatus.generic
                    throw error
                }
                switch code {
                case SupervisorFault.shutdownState().code:
                    output("ERROR: shutting down")
                    exitStatus = ExitStatus.generic
                case SupervisorFault.alreadyAdded("").code:
                    output("ERROR: process group already active")
                case SupervisorFault.badName("").code:
                    output("ERROR: no such process/group: \(name)")
                    exitStatus = ExitStatus.generic
                default:
                    exitStatus = ExitStatus.generic
                    throw error
                }
            }
        }
    }

    func remove(_ argument: String) throws(SupervisorClientError) {
        for name in SupervisorController.words(argument) {
            do {
                _ = try call("removeProcessGroup", [.string(name)])
                output("\(name): removed process group")
            } catch {
                exitStatus = ExitStatus.generic
                guard case .fault(let code, _) = error else { throw error }
                switch code {
                case SupervisorFault.stillRunning("").code: output("ERROR: process/group still running: \(name)")
                case SupervisorFault.badName("").code: output("ERROR: no such process/group: \(name)")
                default: throw error
                }
            }
        }
    }

    func update(_ argument: String) throws(SupervisorClientError) {
        let result: XMLRPCValue
        do {
            result = try call("reloadConfig")
        } catch {
            exitStatus = ExitStatus.generic
            guard case .fault(let code, _) = error, code == SupervisorFault.shutdownState().code else { throw error }
            output("ERROR: already shutting down")
            return
        }
        let lists = result.arrayValue?.first?.arrayValue ?? []
        let names: (Int) -> [String] = { index in index < lists.count ? (lists[index].arrayValue ?? []).compactMap(\.stringValue) : [] }
        let (added, changed, removed) = (names(0), names(1), names(2))
        var wanted = Set(SupervisorController.words(argument))
        if wanted.contains("all") { wanted = [] }
        if !wanted.isEmpty {
            var groups = Set((try call("getAllProcessInfo").arrayValue ?? []).map { $0.text("group") })
            groups.formUnion(added)
            for name in SupervisorController.words(argument) where wanted.contains(name) && !groups.contains(name) {
                output("ERROR: no such group: \(name)")
                exitStatus = ExitStatus.generic
            }
        }
        for group in removed where wanted.isEmpty || wanted.contains(group) {
            let results = try call("stopProcessGroup", [.string(group)]).arrayValue ?? []
            output("\(group): stopped")
            if results.contains(where: { $0.number("status") == SupervisorFault.failed().code }) {
                output("\(group): has problems; not removing")
                exitStatus = ExitStatus.generic
                continue
            }
            _ = try call("removeProcessGroup", [.string(group)])
            output("\(group): removed process group")
        }
        for group in changed where wanted.isEmpty || wanted.contains(group) {
            _ = try call("stopProcessGroup", [.string(group)])
            output("\(group): stopped")
            _ = try call("removeProcessGroup", [.string(group)])
            _ = try call("addProcessGroup", [.string(group)])
            output("\(group): updated process group")
        }
        for group in added where wanted.isEmpty || wanted.contains(group) {
            _ = try call("addProcessGroup", [.string(group)])
            output("\(group): added process group")
        }
    }

    // MARK: - The supervisor itself

    func shutdown(_ argument: String) throws(SupervisorClientError) {
        if !argument.isEmpty {
            output("Error: shutdown accepts no arguments")
            exitStatus = ExitStatus.generic
            return help("shutdown")
        }
        if interactive {
            let answer = readLine("Really shut the remote supervisord process down y/N? ") ?? ""
            guard answer.lowercased().hasPrefix("y") else { return }
        }
        do {
            _ = try call("shutdown")
            output("Shut down")
        } catch {
            switch error {
            case .fault(let code, _) where code == SupervisorFault.shutdownState().code:
                output("ERROR: already shutting down")
            case .connection(let code, _) where code == 111:
                exitStatus = ExitStatus.generic
                output("ERROR: \(client.serverURL) refused connection (already shut down?)")
            case .connection(let code, _) where code == 2:
                exitStatus = ExitStatus.generic
                output("ERROR: \(client.serverURL) no such file (already shut down?)")
            default:
                exitStatus = ExitStatus.generic
                throw error
            }
        }
    }

    func reload(_ argument: String) throws(SupervisorClientError) {
        if !argument.isEmpty {
            output("Error: reload accepts no arguments")
            exitStatus = ExitStatus.generic
            return help("reload")
        }
        if interactive {
            let answer = readLine("Really restart the remote supervisord process y/N? ") ?? ""
            guard answer.lowercased().hasPrefix("y") else { return }
        }
        do {
            _ = try call("restart")
            output("Restarted supervisord")
        } catch {
            exitStatus = ExitStatus.generic
            guard case .fault(let code, _) = error, code == SupervisorFault.shutdownState().code else { throw error }
            output("ERROR: already shutting down")
        }
    }

    func open(_ argument: String) throws(SupervisorClientError) {
        let url = argument.trimmingASCIIWhitespace()
        guard url.hasPrefix("unix:") || url.hasPrefix("http:") else {
            output("ERROR: url must be http:// or unix://")
            exitStatus = ExitStatus.generic
            return
        }
        client.serverURL = url
        let saved = exitStatus
        try status("")
        exitStatus = saved
    }

    // MARK: - Formatting

    /// `text` left-justified in `width` columns (Python's `%-Ns`).
    static func pad(_ text: String, _ width: Int) -> String {
        let count = text.count
        return count >= width ? text : text + String(repeating: " ", count: width - count)
    }
}

extension XMLRPCValue {
    /// A struct member's text, or "".
    func text(_ name: String) -> String { self[name]?.stringValue ?? "" }

    /// A struct member's integer, or 0.
    func number(_ name: String) -> Int {
        switch self[name] {
        case .int(let n): n
        case .bool(let b): b ? 1 : 0
        default: 0
        }
    }

    /// `group:name` of a result struct (supervisor's `make_namespec`).
    var namespec: String { Supervisor.makeName(group: text("group"), process: text("name")) }
}
