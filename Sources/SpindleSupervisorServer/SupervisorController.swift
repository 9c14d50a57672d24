import SpindleSupervisor

/// supervisorctl's commands over a `SupervisorClient`: `status`, `start`, `stop`, `restart`,
/// `signal`, `tail`, `maintail`, `fg`, `reread`, `update`, `add`, `remove`, `avail`, `pid`,
/// `clear`, `reload`, `shutdown`, `version`, `open`, `help`, `quit` — with supervisorctl 4.3.0's
/// wording and exit statuses (`LSBInitExitStatuses`, and `LSBStatusExitStatuses` for `status`).
///
/// `execute(_:)` runs one command line, as supervisorctl runs the action given on its command
/// line; `runShell()` is the interactive shell. A controller keeps state between commands (the
/// exit status, the server URL `open` changes) and is meant to be used from one thread.
public final class SupervisorController {
    /// supervisorctl's `LSBInitExitStatuses` and `LSBStatusExitStatuses`.
    public enum ExitStatus {
        /// Success.
        public static let success: Int32 = 0
        /// A generic failure.
        public static let generic: Int32 = 1
        /// Bad arguments.
        public static let invalidArguments: Int32 = 2
        /// The server lacks the supervisor namespace (and `status`: a process is not running).
        public static let unimplementedFeature: Int32 = 3
        /// The server refused the connection (and `status`: unknown name, or no server).
        public static let insufficientPrivileges: Int32 = 4
        /// The server speaks another API version.
        public static let notInstalled: Int32 = 5
        /// The program is not running (a failed start, a dead process), or the socket is missing.
        public static let notRunning: Int32 = 7
        /// `status`: a process is not running.
        public static let statusNotRunning: Int32 = 3
        /// `status`: a name is unknown, or the server cannot be reached.
        public static let statusUnknown: Int32 = 4
    }

    /// The connection settings (`open` changes the URL).
    public var client: SupervisorClient
    /// Whether the controller runs an interactive shell: it then asks before `shutdown` and
    /// `reload`, and for credentials on a 401.
    public var interactive: Bool
    /// The shell's prompt, without the `> `.
    public var prompt: String
    /// The exit status of the commands run so far.
    public internal(set) var exitStatus = ExitStatus.success

    let output: (String) -> Void
    let write: @Sendable ([UInt8]) -> Void
    let writeError: (String) -> Void
    let readLine: (String) -> String?
    let readSecret: (String) -> String?
    let interrupted: () -> Bool
    let interruptible: (Bool) -> Void

    /// Creates a controller.
    /// - Parameters:
    ///   - client: The server and credentials.
    ///   - interactive: Whether this is an interactive session.
    ///   - prompt: The prompt word.
    ///   - output: Prints a line (the text and a newline).
    ///   - write: Writes raw bytes to standard output (log streams; `fg` writes from other threads).
    ///   - writeError: Writes text to standard error.
    ///   - readLine: Shows a prompt and reads a line; `nil` at the end of input.
    ///   - readSecret: Shows a prompt and reads a line without echo; `nil` at the end of input.
    ///   - interrupted: Whether Ctrl-C was pressed since it was last asked (it ends `tail -f`).
    ///   - interruptible: Told `true` when Ctrl-C is to end the operation under way rather than
    ///     the program (while following a log, in `fg`), and `false` afterwards.
    public init(
        client: SupervisorClient, interactive: Bool, prompt: String = "supervisor",
        output: @escaping (String) -> Void, write: @escaping @Sendable ([UInt8]) -> Void, writeError: @escaping (String) -> Void,
        readLine: @escaping (String) -> String?, readSecret: @escaping (String) -> String?, interrupted: @escaping () -> Bool,
        interruptible: @escaping (Bool) -> Void = { _ in }
    ) {
        self.client = client
        self.interactive = interactive
        self.prompt = prompt
        self.output = output
        self.write = write
        self.writeError = writeError
        self.readLine = readLine
        self.readSecret = readSecret
        self.interrupted = interrupted
        self.interruptible = interruptible
    }

    // MARK: - Command lines

    /// The commands, as `help` lists them.
    static let commands = [
        "add", "avail", "clear", "exit", "fg", "maintail", "open", "pid", "quit", "reload", "remove", "reread", "restart",
        "shutdown", "signal", "start", "status", "stop", "tail", "update", "version",
    ]

    /// Runs one command line (supervisorctl's `onecmd`).
    /// - Parameter line: The command and its arguments.
    /// - Returns: Whether the command ends the shell (`quit`, `exit`, end of input).
    @discardableResult
    public func execute(_ line: String) -> Bool {
        let (command, argument, whole) = SupervisorController.parse(line)
        if whole.isEmpty { return false }
        guard let command, !command.isEmpty, command == "EOF" || command == "help" || SupervisorController.commands.contains(command) else {
            output("*** Unknown syntax: \(whole)")
            exitStatus = ExitStatus.generic
            return false
        }
        do {
            return try dispatch(command, argument)
        } catch {
            if case .http(let status, _) = error, status == 401 {
                output("Server requires authentication")
                if interactive {
                    let username = readLine("Username:") ?? ""
                    let password = readSecret("Password:") ?? ""
                    output("")
                    client.username = username
                    client.password = password
                    return execute(line)
                }
                exitStatus = ExitStatus.generic
                // supervisorctl then runs the command once more, and reports that failure too.
                do {
                    return try dispatch(command, argument)
                } catch {
                    output("error: \(error)")
                    exitStatus = ExitStatus.generic
                    return false
                }
            }
            output("error: \(error)")
            exitStatus = ExitStatus.generic
            return false
        }
    }

