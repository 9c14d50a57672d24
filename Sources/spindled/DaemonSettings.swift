import SpindleSupervisor
#if canImport(Glibc)
import Glibc
#endif

/// A command-line value supervisord would refuse.
struct UsageError: Error {
    var message: String
}

/// What the command line says: the configuration file and the `[supervisord]` options it
/// overrides, checked as supervisord checks them.
struct DaemonSettings: Sendable {
    /// The configuration file, absolute.
    var configFile: String
    var nodaemon: Bool
    var silent: Bool
    var user: String?
    var umask: UInt32?
    var directory: String?
    var logfile: String?
    var logfileMaxbytes: Int?
    var logfileBackups: Int?
    var loglevel: LogLevel?
    var pidfile: String?
    var identifier: String?
    var childlogdir: String?
    var nocleanup: Bool
    var minfds: Int?
    var stripANSI: Bool
    var minprocs: Int?

    /// What a command line asks for.
    enum Request {
        /// Print the help and exit.
        case help
        /// Print the version and exit.
        case version
        /// Run with these settings.
        case run(DaemonSettings)
    }

    /// Reads a command line as supervisord does: the options in order, each value checked as it
    /// comes, `-h` and `-v` acting when reached, an option given twice refused; then the
    /// configuration file looked for when `-c` was not given.
    /// - Parameters:
    ///   - arguments: The command line after the program's name.
    /// - Returns: What the command line asks for.
    /// - Throws: `UsageError` naming the option and value supervisord would refuse.
    static func parse(_ arguments: [String]) throws(UsageError) -> Request {
        var settings = DaemonSettings()
        var seen: Set<String> = []
        var configFile: String?
        for option in try CommandLineOptions.split(arguments) {
            switch option.name {
            case "help": return .help
            case "version": return .version
            default: break
            }
            guard seen.insert(option.name).inserted else {
                throw UsageError(message: "conflicting command line option \(CommandLineOptions.pythonRepr(option.spelling))")
            }
            try settings.set(option, configFile: &configFile)
        }
        if let configFile {
            settings.configFile = DaemonSettings.absolute(configFile)
        } else {
            let executable = CommandLine.arguments.first ?? "spindled"
            if getuid() == 0 {
                let warning = "spindled: running as root and searching for the configuration file in default locations "
                    + "(including the working directory); you probably want -c with an absolute path.\n"
                writeStandardError(warning)
            }
            guard let found = SupervisorConfig.defaultConfigFile(executable: executable) else {
                let paths = SupervisorConfig.searchPaths(executable: executable).joined(separator: ", ")
                throw UsageError(
                    message: "No config file found at default paths (\(paths)); use the -c option to specify a config file at a different path")
            }
            settings.configFile = DaemonSettings.absolute(found)
        }
        return .run(settings)
    }

    private init() {
        configFile = ""
        nodaemon = false
        silent = false
        nocleanup = false
        stripANSI = false
    }

    /// Takes one option's value, checked as supervisord checks it.
    private mutating func set(_ option: CommandLineOptions.Given, configFile: inout String?) throws(UsageError) {
        let text = option.value
        let spelling = option.spelling
        switch option.name {
        case "configuration": configFile = text
        case "nodaemon": nodaemon = true
        case "silent": silent = true
        case "user": user = text
        case "umask":
            guard let value = UInt32(text, radix: 8) else { throw DaemonSettings.invalid(spelling, text, "\(text) can not be converted to an octal type") }
            umask = value
        case "directory":
            var info = stat()
            guard stat(text, &info) == 0, info.st_mode & S_IFMT == S_IFDIR else {
                throw DaemonSettings.invalid(spelling, text, "\(text) is not an existing directory")
            }
            directory = text
        case "logfile": logfile = try DaemonSettings.existingDirPath(spelling, text)
        case "logfile_maxbytes": logfileMaxbytes = try DaemonSettings.byteSize(spelling, text)
        case "logfile_backups": logfileBackups = try DaemonSettings.integer(spelling, text)
        case "loglevel":
            guard let level = LogLevel(configName: text) else { throw DaemonSettings.invalid(spelling, text, "bad logging level name '\(text)'") }
            loglevel = level
        case "pidfile": pidfile = try DaemonSettings.existingDirPath(spelling, text)
        case "identifier": identifier = text
        case "childlogdir":
            var info = stat()
            guard stat(text, &info) == 0, info.st_mode & S_IFMT == S_IFDIR else {
                throw DaemonSettings.invalid(spelling, text, "\(text) is not an existing directory")
            }
            childlogdir = DaemonSettings.absolute(text)
        case "nocleanup": nocleanup = true
        case "minfds": minfds = try DaemonSettings.integer(spelling, text)
        case "strip_ansi": stripANSI = true
        case "minprocs": minprocs = try DaemonSettings.integer(spelling, text)
        default: throw UsageError(message: "option \(spelling) not recognized")
        }
    }

