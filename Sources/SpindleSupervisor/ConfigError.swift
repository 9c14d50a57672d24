/// A supervisord configuration that could not be read or is wrong, naming the file, the
/// section, the option and what was wrong with it.
///
/// Its `description` reads like supervisord's own complaints, for instance
/// `Error: Invalid value for 'startsecs' in section 'program:web' of /etc/x.conf: 'abc' is not an integer`.
public struct ConfigError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What kind of mistake this is.
    public enum Kind: String, Sendable, Equatable {
        /// The file could not be found or read.
        case unreadableFile
        /// A line is not INI syntax (no section header, no `=` or `:`).
        case syntax
        /// A section every file must have is missing (`[supervisord]`).
        case missingSection
        /// A required option is missing (`command`, `files`, `port`...).
        case missingOption
        /// An option's value is not of its type or out of range.
        case invalidValue
        /// A `%(name)s` expansion names something unknown or is badly formatted.
        case badExpansion
        /// Options that contradict each other, or sections that refer to unknown sections.
        case inconsistent
    }

    /// What kind of mistake this is.
    public var kind: Kind
    /// The file the mistake is in, when known.
    public var file: String?
    /// The section, such as `program:web`, when the mistake is inside one.
    public var section: String?
    /// The option, such as `startsecs`, when the mistake is in one.
    public var option: String?
    /// The offending value as written, when there is one.
    public var value: String?
    /// The line number (from 1) for a syntax error.
    public var line: Int?
    /// What was wrong, such as `'abc' is not an integer`.
    public var reason: String

    /// Creates an error.
    /// - Parameters:
    ///   - kind: What kind of mistake this is.
    ///   - file: The file.
    ///   - section: The section.
    ///   - option: The option.
    ///   - value: The offending value.
    ///   - line: The line number of a syntax error.
    ///   - reason: What was wrong.
    public init(
        _ kind: Kind, file: String? = nil, section: String? = nil, option: String? = nil,
        value: String? = nil, line: Int? = nil, reason: String
    ) {
        self.kind = kind
        self.file = file
        self.section = section
        self.option = option
        self.value = value
        self.line = line
        self.reason = reason
    }

    /// The message as supervisord words it: `Error: Invalid value for 'x' in section 's' of f: reason`.
    public var description: String {
        var text = "Error: "
        switch kind {
        case .invalidValue: text += "Invalid value"
        case .missingOption: text += "Missing value"
        case .badExpansion: text += "Bad expansion"
        case .syntax: text += "Syntax error"
        case .missingSection: text += "Missing section"
        case .unreadableFile: text += "Cannot read configuration"
        case .inconsistent: text += "Inconsistent configuration"
        }
        if let option { text += " for '\(option)'" }
        if let section { text += " in section '\(section)'" }
        if let file { text += " of \(file)" }
        if let line { text += ", line \(line)" }
        return text + ": " + reason
    }
}
