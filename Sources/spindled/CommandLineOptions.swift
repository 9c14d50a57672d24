/// spindled's command line, split as supervisord splits its own (Python's `getopt.getopt`):
/// short options may be grouped (`-nc FILE`) and take their value attached or as the next
/// argument; long options may be abbreviated to a unique prefix and take `--name=value` or
/// `--name value`; `--` ends the options, and so does the first argument that is not one.
///
/// spindled parses its command line itself rather than through swift-argument-parser: that
/// library loads FoundationEssentials, whose pages were ~2 MiB of a daemon's resident memory.
struct CommandLineOptions {
    /// One option spindled takes.
    struct Spec: Sendable {
        /// The one-letter spelling, if any.
        var short: Character?
        /// The long spelling, without the dashes.
        var long: String
        /// The value's name in the help, or nil for a flag.
        var valueName: String?
        /// The help's one line.
        var help: String
    }

    /// An option as given, in the order given.
    struct Given: Sendable {
        /// The option's long name, which identifies it.
        var name: String
        /// The spelling as supervisord reports it: `-c`, or the full long name (`--configuration`
        /// for `--conf`).
        var spelling: String
        /// The value, empty for a flag.
        var value: String
    }

    /// Every option, in the help's order.
    static let specs: [Spec] = [
        Spec(short: "c", long: "configuration", valueName: "FILENAME", help: "The configuration file."),
        Spec(short: "n", long: "nodaemon", help: "Run in the foreground (nodaemon=true)."),
        Spec(short: "s", long: "silent", help: "No log on standard output in the foreground (silent=true)."),
        Spec(short: "v", long: "version", help: "Print the supervisord version this implements and exit."),
        Spec(short: "u", long: "user", valueName: "USER", help: "Run as this user (or numeric uid)."),
        Spec(short: "m", long: "umask", valueName: "UMASK", help: "The umask of the daemon (default 022)."),
        Spec(short: "d", long: "directory", valueName: "DIRECTORY", help: "The directory to change to when daemonized."),
        Spec(short: "l", long: "logfile", valueName: "FILENAME", help: "The log file."),
        Spec(short: "y", long: "logfile_maxbytes", valueName: "BYTES", help: "The size at which the log is rotated."),
        Spec(short: "z", long: "logfile_backups", valueName: "NUM", help: "The rotated logs kept."),
        Spec(short: "e", long: "loglevel", valueName: "LEVEL", help: "The log level (critical, error, warn, info, debug, trace, blather)."),
        Spec(short: "j", long: "pidfile", valueName: "FILENAME", help: "The pid file."),
        Spec(short: "i", long: "identifier", valueName: "STR", help: "The identifier of this supervisor."),
        Spec(short: "q", long: "childlogdir", valueName: "DIRECTORY", help: "The directory of AUTO child logs."),
        Spec(short: "k", long: "nocleanup", help: "Keep old AUTO child logs at start."),
        Spec(short: "a", long: "minfds", valueName: "NUM", help: "The file descriptors that must be available."),
        Spec(short: "t", long: "strip_ansi", help: "Strip ANSI escapes from child output."),
        Spec(short: nil, long: "minprocs", valueName: "NUM", help: "The processes that must be available."),
        Spec(short: "h", long: "help", help: "Show this help and exit (also -?)."),
    ]

    /// Splits `arguments` (without the program's name) into options.
    /// - Parameters:
    ///   - arguments: The command line after the program's name.
    /// - Returns: The options in the order given.
    /// - Throws: `UsageError` with getopt's message for an unknown option, a missing or
    ///   unexpected value, an ambiguous prefix, or supervisord's for a positional argument.
    static func split(_ arguments: [String]) throws(UsageError) -> [Given] {
        var given: [Given] = []
        var rest = arguments[...]
        while let argument = rest.first, argument.hasPrefix("-"), argument != "-" {
            rest = rest.dropFirst()
            if argument == "--" { break }
            if argument.hasPrefix("--") {
                given.append(try long(argument.dropFirst(2), rest: &rest))
            } else {
                var letters = argument.dropFirst()
                while let letter = letters.first {
                    letters = letters.dropFirst()
                    let name: String
                    if letter == "?" {
                        name = "help"
                    } else if let spec = specs.first(where: { $0.short == letter }) {
                        name = spec.long
                        if spec.valueName != nil {
                            var value = String(letters)
                            letters = ""
                            if value.isEmpty {
                                guard let next = rest.first else { throw UsageError(message: "option -\(letter) requires argument") }
                                value = next
                                rest = rest.dropFirst()
                            }
                            given.append(Given(name: name, spelling: "-\(letter)", value: value))
                            continue
                        }
                    } else {
                        throw UsageError(message: "option -\(letter) not recognized")
                    }
                    given.append(Given(name: name, spelling: "-\(letter)", value: ""))
                }
            }
        }
        if !rest.isEmpty {
            throw UsageError(message: "positional arguments are not supported: [\(rest.map(pythonRepr).joined(separator: ", "))]")
        }
        return given
    }

