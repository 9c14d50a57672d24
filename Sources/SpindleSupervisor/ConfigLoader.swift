import SpindleSystem

/// Turns supervisord.conf text into a `SupervisorConfig` with supervisor's rules
/// (`ServerOptions.read_config` and friends).
struct ConfigLoader {
    let mainFile: String
    let here: String
    let hostNodeName: String
    /// `ENV_X` for every variable of the environment and of `[supervisord] environment`.
    var environ: [String: ExpansionValue]
    var document = IniDocument()
    var warnings: [String] = []
    var included: [String] = []

    init(mainFile: String, environment: [String: String], hostNodeName: String) {
        self.mainFile = mainFile
        self.here = FileSystem.directoryName(mainFile)
        self.hostNodeName = hostNodeName
        var environ: [String: ExpansionValue] = [:]
        for (key, value) in environment { environ["ENV_" + key] = .text(value) }
        self.environ = environ
    }

    // MARK: - Reading values

    func fileOf(_ section: String) -> String { document.section(section)?.file ?? mainFile }

    /// An option's text, expanded unless `expand` is false.
    func string(
        _ section: String, _ option: String, default fallback: String? = nil, expand: Bool = true,
        extra: [String: ExpansionValue] = [:]
    ) throws(ConfigError) -> String? {
        guard let raw = document.value(section, option) else { return fallback }
        guard expand else { return raw.text }
        return try expanded(raw.text, section: section, option: option, file: raw.file, extra: extra)
    }

    /// `text` expanded with `ENV_X`, `here` (the directory of the file the value came from),
    /// `host_node_name` and `extra`.
    func expanded(
        _ text: String, section: String, option: String, file: String? = nil, extra: [String: ExpansionValue]
    ) throws(ConfigError) -> String {
        var values = environ
        values["here"] = .text(FileSystem.directoryName(file ?? fileOf(section)))
        values["host_node_name"] = .text(hostNodeName)
        for (key, value) in extra { values[key] = value }
        do {
            return try Expansion.expand(text, values)
        } catch {
            let reason: String
            switch error {
            case .unknownName(let name):
                reason = "Format string '\(text)' for '\(section).\(option)' contains names ('\(name)') which cannot be expanded. Available names: \(values.keys.sorted().joined(separator: ", "))"
            case .badFormat(let why):
                reason = "Format string '\(text)' for '\(section).\(option)' is badly formatted: \(why)"
            }
            throw ConfigError(.badExpansion, file: file ?? fileOf(section), section: section, option: option, value: text, reason: reason)
        }
    }

    /// An option converted by `convert`; the default (already typed) when absent.
    func typed<T>(
        _ section: String, _ option: String, default fallback: T, extra: [String: ExpansionValue] = [:],
        _ convert: (String) throws(ConfigValues.Refusal) -> T
    ) throws(ConfigError) -> T {
        guard let text = try string(section, option, extra: extra) else { return fallback }
        return try converted(text, section, option, convert)
    }

    /// `text` converted by `convert`, a refusal turned into a `ConfigError`.
    func converted<T>(
        _ text: String, _ section: String, _ option: String?, _ convert: (String) throws(ConfigValues.Refusal) -> T
    ) throws(ConfigError) -> T {
        do {
            return try convert(text)
        } catch {
            throw invalid(section, option, value: text, reason: error.reason)
        }
    }

    func invalid(_ section: String, _ option: String?, value: String?, reason: String) -> ConfigError {
        let file = option.flatMap { document.value(section, $0)?.file } ?? fileOf(section)
        return ConfigError(.invalidValue, file: file, section: section, option: option, value: value, reason: reason)
    }

    func missing(_ section: String, _ option: String, reason: String) -> ConfigError {
        ConfigError(.missingOption, file: fileOf(section), section: section, option: option, reason: reason)
    }

    // MARK: - The file

