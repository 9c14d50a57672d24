#if canImport(Glibc)
import Glibc
#endif
import SpindleSupervisor

extension SupervisorRPCInterface {
    /// The `supervisor.*` methods.
    func supervisorMethod(_ method: String, _ p: RPCParameters) throws(SupervisorFault) -> XMLRPCValue {
        if method != "sendRemoteCommEvent", state != .running { throw .shutdownState() }
        switch method {
        case "getAPIVersion", "getVersion":
            try p.arity(0)
            return .string(SupervisorRPCInterface.apiVersion)
        case "getSupervisorVersion":
            try p.arity(0)
            return .string(SupervisorRPCInterface.supervisorVersion)
        case "getIdentification":
            try p.arity(0)
            return .string(identifier)
        case "getState":
            try p.arity(0)
            let current = state
            return .structure(["statecode": .int(current.rawValue), "statename": .string(current.name)])
        case "getPID":
            try p.arity(0)
            return .int(Int(getpid()))
        case "readLog", "readMainLog":
            try p.arity(2)
            let (offset, length) = (try p.int(0), try p.int(1))
            guard let path = mainLog?.path, LogFiles.exists(path) else { throw .noFile(mainLog?.path) }
            return .string(String(decoding: try LogFiles.read(path, offset: offset, length: length), as: UTF8.self))
        case "clearLog":
            try p.arity(0)
            guard let mainLog, let path = mainLog.path, LogFiles.exists(path) else { throw .noFile(nil) }
            do { try mainLog.clear() } catch { throw .failed() }
            return .bool(true)
        case "shutdown", "restart":
            try p.arity(0)
            let next: SupervisordState = method == "shutdown" ? .shutdown : .restarting
            state = next
            stateChanged(next)
            return .bool(true)
        case "reloadConfig":
            try p.arity(0)
            return try reloadConfig()
        case "addProcessGroup":
            try p.arity(1)
            try supervisor.addProcessGroup(name: try p.name(0))
            return .bool(true)
        case "removeProcessGroup":
            try p.arity(1)
            try supervisor.removeProcessGroup(name: try p.name(0))
            return .bool(true)
        case "startProcess":
            try p.arity(1, optional: 1)
            let name = try p.name(0)
            let wait = p.flag(1, default: true)
            if Supervisor.splitName(name).process == nil {
                return try groupResults(name) { group throws(SupervisorFault) in try supervisor.startGroup(name: group, wait: wait) }
            }
            try supervisor.start(name: name, wait: wait)
            return .bool(true)
        case "startProcessGroup":
            try p.arity(1, optional: 1)
            return results(try supervisor.startGroup(name: try p.name(0), wait: p.flag(1, default: true)))
        case "startAllProcesses":
            try p.arity(0, optional: 1)
            return results(try supervisor.startAll(wait: p.flag(0, default: true)))
        case "stopProcess":
            try p.arity(1, optional: 1)
            let name = try p.name(0)
            let wait = p.flag(1, default: true)
            if Supervisor.splitName(name).process == nil {
                return try groupResults(name) { group throws(SupervisorFault) in try supervisor.stopGroup(name: group, wait: wait) }
            }
            try supervisor.stop(name: name, wait: wait)
            return .bool(true)
        case "stopProcessGroup":
            try p.arity(1, optional: 1)
            return results(try supervisor.stopGroup(name: try p.name(0), wait: p.flag(1, default: true)))
        case "stopAllProcesses":
            try p.arity(0, optional: 1)
            return results(try supervisor.stopAll(wait: p.flag(0, default: true)))
        case "signalProcess":
            try p.arity(2)
            let name = try p.name(0)
            let signal = try p.string(1)
            if Supervisor.splitName(name).process == nil {
                return try groupResults(name) { group throws(SupervisorFault) in try supervisor.signalGroup(name: group, signal: signal) }
            }
            try supervisor.signal(name: name, signal: signal)
            return .bool(true)
        case "signalProcessGroup":
            try p.arity(2)
            return results(try supervisor.signalGroup(name: try p.name(0), signal: try p.string(1)))
        case "signalAllProcesses":
            try p.arity(1)
            return results(try supervisor.signalAll(signal: try p.string(0)))
        case "getAllConfigInfo":
            try p.arity(0)
            return allConfigInfo()
        case "getProcessInfo":
            try p.arity(1)
            return SupervisorRPCInterface.infoStruct(try supervisor.processInfo(name: try p.name(0)))
        case "getAllProcessInfo":
            try p.arity(0)
            return .array(supervisor.allProcessInfo().map(SupervisorRPCInterface.infoStruct))
        case "readProcessStdoutLog", "readProcessLog", "readProcessStderrLog":
            try p.arity(3)
            let channel: LogChannel = method == "readProcessStderrLog" ? .stderr : .stdout
            let (name, offset, length) = (try p.name(0), try p.int(1), try p.int(2))
            return .string(try supervisor.readLog(name: name, channel: channel, offset: offset, length: length))
        case "tailProcessStdoutLog", "tailProcessLog", "tailProcessStderrLog":
            try p.arity(3)
            let channel: LogChannel = method == "tailProcessStderrLog" ? .stderr : .stdout
            let (name, offset, length) = (try p.name(0), try p.int(1), try p.int(2))
            let tail = try supervisor.tailLog(name: name, channel: channel, offset: offset, length: length)
            return .array([.string(tail.text), .int(tail.offset), .bool(tail.overflow)])
        case "clearProcessLogs", "clearProcessLog":
            try p.arity(1)
            try supervisor.clearLog(name: try p.name(0))
            return .bool(true)
        case "clearAllProcessLogs":
            try p.arity(0)
            return results(try supervisor.clearAllLogs())
        case "sendProcessStdin":
            try p.arity(2)
            let name = try p.name(0)
            guard let chars = p.values[1].stringValue else { throw .incorrectParameters(p.values[1].description) }
            try supervisor.sendProcessStdin(name: name, chars: chars)
            return .bool(true)
        case "sendRemoteCommEvent":
            try p.arity(2)
            let (type, data) = (try p.string(0), try p.string(1))
            log(.debug, "remote communication event of type '\(type)' (\(data.utf8.count) bytes): no event listener receives it")
            return .bool(true)
        default:
            throw .unknownMethod()
        }
    }

