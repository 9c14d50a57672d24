import ArgumentParser
import SpindleSupervisor
import SpindleSupervisorServer
#if canImport(Glibc)
import Glibc
#endif

/// `spindled`: supervisord's drop-in. Reads a supervisord.conf, becomes a daemon, starts the
/// configured programs and serves supervisord's XML-RPC interface, so that supervisorctl (or
/// spindlectl) drives it.
@main
struct Spindled: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "spindled",
        abstract: "Run a set of applications as daemons (a drop-in for supervisord).",
        discussion: """
            Without -c, the configuration is looked for where supervisord looks: ../etc/supervisord.conf \
            and ../supervisord.conf next to the executable, supervisord.conf and etc/supervisord.conf in \
            the working directory, /etc/supervisord.conf and /etc/supervisor/supervisord.conf. Options \
            given here take precedence over the [supervisord] section.

            Signals: SIGTERM, SIGINT and SIGQUIT stop every program (in reverse priority) and exit; \
            SIGHUP stops every program and starts again with the configuration read anew; SIGUSR2 \
            reopens the log files.
            """)

    @Option(name: [.customShort("c"), .customLong("configuration")], help: ArgumentHelp("The configuration file.", valueName: "FILENAME"))
    var configurationFile: String?

    @Flag(name: [.customShort("n"), .customLong("nodaemon")], help: "Run in the foreground (nodaemon=true).")
    var nodaemon = false

    @Flag(name: [.customShort("s"), .customLong("silent")], help: "No log on standard output in the foreground (silent=true).")
    var silent = false

    @Flag(name: [.customShort("v"), .customLong("version")], help: "Print the supervisord version this implements and exit.")
    var version = false

    @Option(name: [.customShort("u"), .customLong("user")], help: ArgumentHelp("Run as this user (or numeric uid).", valueName: "USER"))
    var user: String?

    @Option(name: [.customShort("m"), .customLong("umask")], help: ArgumentHelp("The umask of the daemon (default 022).", valueName: "UMASK"))
    var umask: String?

    @Option(name: [.customShort("d"), .customLong("directory")], help: ArgumentHelp("The directory to change to when daemonized.", valueName: "DIRECTORY"))
    var directory: String?

    @Option(name: [.customShort("l"), .customLong("logfile")], help: ArgumentHelp("The log file.", valueName: "FILENAME"))
    var logfile: String?

    @Option(name: [.customShort("y"), .customLong("logfile_maxbytes")], help: ArgumentHelp("The size at which the log is rotated.", valueName: "BYTES"))
    var logfileMaxbytes: String?

    @Option(name: [.customShort("z"), .customLong("logfile_backups")], help: ArgumentHelp("The rotated logs kept.", valueName: "NUM"))
    var logfileBackups: String?

    @Option(name: [.customShort("e"), .customLong("loglevel")], help: ArgumentHelp("The log level (critical, error, warn, info, debug, trace, blather).", valueName: "LEVEL"))
    var loglevel: String?

    @Option(name: [.customShort("j"), .customLong("pidfile")], help: ArgumentHelp("The pid file.", valueName: "FILENAME"))
    var pidfile: String?

    @Option(name: [.customShort("i"), .customLong("identifier")], help: ArgumentHelp("The identifier of this supervisor.", valueName: "STR"))
    var identifier: String?

    @Option(name: [.customShort("q"), .customLong("childlogdir")], help: ArgumentHelp("The directory of AUTO child logs.", valueName: "DIRECTORY"))
    var childlogdir: String?

    @Flag(name: [.customShort("k"), .customLong("nocleanup")], help: "Keep old AUTO child logs at start.")
    var nocleanup = false

    @Option(name: [.customShort("a"), .customLong("minfds")], help: ArgumentHelp("The file descriptors that must be available.", valueName: "NUM"))
    var minfds: String?

    @Flag(name: [.customShort("t"), .customLong("strip_ansi")], help: "Strip ANSI escapes from child output.")
    var stripANSI = false

    @Option(name: .customLong("minprocs"), help: ArgumentHelp("The processes that must be available.", valueName: "NUM"))
    var minprocs: String?

    /// Parses the command line and runs; a usage error is reported as supervisord reports it
    /// (`Error: ...` and a hint on standard error, status 2).
    static func main() {
        let command: Spindled
        do {
            command = try Spindled.parse()
        } catch {
            if exitCode(for: error) == .success {
                print(fullMessage(for: error))
                Glibc.exit(0)
            }
            Usage.fail(message(for: error))
        }
        if command.version {
            print(SupervisorRPCInterface.supervisorVersion)
            Glibc.exit(0)
        }
        let settings: DaemonSettings
        do {
            settings = try DaemonSettings(command)
        } catch {
            Usage.fail(error.message)
        }
        Glibc.exit(SupervisordRun(settings: settings).run())
    }

    mutating func run() throws {}
}

/// supervisord's usage errors.
enum Usage {
    /// Prints `Error: message` and the help hint on standard error and exits with status 2.
    static func fail(_ message: String) -> Never {
        let text = "Error: \(message)\nFor help, use \(CommandLine.arguments.first ?? "spindled") -h\n"
        writeStandardError(text)
        Glibc.exit(2)
    }
}

/// Writes text to standard error.
func writeStandardError(_ text: String) {
    let bytes = Array(text.utf8)
    var offset = 0
    while offset < bytes.count {
        let n = bytes.withUnsafeBytes { write(2, $0.baseAddress! + offset, $0.count - offset) }
        if n < 0, errno == EINTR { continue }
        if n <= 0 { return }
        offset += n
    }
}