    mutating func load(_ text: String) throws(ConfigError) -> SupervisorConfig {
        try document.read(text, file: mainFile)
        if document.has("include") {
            guard let files = try string("include", "files") else {
                throw missing("include", "files", reason: ".ini file has [include] section, but no files setting")
            }
            for pattern in files.split(whereSeparator: { $0.isWhitespace }) {
                let full = FileSystem.join(here, String(pattern))
                let matches = FileSystem.glob(full)
                if matches.isEmpty {
                    warnings.append("No file matches via include \"\(full)\"")
                    continue
                }
                for match in matches {
                    let file = FileSystem.absolute(match)
                    let contents: String
                    switch FileSystem.readText(file) {
                    case .success(let t): contents = t
                    case .failure(let failure):
                        throw ConfigError(
                            .unreadableFile, file: file, section: "include", option: "files",
                            reason: "could not read included file \(file): \(failure.message)")
                    }
                    let before = document.value("include", "files")
                    try document.read(contents, file: file)
                    if document.value("include", "files") != before {
                        warnings.append("Included file \"\(file)\" has an [include] section; recursive includes are not supported")
                    }
                    included.append(file)
                }
            }
        }
        guard document.has("supervisord") else {
            throw ConfigError(.missingSection, file: mainFile, section: "supervisord", reason: ".ini file does not include supervisord section")
        }
        let supervisord = try supervisordOptions()
        var config = SupervisorConfig(path: mainFile, supervisord: supervisord, groups: try processGroups(supervisord))
        try resolveDependencies(&config.groups)
        config.eventListenerPools = try eventListenerPools(supervisord)
        config.inetHTTPServers = try inetServers()
        config.unixHTTPServers = try unixServers()
        config.supervisorctl = try supervisorctl()
        config.rpcInterfaces = try rpcInterfaces()
        config.includedFiles = included
        for name in document.sectionNames where name.hasPrefix("fcgi-program:") {
            warnings.append("[\(name)] is not supported by spindled and was ignored")
        }
        config.warnings = warnings
        return config
    }

    mutating func supervisordOptions() throws(ConfigError) -> SupervisordOptions {
        let s = "supervisord"
        var o = SupervisordOptions(childlogdir: FileSystem.temporaryDirectory)
        o.minfds = try typed(s, "minfds", default: 1024, ConfigValues.integer)
        o.minprocs = try typed(s, "minprocs", default: 200, ConfigValues.integer)
        o.directory = try string(s, "directory").map { (t) throws(ConfigError) in try converted(t, s, "directory", ConfigValues.existingDirectory) }
        o.user = try string(s, "user")
        o.umask = try typed(s, "umask", default: 0o022, ConfigValues.octal)
        o.logfile = try typed(s, "logfile", default: "supervisord.log", ConfigValues.existingDirPath)
        o.logfileMaxbytes = try typed(s, "logfile_maxbytes", default: 50 * 1024 * 1024, ConfigValues.byteSize)
        o.logfileBackups = try typed(s, "logfile_backups", default: 10, ConfigValues.integer)
        o.loglevel = try typed(s, "loglevel", default: .info, ConfigValues.logLevel)
        o.pidfile = try typed(s, "pidfile", default: "supervisord.pid", ConfigValues.existingDirPath)
        o.identifier = try string(s, "identifier") ?? "supervisor"
        o.nodaemon = try typed(s, "nodaemon", default: false, ConfigValues.boolean)
        o.silent = try typed(s, "silent", default: false, ConfigValues.boolean)
        o.childlogdir = try typed(s, "childlogdir", default: o.childlogdir, ConfigValues.existingDirectory)
        o.nocleanup = try typed(s, "nocleanup", default: false, ConfigValues.boolean)
        o.stripANSI = try typed(s, "strip_ansi", default: false, ConfigValues.boolean)
        let environment = try string(s, "environment", default: "", expand: false) ?? ""
        let expandedEnvironment = try expanded(environment, section: s, option: "environment", extra: [:])
        o.environment = try converted(expandedEnvironment, s, "environment", ConfigValues.keyValuePairs)
        for (key, value) in o.environment { environ["ENV_" + key] = .text(value) }
        return o
    }

    // MARK: - Programs and groups

    mutating func processGroups(_ supervisord: SupervisordOptions) throws(ConfigError) -> [ProcessGroupConfig] {
        var groups: [ProcessGroupConfig] = []
        var grouped: Set<String> = []
        let sections = document.sectionNames
        for section in sections where section.hasPrefix("group:") {
            let groupName = try converted(String(section.dropFirst(6)), section, nil, ConfigValues.name)
            let programs = ConfigValues.stringList(try string(section, "programs"))
            let priority = try typed(section, "priority", default: 999, ConfigValues.integer)
            var processes: [ProcessConfig] = []
            for program in programs {
                let programSection = "program:" + program
                guard document.has(programSection) else {
                    throw ConfigError(
                        .inconsistent, file: fileOf(section), section: section, option: "programs", value: program,
                        reason: "[\(section)] names unknown program \(program)")
                }
                grouped.insert(programSection)
                processes += try processesFromSection(programSection, groupName: groupName, supervisord: supervisord)
            }
            groups.append(ProcessGroupConfig(name: groupName, priority: priority, processes: processes))
        }
        for section in sections where section.hasPrefix("program:") && !grouped.contains(section) {
            let programName = try converted(String(section.dropFirst(8)), section, nil, ConfigValues.name)
            let priority = try typed(section, "priority", default: 999, ConfigValues.integer)
            let processes = try processesFromSection(section, groupName: programName, supervisord: supervisord)
            groups.append(ProcessGroupConfig(name: programName, priority: priority, processes: processes))
        }
        return groups.sorted { ($0.priority, $0.name) < ($1.priority, $1.name) }
    }

