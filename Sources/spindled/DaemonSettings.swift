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

    init(_ command: Spindled) throws(UsageError) {
        if let file = command.configurationFile {
            configFile = DaemonSettings.absolute(file)
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
            configFile = DaemonSettings.absolute(found)
        }
        nodaemon = command.nodaemon
        silent = command.silent
        user = command.user
        umask = try command.umask.map { (text) throws(UsageError) in
            guard let value = UInt32(text, radix: 8) else { throw DaemonSettings.invalid("-m", text, "\(text) can not be converted to an octal type") }
            return value
        }
        directory = try command.directory.map { (text) throws(UsageError) in
            var info = stat()
            guard stat(text, &info) == 0, info.st_mode & S_IFMT == S_IFDIR else {
                throw DaemonSettings.invalid("-d", text, "\(text) is not an existing directory")
            }
            return text
        }
        logfile = try command.logfile.map { (text) throws(UsageError) in try DaemonSettings.existingDirPath("-l", text) }
        logfileMaxbytes = try command.logfileMaxbytes.map { (text) throws(UsageError) in try DaemonSettings.byteSize("-y", text) }
        logfileBackups = try command.logfileBackups.map { (text) throws(UsageError) in try DaemonSettings.integer("-z", text) }
        loglevel = try command.loglevel.map { (text) throws(UsageError) in
            guard let level = LogLevel(configName: text) else { throw DaemonSettings.invalid("-e", text, "bad logging level name '\(text)'") }
            return level
        }
        pidfile = try command.pidfile.map { (text) throws(UsageError) in try DaemonSettings.existingDirPath("-j", text) }
        identifier = command.identifier
        childlogdir = try command.childlogdir.map { (text) throws(UsageError) in
            var info = stat()
            guard stat(text, &info) == 0, info.st_mode & S_IFMT == S_IFDIR else {
                throw DaemonSettings.invalid("-q", text, "\(text) is not an existing directory")
            }
            return DaemonSettings.absolute(text)
        }
        nocleanup = command.nocleanup
        minfds = try command.minfds.map { (text) throws(UsageError) in try DaemonSettings.integer("-a", text) }
        stripANSI = command.stripANSI
        minprocs = try command.minprocs.map { (text) throws(UsageError) in try DaemonSettings.integer("--minprocs", text) }
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
        UsageError(message: "invalid value for \(option) '\(value)': \(why)")
    }

    static func integer(_ option: String, _ text: String) throws(UsageError) -> Int {
        guard let n = Int(text) else { throw invalid(option, text, "invalid literal for int() with base 10: '\(text)'") }
        return n
    }

    static func byteSize(_ option: String, _ text: String) throws(UsageError) -> Int {
        let lowered = text.lowercased()
        for (suffix, multiplier) in [("kb", 1024), ("mb", 1024 * 1024), ("gb", 1024 * 1024 * 1024)] where lowered.hasSuffix(suffix) {
            if let n = Int(lowered.dropLast(2)) { return n * multiplier }
            throw invalid(option, text, "'\(text)' is not a valid byte size")
        }
        guard let n = Int(lowered) else { throw invalid(option, text, "'\(text)' is not a valid byte size") }
        return n
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