    /// One `--name[=value]` option (given without its dashes).
    private static func long(_ text: Substring, rest: inout ArraySlice<String>) throws(UsageError) -> Given {
        var name = String(text)
        var value: String?
        if let equals = text.firstIndex(of: "=") {
            name = String(text[..<equals])
            value = String(text[text.index(after: equals)...])
        }
        let candidates = specs.filter { $0.long.hasPrefix(name) }
        guard !candidates.isEmpty else { throw UsageError(message: "option --\(name) not recognized") }
        guard let spec = candidates.first(where: { $0.long == name }) ?? (candidates.count == 1 ? candidates[0] : nil) else {
            throw UsageError(message: "option --\(name) not a unique prefix")
        }
        if spec.valueName != nil {
            if value == nil {
                guard let next = rest.first else { throw UsageError(message: "option --\(spec.long) requires argument") }
                value = next
                rest = rest.dropFirst()
            }
        } else if value != nil {
            throw UsageError(message: "option --\(spec.long) must not have an argument")
        }
        return Given(name: spec.long, spelling: "--\(spec.long)", value: value ?? "")
    }

    /// `text` as Python's `repr` writes a string, which is how supervisord quotes values in
    /// its messages.
    static func pythonRepr(_ text: String) -> String {
        let quote: Character = text.contains("'") && !text.contains("\"") ? "\"" : "'"
        var out = String(quote)
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where Character(scalar) == quote: out += "\\\(quote)"
            case _ where scalar.value < 0x20 || scalar.value == 0x7F:
                let hex = String(scalar.value, radix: 16)
                out += "\\x" + (hex.count < 2 ? "0" + hex : hex)
            default: out.unicodeScalars.append(scalar)
            }
        }
        out.append(quote)
        return out
    }

    /// The `-h` text.
    /// - Parameters:
    ///   - program: The program's name.
    /// - Returns: The help, ending in a newline.
    static func help(program: String) -> String {
        let paragraphs = [
            "\(program) -- run a set of applications as daemons (a drop-in for supervisord).",
            "Usage: \(program) [options]",
            "Without -c, the configuration is looked for where supervisord looks: ../etc/supervisord.conf and "
                + "../supervisord.conf next to the executable, supervisord.conf and etc/supervisord.conf in the working "
                + "directory, /etc/supervisord.conf and /etc/supervisor/supervisord.conf. Options given here take "
                + "precedence over the [supervisord] section.",
            "Signals: SIGTERM, SIGINT and SIGQUIT stop every program (in reverse priority) and exit; SIGHUP stops "
                + "every program and starts again with the configuration read anew; SIGUSR2 reopens the log files.",
            "Options:",
        ]
        var text = paragraphs.map { wrap($0, width: 80, indent: "") }.joined(separator: "\n\n") + "\n"
        let column = 32
        let indent = String(repeating: " ", count: column)
        for spec in specs {
            var left = "  " + (spec.short.map { "-\($0), " } ?? "") + "--\(spec.long)"
            if let valueName = spec.valueName { left += " \(valueName)" }
            if left.count + 2 <= column {
                left += String(repeating: " ", count: column - left.count)
            } else {
                left += "\n" + indent
            }
            text += left + wrap(spec.help, width: 80 - column, indent: indent) + "\n"
        }
        return text
    }

    /// `text` broken at spaces into lines of at most `width` characters, every line after the
    /// first starting with `indent`.
    private static func wrap(_ text: String, width: Int, indent: String) -> String {
        var lines: [String] = []
        var line = ""
        for word in text.split(separator: " ") {
            if !line.isEmpty, line.count + 1 + word.count > width {
                lines.append(line)
                line = ""
            }
            line += (line.isEmpty ? "" : " ") + word
        }
        lines.append(line)
        return lines.joined(separator: "\n" + indent)
    }
}