    mutating func eventListenerPools(_ supervisord: SupervisordOptions) throws(ConfigError) -> [EventListenerPoolConfig] {
        var pools: [EventListenerPoolConfig] = []
        for section in document.sectionNames where section.hasPrefix("eventlistener:") {
            let name = String(section.dropFirst(14))
            let priority = try typed(section, "priority", default: -1, ConfigValues.integer)
            let bufferSize = try typed(section, "buffer_size", default: 10, ConfigValues.integer)
            if bufferSize < 1 {
                throw invalid(section, "buffer_size", value: String(bufferSize), reason: "[\(section)] section sets invalid buffer_size (\(bufferSize))")
            }
            let resultHandler = try string(section, "result_handler") ?? "supervisor.dispatchers:default_handler"
            var events: [String] = []
            for event in ConfigValues.stringList(try string(section, "events") ?? "").map({ $0.uppercased() }) where !events.contains(event) {
                guard ConfigValues.eventTypes.contains(event) else {
                    throw invalid(section, "events", value: event, reason: "Unknown event type \(event) in [\(section)] events")
                }
                events.append(event)
            }
            if events.isEmpty { throw missing(section, "events", reason: "[\(section)] section requires an \"events\" line") }
            if try typed(section, "redirect_stderr", default: false, ConfigValues.boolean) {
                throw invalid(
                    section, "redirect_stderr", value: "true",
                    reason: "[\(section)] section sets redirect_stderr=true but this is not allowed because it will interfere with the eventlistener protocol")
            }
            let processes = try processesFromSection(section, groupName: name, supervisord: supervisord)
            pools.append(
                EventListenerPoolConfig(
                    name: name, priority: priority, bufferSize: bufferSize, events: events,
                    resultHandler: resultHandler, processes: processes))
        }
        return pools.sorted { ($0.priority, $0.name) < ($1.priority, $1.name) }
    }

