import SpindleSupervisor
import SpindleSupervisorServer
#if canImport(Glibc)
import Glibc
#endif

/// `spindled`: supervisord's drop-in. Reads a supervisord.conf, becomes a daemon, starts the
/// configured programs and serves supervisord's XML-RPC interface, so that supervisorctl (or
/// spindlectl) drives it.
@main
enum Spindled {
    /// Parses the command line and runs; a usage error is reported as supervisord reports it
    /// (`Error: ...` and a hint on standard error, status 2).
    static func main() {
        let request: DaemonSettings.Request
        do {
            request = try DaemonSettings.parse(Array(CommandLine.arguments.dropFirst()))
        } catch {
            Usage.fail(error.message)
        }
        switch request {
        case .help:
            print(CommandLineOptions.help(program: CommandLine.arguments.first ?? "spindled"), terminator: "")
            Glibc.exit(0)
        case .version:
            print(SupervisorRPCInterface.supervisorVersion)
            Glibc.exit(0)
        case .run(let settings):
            Glibc.exit(SupervisordRun(settings: settings).run())
        }
    }
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