    /// `reloadConfig`: reads the file again and compares it with the active groups.
    func reloadConfig() throws(SupervisorFault) -> XMLRPCValue {
        let config: SupervisorConfig
        do {
            config = try readConfig()
        } catch {
            var message = error.description
            if message.hasPrefix("Error: ") { message.removeFirst(7) }
            throw .cantReread(message)
        }
        let diff = try supervisor.reload(config: config)
        mutable.withLock { $0.config = config }
        let names: ([String]) -> XMLRPCValue = { .array($0.map { .string($0) }) }
        return .array([.array([names(diff.added), names(diff.changed), names(diff.removed)])])
    }

    /// A request naming a whole group (`group:*`): BAD_NAME names the request as given.
    func groupResults(
        _ name: String, _ body: (String) throws(SupervisorFault) -> [ProcessResult]
    ) throws(SupervisorFault) -> XMLRPCValue {
        do {
            return results(try body(Supervisor.splitName(name).group))
        } catch {
            if case .badName = error { throw .badName(name) }
            throw error
        }
    }

    /// Per-process results as structs.
    func results(_ list: [ProcessResult]) -> XMLRPCValue {
        .array(list.map { .structure(["name": .string($0.name), "group": .string($0.group), "status": .int($0.status), "description": .string($0.description)]) })
    }

    /// `getProcessInfo`'s struct, with supervisor's fields in supervisor's order.
    static func infoStruct(_ info: SupervisedProcessInfo) -> XMLRPCValue {
        .structure([
            "name": .string(info.name), "group": .string(info.group), "start": .int(info.start), "stop": .int(info.stop),
            "now": .int(info.now), "state": .int(info.state.rawValue), "statename": .string(info.statename),
            "spawnerr": .string(info.spawnerr), "exitstatus": .int(info.exitstatus), "logfile": .string(info.logfile),
            "stdout_logfile": .string(info.stdout_logfile), "stderr_logfile": .string(info.stderr_logfile),
            "pid": .int(Int(info.pid)), "description": .string(info.description),
        ])
    }

    /// `getAllConfigInfo`: every process of the configuration last read, sorted by name.
    func allConfigInfo() -> XMLRPCValue {
        let config = mutable.withLock { $0.config }
        let running = supervisor.allProcessInfo()
        let active = Set(running.map(\.group))
        var entries: [(name: String, value: XMLRPCValue)] = []
        for group in config.groups {
            let inuse = active.contains(group.name)
            for process in group.processes {
                let info = inuse ? running.first { $0.group == group.name && $0.name == process.name } : nil
                func logfile(_ setting: LogFileSetting, _ actual: String?) -> XMLRPCValue {
                    switch setting {
                    case .none: return .string("none")
                    case .path(let path): return .string(path)
                    case .automatic: return .string(actual.flatMap { $0.isEmpty ? nil : $0 } ?? "auto")
                    }
                }
                let value = XMLRPCValue.structure([
                    "autostart": .bool(process.autostart),
                    "directory": .string(process.directory ?? "none"),
                    "uid": process.uid.map { .int(Int($0)) } ?? .string("none"),
                    "command": .string(process.command),
                    "exitcodes": .array(process.exitcodes.map { .int($0) }),
                    "group": .string(group.name),
                    "group_prio": .int(group.priority),
                    "inuse": .bool(inuse),
                    "killasgroup": .bool(process.killasgroup),
                    "name": .string(process.name),
                    "process_prio": .int(process.priority),
                    "redirect_stderr": .bool(process.redirectStderr),
                    "startretries": .int(process.startretries),
                    "startsecs": .int(process.startsecs),
                    "stdout_capture_maxbytes": .int(process.stdout.captureMaxbytes),
                    "stdout_events_enabled": .bool(process.stdout.eventsEnabled),
                    "stdout_logfile": logfile(process.stdout.logfile, info?.stdout_logfile),
                    "stdout_logfile_backups": .int(process.stdout.backups),
                    "stdout_logfile_maxbytes": .int(process.stdout.maxbytes),
                    "stdout_syslog": .bool(process.stdout.syslog),
                    "stopsignal": .int(Int(process.stopsignal)),
                    "stopwaitsecs": .int(process.stopwaitsecs),
                    "stderr_capture_maxbytes": .int(process.stderr.captureMaxbytes),
                    "stderr_events_enabled": .bool(process.stderr.eventsEnabled),
                    "stderr_logfile": logfile(process.stderr.logfile, info?.stderr_logfile),
                    "stderr_logfile_backups": .int(process.stderr.backups),
                    "stderr_logfile_maxbytes": .int(process.stderr.maxbytes),
                    "stderr_syslog": .bool(process.stderr.syslog),
                    "serverurl": .string(process.serverurl ?? "none"),
                ])
                entries.append((process.name, value))
            }
        }
        // A stable sort by name, as Python's list.sort.
        let sorted = entries.enumerated().sorted { a, b in
            a.element.name == b.element.name ? a.offset < b.offset : a.element.name.utf8.lexicographicallyPrecedes(b.element.name.utf8)
        }
        return .array(sorted.map(\.element.value))
    }
}
