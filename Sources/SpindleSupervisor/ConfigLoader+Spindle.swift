/// spindled's own `[program:x]` options, which supervisord does not know (and ignores):
/// `depends_on` and `healthcheck_*`.
extension ConfigLoader {
    /// The `healthcheck_*` options of a program section; `nil` without `healthcheck_command`.
    /// - Parameters:
    ///   - section: The `program:x` section.
    ///   - extra: The expansions of the process (`program_name`, `process_num`...).
    /// - Returns: The check.
    /// - Throws: `ConfigError` for a bad value, or a `healthcheck_*` option without a command.
    func healthCheck(_ section: String, extra: [String: ExpansionValue]) throws(ConfigError) -> HealthCheckConfig? {
        let options = ["healthcheck_interval", "healthcheck_timeout", "healthcheck_retries"]
        guard let command = try string(section, "healthcheck_command", extra: extra)?.trimmingWhitespace(), !command.isEmpty else {
            if let stray = options.first(where: { document.value(section, $0) != nil }) {
                throw ConfigError(
                    .inconsistent, file: document.value(section, stray)?.file ?? fileOf(section), section: section, option: stray,
                    reason: "\(stray) is set but healthcheck_command is not")
            }
            return nil
        }
        // A command that cannot be split would fail every check and restart the program forever:
        // refuse it here (supervisor's own `command` is only split at spawn time; this option is
        // spindled's, so it can be stricter).
        do {
            _ = try Shlex.split(command)
        } catch {
            throw ConfigError(
                .invalidValue, file: document.value(section, "healthcheck_command")?.file ?? fileOf(section), section: section,
                option: "healthcheck_command", reason: "can't parse command \(command.debugDescription): \(error.message)")
        }
        var check = HealthCheckConfig(command: command)
        check.interval = try typed(section, "healthcheck_interval", default: check.interval, extra: extra, ConfigLoader.seconds)
        check.timeout = try typed(section, "healthcheck_timeout", default: check.timeout, extra: extra, ConfigLoader.seconds)
        check.retries = try typed(section, "healthcheck_retries", default: check.retries, extra: extra) { (text) throws(ConfigValues.Refusal) in
            let value = try ConfigValues.integer(text)
            guard value >= 1 else { throw ConfigValues.Refusal(reason: "must be a count of failed checks of at least 1, not \(value)") }
            return value
        }
        return check
    }

    /// A number of seconds above 0, such as `5` or `0.5`.
    static func seconds(_ text: String) throws(ConfigValues.Refusal) -> Double {
        let cleaned = text.trimmingWhitespace()
        guard let value = Double(cleaned), value.isFinite else { throw ConfigValues.Refusal(reason: "'\(text)' is not a number of seconds") }
        guard value > 0 else { throw ConfigValues.Refusal(reason: "must be a number of seconds above 0, not \(cleaned)") }
        return value
    }

    /// Resolves every program's `depends_on` into `group:process` names and refuses unknown
    /// names and cycles.
    ///
    /// An entry is a program name (`[program:x]`: all its processes, in whichever group),
    /// `group:process` (one process), or `group:*` (every process of a group).
    /// - Parameter groups: The process groups; their processes' `dependsOn` is filled in.
    /// - Throws: `ConfigError` naming the section and the unknown name or the cycle.
    func resolveDependencies(_ groups: inout [ProcessGroupConfig]) throws(ConfigError) {
        let all = groups.flatMap { group in group.processes.map { (group: group.name, process: $0) } }
        var sectionOf: [String: String] = [:]
        for g in groups.indices {
            for p in groups[g].processes.indices {
                let process = groups[g].processes[p]
                let section = "program:" + process.programName
                let key = "\(groups[g].name):\(process.name)"
                sectionOf[key] = section
                let extra: [String: ExpansionValue] = ["program_name": .text(process.programName), "group_name": .text(groups[g].name)]
                let entries = ConfigValues.stringList(try string(section, "depends_on", extra: extra)).filter { !$0.isEmpty }
                var resolved: [String] = []
                for entry in entries {
                    let targets: [String]
                    if entry.contains(":") {
                        let (groupName, processName) = Supervisor.splitName(entry)
                        targets = all.filter { $0.group == groupName && (processName == nil || $0.process.name == processName) }
                            .map { "\($0.group):\($0.process.name)" }
                    } else {
                        targets = all.filter { $0.process.programName == entry }.map { "\($0.group):\($0.process.name)" }
                    }
                    guard !targets.isEmpty else {
                        let what = entry.contains(":") ? "process or group" : "program"
                        throw ConfigError(
                            .inconsistent, file: document.value(section, "depends_on")?.file ?? fileOf(section), section: section,
                            option: "depends_on", value: entry,
                            reason: "depends_on names unknown \(what) '\(entry)' (name a [program:x] section, group:process or group:*)")
                    }
                    for target in targets where !resolved.contains(target) { resolved.append(target) }
                }
                groups[g].processes[p].dependsOn = resolved
            }
        }
        let nodes = groups.flatMap { group in group.processes.map { "\(group.name):\($0.name)" } }
        var edges: [String: [String]] = [:]
        for group in groups { for process in group.processes { edges["\(group.name):\(process.name)"] = process.dependsOn } }
        guard let cycle = DependencyOrder.cycle(nodes: nodes, dependencies: edges) else { return }
        let section = sectionOf[cycle[0]] ?? "supervisord"
        let names = cycle.map { key in
            let (group, process) = Supervisor.splitName(key)
            return Supervisor.makeName(group: group, process: process ?? group)
        }
        throw ConfigError(
            .inconsistent, file: document.value(section, "depends_on")?.file ?? fileOf(section), section: section, option: "depends_on",
            value: try string(section, "depends_on", expand: false), reason: "depends_on cycle: " + names.joined(separator: " -> "))
    }
}
