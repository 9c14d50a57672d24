#if canImport(Glibc)
import Glibc
#endif

/// One option's raw value and where it was written.
struct IniValue: Sendable, Hashable {
    /// The value, continuation lines joined with "\n", comments removed.
    var text: String
    /// The file the value was read from.
    var file: String
    /// The line of the option (from 1).
    var line: Int
}

/// One `[name]` section: its options in the order first written.
struct IniSection: Sendable {
    var name: String
    /// The file the section first appeared in.
    var file: String
    var options: [String: IniValue] = [:]
    var order: [String] = []

    mutating func set(_ option: String, _ value: IniValue) {
        if options[option] == nil { order.append(option) }
        options[option] = value
    }
}

/// The INI dialect supervisord reads: Python's `RawConfigParser` as supervisor sets it up.
///
/// Section names are case-sensitive; option names are folded to lower case; `=` or `:`
/// separates an option from its value; lines starting with `#` or `;` are comments, and so is
/// the rest of a line from a `;` or `#` that follows whitespace; a line indented deeper than its
/// option continues the value; a section seen twice is merged (later values win); options of
/// `[DEFAULT]` are inherited by every section.
struct IniDocument: Sendable {
    private(set) var sections: [IniSection] = []
    private var index: [String: Int] = [:]
    private(set) var defaults = IniSection(name: "DEFAULT", file: "")

    /// The section names in the order they first appeared.
    var sectionNames: [String] { sections.map(\.name) }

    /// Whether a section exists.
    func has(_ section: String) -> Bool { index[section] != nil }

    /// The section named `name`.
    func section(_ name: String) -> IniSection? { index[name].map { sections[$0] } }

    /// An option's value, falling back to `[DEFAULT]`.
    func value(_ section: String, _ option: String) -> IniValue? {
        guard let i = index[section] else { return nil }
        return sections[i].options[option] ?? defaults.options[option]
    }

    /// The option names of a section, including those inherited from `[DEFAULT]`.
    func optionNames(_ section: String) -> [String] {
        guard let i = index[section] else { return [] }
        let own = sections[i].order
        return own + defaults.order.filter { sections[i].options[$0] == nil }
    }

    /// Reads a file's text into the document.
    /// - Parameters:
    ///   - text: The file's contents.
    ///   - file: The file's path, for errors and `%(here)s`.
    /// - Returns: The names of the sections this text added.
    /// - Throws: `ConfigError` of kind `.syntax` for a line that is neither a section header, an
    ///   option, a comment nor a continuation.
    @discardableResult
    mutating func read(_ text: String, file: String) throws(ConfigError) -> [String] {
        var added: [String] = []
        var current: String?  // nil before the first header; "DEFAULT" for the defaults
        var option: String?
        var lines: [String] = []  // the current option's value lines
        var optionLine = 0
        var indentLevel = 0
        let all = text.split(separator: "\n", omittingEmptySubsequences: false)

        func flush() {
            guard let current, let option else { return }
            var joined = lines.joined(separator: "\n")
            while let last = joined.last, last.isWhitespace { joined.removeLast() }
            let value = IniValue(text: joined, file: file, line: optionLine)
            if current == "DEFAULT" {
                defaults.set(option, value)
            } else if let i = index[current] {
                sections[i].set(option, value)
            }
        }

        for (number, rawLine) in all.enumerated() {
            var line = String(rawLine)
            if line.hasSuffix("\r") { line.removeLast() }
            let commentStart = IniDocument.commentStart(line)
            let content = String(line[..<commentStart])
            let value = content.trimmingWhitespace()
            if value.isEmpty {
                // Blank lines inside a value are kept (and trimmed at the end), as Python does,
                // unless the line held a comment.
                if commentStart == line.endIndex, option != nil { lines.append("") }
                continue
            }
            let indent = line.prefix(while: { $0 == " " || $0 == "\t" }).count
            if current != nil, option != nil, indent > indentLevel {
                lines.append(value)
                continue
            }
            indentLevel = indent
            if value.hasPrefix("["), let close = value.lastIndex(of: "]"), close > value.index(after: value.startIndex) {
                flush()
                option = nil
                lines = []
                let name = String(value[value.index(after: value.startIndex)..<close])
                current = name
                if name != "DEFAULT", index[name] == nil {
                    index[name] = sections.count
                    sections.append(IniSection(name: name, file: file))
                    added.append(name)
                }
                continue
            }
            guard let section = current else {
                throw ConfigError(
                    .syntax, file: file, line: number + 1,
                    reason: "File contains no section headers: '\(value)'")
            }
            guard let separator = value.firstIndex(where: { $0 == "=" || $0 == ":" }) else {
                throw ConfigError(
                    .syntax, file: file, section: section, line: number + 1,
                    reason: "line is not 'option = value': '\(value)'")
            }
            let name = value[..<separator].trimmingWhitespace().lowercased()
            if name.isEmpty {
                throw ConfigError(
                    .syntax, file: file, section: section, line: number + 1,
                    reason: "an option has no name: '\(value)'")
            }
            flush()
            option = name
            optionLine = number + 1
            lines = [value[value.index(after: separator)...].trimmingWhitespace()]
        }
        flush()
        return added
    }

    /// Where a line's comment starts (the end index when there is none): at a `#` or `;` that
    /// begins the (stripped) line or follows whitespace.
    static func commentStart(_ line: String) -> String.Index {
        let stripped = line.trimmingWhitespace()
        if stripped.hasPrefix("#") || stripped.hasPrefix(";") { return line.startIndex }
        var previous: Character?
        var i = line.startIndex
        while i < line.endIndex {
            let c = line[i]
            if c == ";" || c == "#", previous?.isWhitespace ?? true {
                return i
            }
            previous = c
            i = line.index(after: i)
        }
        return line.endIndex
    }
}

extension StringProtocol {
    /// The text without leading and trailing whitespace.
    func trimmingWhitespace() -> String {
        guard let first = firstIndex(where: { !$0.isWhitespace }),
            let last = lastIndex(where: { !$0.isWhitespace })
        else { return "" }
        return String(self[first...last])
    }
}
