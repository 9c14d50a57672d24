/// A command line envoy cannot run, with where the problem is (1-based columns).
public enum EnvoyError: Error, Equatable, Sendable, CustomStringConvertible {
    /// A quote opened at `column` is never closed.
    case unclosedQuote(quote: Character, column: Int)
    /// A `|` at `column` has no command on one side (`a || b`, `| b`, `a |`).
    case emptyStage(column: Int)
    /// The command line has no command at all.
    case emptyCommand
    /// A backslash at `column` ends the line with nothing to escape.
    case danglingEscape(column: Int)

    public var description: String {
        switch self {
        case .unclosedQuote(let quote, let column): return "unclosed quote (\(quote)) opened at column \(column)"
        case .emptyStage(let column): return "empty command next to the '|' at column \(column)"
        case .emptyCommand: return "empty command line"
        case .danglingEscape(let column): return "a backslash at column \(column) escapes nothing"
        }
    }
}
