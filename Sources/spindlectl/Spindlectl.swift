import ArgumentParser
import SpindleSupervisor
import SpindleSupervisorServer
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// `spindlectl`: supervisorctl's drop-in. Runs one action against a supervisord (or spindled),
/// or an interactive shell when no action is given.
@main
struct Spindlectl: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "spindlectl",
        abstract: "Control applications run by supervisord or spindled (a drop-in for supervisorctl).",
        discussion: """
            Actions are commands like "tail" or "stop" (type "help" in the shell for the list). \
            Without an action, an interactive shell starts. The server URL, user name and password \
            come from the options, else from the [supervisorctl] section of the configuration file \
            (-c, or supervisord's search path), else http://localhost:9001.
            """)

    @Option(name: [.customShort("c"), .customLong("configuration")], help: ArgumentHelp("The configuration file.", valueName: "FILENAME"))
    var configurationFile: String?

    @Flag(name: [.customShort("i"), .customLong("interactive")], help: "Start an interactive shell.")
    var interactive = false

    @Option(name: [.customShort("s"), .customLong("serverurl")], help: ArgumentHelp("The URL supervisord listens on.", valueName: "URL"))
    var serverURL: String?

    @Option(name: [.customShort("u"), .customLong("username")], help: ArgumentHelp("The user name.", valueName: "USERNAME"))
    var username: String?

    @Option(name: [.customShort("p"), .customLong("password")], help: ArgumentHelp("The password.", valueName: "PASSWORD"))
    var password: String?

    @Option(name: [.customShort("r"), .customLong("history_file"), .customLong("history-file")], help: ArgumentHelp("Accepted for compatibility; no history is kept.", valueName: "FILE"))
    var historyFile: String?

    @Argument(parsing: .captureForPassthrough, help: "The action and its arguments.")
    var action: [String] = []

    /// Parses the command line and runs; a usage error is reported as supervisorctl reports it.
    static func main() {
        let command: Spindlectl
        do {
            command = try Spindlectl.parse()
        } catch {
            if exitCode(for: error) == .success {
                print(fullMessage(for: error))
                Glibc.exit(0)
            }
            fail(message(for: error))
        }
        Glibc.exit(command.execute())
    }

    mutating func run() throws {}

    /// Runs the action or the shell.
    /// - Returns: The exit status.
    func execute() -> Int32 {
        var settings = SupervisorctlConfig()
        var file = configurationFile
        if file == nil { file = SupervisorConfig.defaultConfigFile(executable: CommandLine.arguments.first ?? "spindlectl") }
        if let file {
            do {
                settings = try SupervisorctlConfig.load(path: file)
            } catch {
                var message = error.reason
                if error.kind == .invalidValue || error.kind == .badExpansion {
                    message = error.description
                    if message.hasPrefix("Error: ") { message.removeFirst(7) }
                }
                Spindlectl.fail(message)
            }
        }
        if let serverURL {
            guard serverURL.hasPrefix("unix://") || serverURL.hasPrefix("http://") || serverURL.contains(":") else {
                Spindlectl.fail("invalid value for -s '\(serverURL)': value '\(serverURL)' is not a URL")
            }
            settings.serverurl = serverURL
        }
        if let username { settings.username = username }
        if let password { settings.password = password }
        let isInteractive = interactive || action.isEmpty
        signal(SIGPIPE, SIG_IGN)
        installInterruptHandler()
        let controller = SupervisorController(
            client: SupervisorClient(serverURL: settings.serverurl, username: settings.username, password: settings.password),
            interactive: isInteractive, prompt: settings.prompt,
            output: { Terminal.write(Array(($0 + "\n").utf8)) },
            write: { Terminal.write($0) },
            writeError: { Terminal.write(Array($0.utf8), to: 2) },
            readLine: Terminal.readLine, readSecret: Terminal.readSecret,
            interrupted: { interruptFlag.exchange(false, ordering: .relaxed) },
            interruptible: { interruptMode.store($0, ordering: .relaxed) })
        if !action.isEmpty {
            controller.execute(action.joined(separator: " "))
            return controller.exitStatus
        }
        controller.runShell()
        return 0
    }

    /// Prints `Error: message` and the help hint on standard error and exits with status 2.
    static func fail(_ message: String) -> Never {
        Terminal.write(Array("Error: \(message)\nFor help, use \(CommandLine.arguments.first ?? "spindlectl") -h\n".utf8), to: 2)
        Glibc.exit(2)
    }
}

/// Set by SIGINT while an operation is interruptible.
let interruptFlag = Atomic<Bool>(false)
/// Whether SIGINT ends the operation under way (true) or the program (false).
let interruptMode = Atomic<Bool>(false)

/// SIGINT: ends a log stream or `fg` when one runs, else the program, by the signal.
func installInterruptHandler() {
    var action = sigaction()
    action.__sigaction_handler.sa_handler = { signal in
        if interruptMode.load(ordering: .relaxed) {
            interruptFlag.store(true, ordering: .relaxed)
        } else {
            Glibc.signal(signal, SIG_DFL)
            raise(signal)
        }
    }
    sigemptyset(&action.sa_mask)
    action.sa_flags = 0
    sigaction(SIGINT, &action, nil)
}
