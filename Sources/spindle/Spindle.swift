import ArgumentParser
import SpindleSystem
#if canImport(Glibc)
import Glibc
#endif

/// The `spindle` command: Spindle's tools for the shell.
///
/// A subcommand is a `ParsableCommand` in a file of its own, listed in `subcommands`. The root
/// stays synchronous on purpose: an async root starts Swift's concurrency threads before any
/// subcommand runs, and `spindle daemonize` must still be single-threaded when it forks.
@main
struct SpindleCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "spindle",
        abstract: "Python's concurrent-execution tools for the shell.",
        subcommands: [
            RunCommand.self,
            DaemonizeCommand.self,
        ]
    )

    /// Parses the command line and runs the chosen subcommand. Usage errors — an unknown option,
    /// a missing argument, a `ValidationError` — exit with status 2 after the usage, as Python's
    /// argparse does (ArgumentParser's own choice is 64); everything else is ArgumentParser's
    /// usual handling.
    static func main() {
        var command: any ParsableCommand
        do {
            command = try parseAsRoot()
        } catch {
            exitForUsage(error)
        }
        do {
            try command.run()
        } catch let error as ValidationError {
            exitForUsage(error)
        } catch {
            exit(withError: error)
        }
    }

    /// Reports a usage error and exits with status 2 (help and version requests exit 0 as usual).
    /// - Parameter error: The parse or validation error.
    private static func exitForUsage(_ error: any Error) -> Never {
        if exitCode(for: error) == .success { exit(withError: error) }
        writeToStandardError(fullMessage(for: error) + "\n")
        Glibc.exit(2)
    }
}