    /// The `[supervisord]` options of a configuration with the command line's overrides, and
    /// the log and pid files made absolute.
    func apply(to config: SupervisorConfig) -> SupervisordOptions {
        var options = config.supervisord
        if nodaemon { options.nodaemon = true }
        if silent { options.silent = true }
        if let user { options.user = user }
        if let umask { options.umask = umask }
        if let directory { options.directory = directory }
        if let logfile { options.logfile = logfile }
        if let logfileMaxbytes { options.logfileMaxbytes = logfileMaxbytes }
        if let logfileBackups { options.logfileBackups = logfileBackups }
        if let loglevel { options.loglevel = loglevel }
        if let pidfile { options.pidfile = pidfile }
        if let identifier { options.identifier = identifier }
        if let childlogdir { options.childlogdir = childlogdir }
        if nocleanup { options.nocleanup = true }
        if let minfds { options.minfds = minfds }
        if stripANSI { options.stripANSI = true }
        if let minprocs { options.minprocs = minprocs }
        if options.logfile != "syslog" { options.logfile = DaemonSettings.absolute(options.logfile) }
        options.pidfile = DaemonSettings.absolute(options.pidfile)
        return options
    }

    // MARK: - Checks

    static func invalid(_ option: String, _ value: String, _ why: String) -> UsageError {
        UsageError(message: "invalid value for \(option) \(CommandLineOptions.pythonRepr(value)): \(why)")
    }

    static func integer(_ option: String, _ text: String) throws(UsageError) -> Int {
        guard let n = Int(text) else { throw invalid(option, text, "invalid literal for int() with base 10: \(CommandLineOptions.pythonRepr(text))") }
        return n
    }

    /// A size with an optional kb/mb/gb suffix (any case), refused with the message Python's
    /// `int()` gives for the part before the suffix.
    static func byteSize(_ option: String, _ text: String) throws(UsageError) -> Int {
        let lowered = text.lowercased()
        var digits = Substring(lowered)
        var multiplier = 1
        for (suffix, value) in [("kb", 1024), ("mb", 1024 * 1024), ("gb", 1024 * 1024 * 1024)] where lowered.hasSuffix(suffix) {
            digits = lowered.dropLast(2)
            multiplier = value
        }
        guard let n = Int(digits) else {
            throw invalid(option, text, "invalid literal for int() with base 10: \(CommandLineOptions.pythonRepr(String(digits)))")
        }
        let (size, overflow) = n.multipliedReportingOverflow(by: multiplier)
        guard !overflow else { throw invalid(option, text, "\(text) is too large") }
        return size
    }

    static func existingDirPath(_ option: String, _ text: String) throws(UsageError) -> String {
        let path = absolute(text)
        let directory = path[..<(path.lastIndex(of: "/") ?? path.startIndex)]
        var info = stat()
        if directory.isEmpty || (stat(String(directory), &info) == 0 && info.st_mode & S_IFMT == S_IFDIR) { return path }
        throw invalid(option, text, "The directory named as part of the path \(text) does not exist")
    }

    /// `path` made absolute against the working directory.
    static func absolute(_ path: String) -> String {
        if path.hasPrefix("/") { return path }
        guard let cwd = getcwd(nil, 0) else { return path }
        defer { free(cwd) }
        let base = String(cString: cwd)
        var parts: [Substring] = []
        for part in (base + "/" + path).split(separator: "/") {
            if part == "." { continue }
            if part == ".." {
                if !parts.isEmpty { parts.removeLast() }
                continue
            }
            parts.append(part)
        }
        return "/" + parts.joined(separator: "/")
    }
}