    /// `_processes_from_section`: the processes one `[program:x]` describes.
    mutating func processesFromSection(
        _ section: String, groupName: String, supervisord: SupervisordOptions
    ) throws(ConfigError) -> [ProcessConfig] {
        let programName = try converted(String(section[section.index(after: section.firstIndex(of: ":")!)...]), section, nil, ConfigValues.name)
        var common: [String: ExpansionValue] = [
            "program_name": .text(programName), "group_name": .text(groupName),
        ]
        func get<T>(_ option: String, _ fallback: T, _ convert: (String) throws(ConfigValues.Refusal) -> T) throws(ConfigError) -> T {
            try typed(section, option, default: fallback, extra: common, convert)
        }
        let priority = try get("priority", 999, ConfigValues.integer)
        let autostart = try get("autostart", true, ConfigValues.boolean)
        let autorestart = try get("autorestart", AutoRestart.unexpected, ConfigValues.autoRestart)
        let startsecs = try get("startsecs", 1, ConfigValues.integer)
        let startretries = try get("startretries", 3, ConfigValues.retryCount)
        let backoffMax = try get("backoff_max", Int?.none) { (text: String) throws(ConfigValues.Refusal) -> Int? in
            try ConfigValues.positiveInteger(text)
        }
        let stopsignal = try get("stopsignal", Int32(15), ConfigValues.signal)
        let stopwaitsecs = try get("stopwaitsecs", 10, ConfigValues.integer)
        let stopasgroup = try get("stopasgroup", false, ConfigValues.boolean)
        let killasgroup = try get("killasgroup", stopasgroup, ConfigValues.boolean)
        let exitcodes = try get("exitcodes", [0], ConfigValues.exitCodes)
        let killtree = try get("killtree", true, ConfigValues.boolean)
        let redirectStderr = try get("redirect_stderr", false, ConfigValues.boolean)
        let numprocs = try get("numprocs", 1, ConfigValues.integer)
        let numprocsStart = try get("numprocs_start", 0, ConfigValues.integer)
        let environmentText = try string(section, "environment", default: "", expand: false) ?? ""
        var capture: [LogChannel: (Int, Bool)] = [:]
        for channel in LogChannel.allCases {
            capture[channel] = (
                try get("\(channel.rawValue)_capture_maxbytes", 0, ConfigValues.byteSize),
                try get("\(channel.rawValue)_events_enabled", false, ConfigValues.boolean)
            )
        }
        var serverurl = try string(section, "serverurl", extra: common)
        if let url = serverurl, url.trimmingWhitespace().uppercased() == "AUTO" { serverurl = nil }
        let user = try string(section, "user", extra: common)
        let uid = try user.map { (u) throws(ConfigError) in try converted(u, section, "user", ConfigValues.userID) }
        let umask = try string(section, "umask", extra: common).map { (t) throws(ConfigError) in try converted(t, section, "umask", ConfigValues.octal) }
        let processNameText = try string(section, "process_name", default: "%(program_name)s", expand: false) ?? "%(program_name)s"
        let processNameFormat = try converted(processNameText, section, "process_name", ConfigValues.name)
        if numprocs > 1, !processNameFormat.containsUTF8("%(process_num)") {
            throw ConfigError(
                .inconsistent, file: fileOf(section), section: section, option: "process_name", value: processNameFormat,
                reason: "%(process_num) must be present within process_name when numprocs > 1")
        }
        if stopasgroup, !killasgroup {
            throw ConfigError(
                .inconsistent, file: fileOf(section), section: section, option: "killasgroup", value: "false",
                reason: "Cannot set stopasgroup=true and killasgroup=false")
        }

        var processes: [ProcessConfig] = []
        for number in numprocsStart..<(numprocsStart + max(0, numprocs)) {
            common["process_num"] = .number(number)
            common["numprocs"] = .number(numprocs)
            let environmentExpanded = try expanded(environmentText, section: section, option: "environment", file: document.value(section, "environment")?.file, extra: common)
            let ownEnvironment = try converted(environmentExpanded, section, "environment", ConfigValues.keyValuePairs)
            for (key, value) in ownEnvironment { common["ENV_" + key] = .text(value) }
            let directory = try string(section, "directory", extra: common)
            var channels: [LogChannel: LogChannelConfig] = [:]
            for channel in LogChannel.allCases {
                let key = "\(channel.rawValue)_logfile"
                var logfile = LogFileSetting.automatic
                var syslog = try get("\(channel.rawValue)_syslog", false, ConfigValues.boolean)
                if let text = try string(section, key, extra: common) {
                    switch text.lowercased() {
                    case "none", "off": logfile = .none
                    case "auto": logfile = .automatic
                    case "syslog":
                        warnings.append(
                            "For [\(section)], \(key)=syslog but this is deprecated and will be removed.  Use \(channel.rawValue)_syslog=true to enable syslog instead.")
                        logfile = .none
                        syslog = true
                    default: logfile = .path(try converted(text, section, key, ConfigValues.existingDirPath))
                    }
                }
                let backups = try get("\(key)_backups", 10, ConfigValues.integer)
                let maxbytes = try get("\(key)_maxbytes", 50 * 1024 * 1024, ConfigValues.byteSize)
                if logfile == .automatic, maxbytes == 0 {
                    warnings.append(
                        "For [\(section)], AUTO logging used for \(key) without rollover, set maxbytes > 0 to avoid filling up filesystem unintentionally")
                }
                let forward = try get("\(channel.rawValue)_forward", false, ConfigValues.boolean)
                let compress = try get("\(key)_compress", false, ConfigValues.boolean)
                let (captureMaxbytes, events) = capture[channel]!
                channels[channel] = LogChannelConfig(
                    logfile: logfile, maxbytes: maxbytes, backups: backups, captureMaxbytes: captureMaxbytes,
                    eventsEnabled: events, syslog: syslog, forward: forward)
                channels[channel]!.compress = compress
            }
            if redirectStderr {
                if case .path = channels[.stderr]!.logfile {
                    warnings.append(
                        "For [\(section)], redirect_stderr=true but stderr_logfile has also been set to a filename, the filename has been ignored")
                }
                channels[.stderr]!.logfile = .none
            }
            guard let command = try string(section, "command", extra: common) else {
                throw missing(section, "command", reason: "program section \(section) does not specify a command")
            }
            let name = try expanded(processNameFormat, section: section, option: "process_name", file: document.value(section, "process_name")?.file, extra: common)
            var process = ProcessConfig(name: name, command: command, groupName: groupName)
            process.programName = programName
            process.processNumber = number
            process.directory = directory
            process.umask = umask
            process.priority = priority
            process.autostart = autostart
            process.autorestart = autorestart
            process.startsecs = startsecs
            process.startretries = startretries
            process.backoffMax = backoffMax
            process.user = user
            process.uid = uid
            process.stdout = channels[.stdout]!
            process.stderr = channels[.stderr]!
            process.stopsignal = stopsignal
            process.stopwaitsecs = stopwaitsecs
            process.stopasgroup = stopasgroup
            process.killasgroup = killasgroup
            process.exitcodes = exitcodes
            process.redirectStderr = redirectStderr
            var environment = supervisord.environment
            for (key, value) in ownEnvironment { environment[key] = value }
            process.environment = environment
            process.serverurl = serverurl
            process.healthcheck = try healthCheck(section, extra: common)
            process.killtree = killtree
            processes.append(process)
        }
        return processes.sorted { ($0.priority, $0.name) < ($1.priority, $1.name) }
    }