    /// Python's `cmd.Cmd.parseline`: the command word, the rest, and the stripped line.
    static func parse(_ line: String) -> (command: String?, argument: String, line: String) {
        var text = line.trimmingASCIIWhitespace()
        if text.hasPrefix("?") { text = "help " + text.dropFirst() }
        guard !text.isEmpty else { return (nil, "", "") }
        let identifier: (Character) -> Bool = { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_") }
        let command = String(text.prefix(while: identifier))
        let argument = String(text.dropFirst(command.count)).trimmingASCIIWhitespace()
        return (command, argument, text)
    }

    func dispatch(_ command: String, _ argument: String) throws(SupervisorClientError) -> Bool {
        switch command {
        case "EOF", "quit", "exit":
            output("")
            return true
        case "help": help(argument)
        case "status": try status(argument)
        case "start": try start(argument)
        case "stop": try stop(argument)
        case "restart": try restart(argument)
        case "signal": try signal(argument)
        case "tail": try tail(argument)
        case "maintail": try maintail(argument)
        case "pid": try pid(argument)
        case "avail": try avail(argument)
        case "reread": try reread(argument)
        case "update": try update(argument)
        case "add": try add(argument)
        case "remove": try remove(argument)
        case "clear": try clear(argument)
        case "reload": try reload(argument)
        case "shutdown": try shutdown(argument)
        case "version": try version(argument)
        case "open": try open(argument)
        case "fg": try foreground(argument)
        default: break
        }
        return false
    }

    // MARK: - The shell

    /// The interactive shell: shows the status, then reads commands until `quit`, `exit` or the
    /// end of input. Its exit status is always 0, as supervisorctl's.
    public func runShell() {
        var pending = ["status"]
        while true {
            let line: String
            if !pending.isEmpty {
                line = pending.removeFirst()
            } else if let read = readLine(prompt + "> ") {
                line = read
            } else {
                line = "EOF"
            }
            if execute(line) { break }
        }
        exitStatus = ExitStatus.success
    }

    // MARK: - Helpers

    /// The `supervisor` namespace.
    func call(_ method: String, _ params: [XMLRPCValue] = []) throws(SupervisorClientError) -> XMLRPCValue {
        try client.call("supervisor." + method, params)
    }

    /// supervisorctl's `upcheck`: is the server there, and does it speak API 3.0?
    func upcheck() throws(SupervisorClientError) -> Bool {
        do {
            let api = try call("getVersion")
            if api.stringValue != SupervisorRPCInterface.apiVersion {
                output(
                    "Sorry, this version of supervisorctl expects to talk to a server with API version \(SupervisorRPCInterface.apiVersion), "
                        + "but the remote version is \(api.stringValue ?? api.description).")
                exitStatus = ExitStatus.notInstalled
                return false
            }
        } catch {
            switch error {
            case .fault(let code, _) where code == SupervisorFault.unknownMethod().code:
                output(
                    "Sorry, supervisord responded but did not recognize the supervisor namespace commands that supervisorctl "
                        + "uses to control it.  Please check that the [rpcinterface:supervisor] section is enabled in the "
                        + "configuration file (see sample.conf).")
                exitStatus = ExitStatus.unimplementedFeature
                return false
            case .connection(let code, _) where code == 111:
                output("\(client.serverURL) refused connection")
                exitStatus = ExitStatus.insufficientPrivileges
                return false
            case .connection(let code, _) where code == 2:
                output("\(client.serverURL) no such file")
                exitStatus = ExitStatus.notRunning
                return false
            case .http:
                throw error
            default:
                exitStatus = ExitStatus.generic
                throw error
            }
        }
        return true
    }

    /// supervisorctl's `set_exitstatus_from_xmlrpc_fault`.
    func setExitStatus(fromFault code: Int, ignoring ignored: Int? = nil) {
        if code == ignored || code == SupervisorFault.success.code { return }
        if [SupervisorFault.spawnError("").code, SupervisorFault.abnormalTermination("").code, SupervisorFault.notRunning("").code].contains(code) {
            exitStatus = ExitStatus.notRunning
        } else {
            exitStatus = ExitStatus.generic
        }
    }

    /// The words of an argument.
    static func words(_ argument: String) -> [String] {
        argument.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\n" || $0 == "\r" }).map(String.init)
    }
}

/// A controller keeps per-session state and calls its closures from the thread that drives it.
@available(*, unavailable)
extension SupervisorController: Sendable {}
