import ArgumentParser

/// The `spindle` command: Spindle's tools for the shell.
@main
struct SpindleCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "spindle",
        abstract: "Python's concurrent-execution tools for the shell.",
        subcommands: []
    )
}