    // MARK: - Servers, supervisorctl, RPC interfaces

    func credentials(_ section: String) throws(ConfigError) -> (String?, String?) {
        let username = try string(section, "username")
        let password = try string(section, "password")
        if (username == nil) != (password == nil) {
            throw ConfigError(
                .inconsistent, file: fileOf(section), section: section, option: username == nil ? "username" : "password",
                reason: "Section [\(section)] contains incomplete authentication: If a username or a password is specified, both the username and password must be specified")
        }
        return (username, password)
    }

    func inetServers() throws(ConfigError) -> [InetHTTPServerConfig] {
        var servers: [InetHTTPServerConfig] = []
        for section in document.sectionNames where section.hasPrefix("inet_http_server") {
            let (username, password) = try credentials(section)
            guard let port = try string(section, "port") else {
                throw missing(section, "port", reason: "section [\(section)] has no port value")
            }
            let address = try converted(port, section, "port", ConfigValues.inetAddress)
            servers.append(InetHTTPServerConfig(host: address.host, port: address.port, username: username, password: password))
        }
        return servers
    }

    func unixServers() throws(ConfigError) -> [UnixHTTPServerConfig] {
        var servers: [UnixHTTPServerConfig] = []
        for section in document.sectionNames where section.hasPrefix("unix_http_server") {
            guard let file = try string(section, "file") else {
                throw missing(section, "file", reason: "section [\(section)] has no file value")
            }
            let (username, password) = try credentials(section)
            var server = UnixHTTPServerConfig(
                file: FileSystem.absolute(FileSystem.expandUser(file.trimmingWhitespace())), username: username, password: password)
            if let chown = try string(section, "chown") {
                let owner = try converted(chown, section, "chown") { (t) throws(ConfigValues.Refusal) in
                    do { return try ConfigValues.userAndGroup(t) } catch { throw ConfigValues.Refusal(reason: "Invalid sockchown value \(t)") }
                }
                server.ownerUID = owner.uid
                server.ownerGID = owner.gid
            }
            if let chmod = try string(section, "chmod") {
                server.chmod = try converted(chmod, section, "chmod") { (t) throws(ConfigValues.Refusal) in
                    do { return try ConfigValues.octal(t) } catch { throw ConfigValues.Refusal(reason: "Invalid chmod value \(t)") }
                }
            }
            servers.append(server)
        }
        return servers
    }

    func supervisorctl() throws(ConfigError) -> SupervisorctlConfig? {
        let s = "supervisorctl"
        guard document.has(s) else { return nil }
        var config = SupervisorctlConfig()
        if var url = try string(s, "serverurl") {
            url = try converted(url, s, "serverurl", ConfigValues.url)
            if url.hasPrefix("unix://") { url = "unix://" + FileSystem.absolute(FileSystem.expandUser(String(url.dropFirst(7)))) }
            config.serverurl = url
        }
        config.prompt = try string(s, "prompt") ?? config.prompt
        config.username = try string(s, "username")
        config.password = try string(s, "password")
        if let history = try string(s, "history_file"), !history.isEmpty {
            config.historyFile = FileSystem.absolute(FileSystem.expandUser(history))
        }
        return config
    }

    func rpcInterfaces() throws(ConfigError) -> [RPCInterfaceConfig] {
        var interfaces: [RPCInterfaceConfig] = []
        let key = "supervisor.rpcinterface_factory"
        for section in document.sectionNames where section.hasPrefix("rpcinterface:") {
            guard let factory = try string(section, key) else {
                throw missing(section, key, reason: "section [\(section)] does not specify a \(key)")
            }
            var options: [String: String] = [:]
            for option in document.optionNames(section) where option != key {
                options[option] = try string(section, option)
            }
            interfaces.append(RPCInterfaceConfig(name: String(section.dropFirst(13)), factory: factory, options: options))
        }
        return interfaces
    }
}
