#if canImport(Glibc)
import Glibc
#endif
import SpindleSupervisor
import SpindleSystem

extension SupervisorController {
    /// The seconds `restart --rolling` waits for each process by default.
    static let rollingTimeout = 60.0

    /// The health word `status` appends to a process's description (`starting`, `healthy`,
    /// `unhealthy`), by `group:process` name; empty against a server without health methods
    /// (supervisord, or spindled with no health check configured).
    func healthWords() -> [String: String] {
        guard let list = try? call("getAllProcessHealth").arrayValue else { return [:] }
        var words: [String: String] = [:]
        for entry in list where ["starting", "healthy", "unhealthy"].contains(entry.text("health")) {
            words[entry.namespec] = entry.text("health")
        }
        return words
    }

    /// `restart --rolling [--timeout=SECONDS] GROUP...`: restarts each group's processes one at
    /// a time (in priority order), waiting for each to be RUNNING, and healthy when it has a
    /// health check, before the next. A process that is FATAL, or not up when the timeout
    /// passes, ends the restart with an error (exit status 7); the processes after it are
    /// left alone.
    func rollingRestart(_ argument: String) throws(SupervisorClientError) {
        var words = Array(SupervisorController.words(argument).dropFirst())
        var timeout = SupervisorController.rollingTimeout
        var groups: [String] = []
        while !words.isEmpty {
            let word = words.removeFirst()
            if word == "--timeout" || word.hasPrefix("--timeout=") {
                let text = word == "--timeout" ? (words.isEmpty ? "" : words.removeFirst()) : String(word.dropFirst(10))
                guard let seconds = Double(text), seconds > 0 else {
                    output("Error: --timeout needs a number of seconds above 0, not '\(text)'")
                    exitStatus = ExitStatus.invalidArguments
                    return
                }
                timeout = seconds
            } else {
                groups.append(Supervisor.splitName(word).group)
            }
        }
        if groups.isEmpty {
            output("Error: restart --rolling requires a group name")
            exitStatus = ExitStatus.invalidArguments
            return help("restart")
        }
        let infos = try call("getAllProcessInfo").arrayValue ?? []
        let priorities = processPriorities()
        for group in groups {
            let members = infos.filter { $0.text("group") == group }.sorted { a, b in
                (priorities[a.namespec] ?? 999, a.text("name")) < (priorities[b.namespec] ?? 999, b.text("name"))
            }
            if members.isEmpty {
                output("\(group): ERROR (no such group)")
                exitStatus = ExitStatus.invalidArguments
                continue
            }
            for member in members {
                if try !rollOne(member.namespec, timeout: timeout) {
                    output("\(group): ERROR (rolling restart stopped at \(member.namespec))")
                    exitStatus = ExitStatus.notRunning
                    return
                }
            }
        }
    }

    /// Each process's priority (`getAllConfigInfo`), by `group:process` name.
    func processPriorities() -> [String: Int] {
        guard let list = try? call("getAllConfigInfo").arrayValue else { return [:] }
        var priorities: [String: Int] = [:]
        for entry in list { priorities[entry.namespec] = entry.number("process_prio") }
        return priorities
    }

    /// Stops and starts one process, then waits until it is up. Returns whether it came up.
    func rollOne(_ name: String, timeout: Double) throws(SupervisorClientError) -> Bool {
        do {
            _ = try call("stopProcess", [.string(name)])
            output("\(name): stopped")
        } catch {
            guard case .fault(let code, let string) = error else { throw error }
            if code != SupervisorFault.notRunning("").code {
                output(signalResult(name, code, string, success: "stopped"))
                return false
            }
        }
        do {
            _ = try call("startProcess", [.string(name), .bool(false)])
        } catch {
            guard case .fault(let code, _) = error else { throw error }
            output(startResult(name, code))
            return false
        }
        let deadline = Deadline.after(seconds: timeout)
        var last = "STARTING"
        while true {
            let info = try call("getProcessInfo", [.string(name)])
            let state = ProcessState(rawValue: info.number("state"))
            last = info.text("statename")
            if state == .fatal || state == .unknown {
                let why = info.text("spawnerr")
                output("\(name): ERROR (\(last)\(why.isEmpty ? "" : ": " + why))")
                return false
            }
            if state == .running {
                let health = (try? call("getProcessHealth", [.string(name)]))?.text("health") ?? "none"
                if health == "unhealthy" {
                    output("\(name): ERROR (unhealthy)")
                    return false
                }
                if health == "none" || health == "healthy" {
                    output("\(name): started")
                    return true
                }
                last = "RUNNING, health \(health)"
            }
            if deadline.hasPassed {
                output("\(name): ERROR (not up after \(timeout == timeout.rounded() ? String(Int(timeout)) : String(timeout)) s: \(last))")
                return false
            }
            usleep(100_000)
        }
    }
}
