/// Splits a command line into a pipeline's commands with POSIX shell quoting rules, without a
/// shell: single quotes keep everything literally, double quotes keep everything but `\$`, `` \` ``,
/// `\"`, `\\` and a backslash-newline, a backslash outside quotes keeps the next character, and
/// an unquoted `|` separates commands. Nothing is expanded (no variables, globs or `~`).
public enum CommandLineParser {
    /// Splits `line` into commands, each a list of words.
    /// - Parameter line: The command line, such as `cat data | grep 'a b' | wc -l`.
    /// - Returns: The commands, first to last.
    /// - Throws: `EnvoyError` for an unclosed quote, an empty command or a trailing backslash.
    public static func split(_ line: String) throws(EnvoyError) -> [[String]] {
        var stages: [[String]] = []
        var words: [String] = []
        var word = ""
        var inWord = false  // a word has started (even an empty quoted one)
        var lastBar = 0
        let characters = Array(line)
        var i = 0
        func endWord() {
            if inWord { words.append(word) }
            word = ""
            inWord = false
        }
        func endStage(at column: Int) throws(EnvoyError) {
            endWord()
            if words.isEmpty { throw .emptyStage(column: column) }
            stages.append(words)
            words = []
        }
        while i < characters.count {
            let c = characters[i]
            let column = i + 1
            switch c {
            case " ", "\t", "\n":
                endWord()
            case "|":
                try endStage(at: column)
                lastBar = column
            case "\\":
                guard i + 1 < characters.count else { throw .danglingEscape(column: column) }
                i += 1
                if characters[i] != "\n" {
                    word.append(characters[i])
                    inWord = true
                }
            case "'":
                inWord = true
                guard let close = characters[(i + 1)...].firstIndex(of: "'") else {
                    throw .unclosedQuote(quote: "'", column: column)
                }
                word.append(contentsOf: characters[(i + 1)..<close])
                i = close
            case "\"":
                inWord = true
                var j = i + 1
                var closed = false
                while j < characters.count {
                    let d = characters[j]
                    if d == "\"" {
                        closed = true
                        break
                    }
                    if d == "\\", j + 1 < characters.count, "$`\"\\\n".contains(characters[j + 1]) {
                        if characters[j + 1] != "\n" { word.append(characters[j + 1]) }
                        j += 2
                        continue
                    }
                    word.append(d)
                    j += 1
                }
                guard closed else { throw .unclosedQuote(quote: "\"", column: column) }
                i = j
            default:
                word.append(c)
                inWord = true
            }
            i += 1
        }
        endWord()
        if words.isEmpty {
            if stages.isEmpty { throw .emptyCommand }
            throw .emptyStage(column: lastBar)
        }
        stages.append(words)
        return stages
    }
}
