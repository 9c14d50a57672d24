/// A lexer that splits like Python's `shlex` in POSIX mode.
enum Shlex {
    /// Why a text could not be split.
    struct Failure: Error {
        var message: String
    }

    /// `shlex.split(text)`: shell-like words, quotes removed (a command line).
    /// - Parameter text: The text.
    /// - Returns: The words.
    /// - Throws: `Failure` for an unclosed quote or a trailing backslash.
    static func split(_ text: String) throws(Failure) -> [String] {
        try tokens(text, extraWordChars: "", whitespaceSplit: true, commenters: "")
    }

    /// The tokens of supervisor's key/value lexer (`shlex.shlex(text, posix=True)` with
    /// `/.+-():` added to the word characters): words, quoted strings and single punctuation
    /// characters such as `=` and `,`; `#` starts a comment.
    /// - Parameter text: The text.
    /// - Returns: The tokens.
    /// - Throws: `Failure` for an unclosed quote or a trailing backslash.
    static func keyValueTokens(_ text: String) throws(Failure) -> [String] {
        try tokens(text, extraWordChars: "/.+-():", whitespaceSplit: false, commenters: "#")
    }

    private static func isWordChar(_ c: Character, extra: String) -> Bool {
        if c.isASCII { return c.isLetter || c.isNumber || c == "_" || extra.contains(c) }
        return c.isLetter || c.isNumber
    }

    private static func tokens(
        _ text: String, extraWordChars: String, whitespaceSplit: Bool, commenters: String
    ) throws(Failure) -> [String] {
        enum State: Equatable { case space, word, quote(Character), escape }
        let whitespace: Set<Character> = [" ", "\t", "\r", "\n"]
        var result: [String] = []
        var token = ""
        var quoted = false
        var state = State.space
        var escapedState = State.word
        let chars = Array(text)
        var i = 0

        func emit() {
            if !token.isEmpty || quoted { result.append(token) }
            token = ""
            quoted = false
        }
        func skipComment() {
            while i < chars.count, chars[i] != "\n" { i += 1 }
        }

        while i < chars.count {
            let c = chars[i]
            i += 1
            switch state {
            case .space:
                if whitespace.contains(c) {
                    continue
                } else if commenters.contains(c) {
                    skipComment()
                } else if c == "\\" {
                    escapedState = .word
                    state = .escape
                } else if isWordChar(c, extra: extraWordChars) {
                    token = String(c)
                    state = .word
                } else if c == "'" || c == "\"" {
                    state = .quote(c)
                } else if whitespaceSplit {
                    token = String(c)
                    state = .word
                } else {
                    token = String(c)
                    emit()
                }
            case .word:
                if whitespace.contains(c) {
                    state = .space
                    emit()
                } else if commenters.contains(c) {
                    skipComment()
                    state = .space
                    emit()
                } else if c == "'" || c == "\"" {
                    state = .quote(c)
                } else if c == "\\" {
                    escapedState = .word
                    state = .escape
                } else if isWordChar(c, extra: extraWordChars) || whitespaceSplit {
                    token.append(c)
                } else {
                    i -= 1  // the punctuation starts the next token
                    state = .space
                    emit()
                }
            case .quote(let q):
                quoted = true
                if c == q {
                    state = .word
                } else if c == "\\", q == "\"" {
                    escapedState = state
                    state = .escape
                } else {
                    token.append(c)
                }
            case .escape:
                if case .quote(let q) = escapedState, c != q, c != "\\" { token.append("\\") }
                token.append(c)
                state = escapedState
            }
        }
        switch state {
        case .quote: throw Failure(message: "No closing quotation")
        case .escape: throw Failure(message: "No escaped character")
        case .space, .word: emit()
        }
        return result
    }
}
