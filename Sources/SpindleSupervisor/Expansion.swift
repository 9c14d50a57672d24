/// A value `%(name)s` expansions can refer to: text, or a number (`process_num`, `numprocs`).
enum ExpansionValue: Sendable, Hashable {
    case text(String)
    case number(Int)
}

/// Why an expansion failed.
enum ExpansionFailure: Error {
    /// The names that are not in the dictionary.
    case unknownName(String)
    /// The format itself is wrong (a lone `%`, an unknown conversion, a number format on text).
    case badFormat(String)
}

/// Supervisor's `%(name)s` expansions: Python's `format % dictionary`, with `%%` for a percent
/// sign and printf-style flags, width and precision (`%(process_num)02d`).
enum Expansion {
    /// Expands `format` against `values`.
    /// - Parameters:
    ///   - format: The text with `%(name)X` conversions.
    ///   - values: The names and their values.
    /// - Returns: The expanded text.
    /// - Throws: `ExpansionFailure`.
    static func expand(_ format: String, _ values: [String: ExpansionValue]) throws(ExpansionFailure) -> String {
        var out = ""
        let chars = Array(format)
        var i = 0
        while i < chars.count {
            let c = chars[i]
            i += 1
            if c != "%" {
                out.append(c)
                continue
            }
            guard i < chars.count else { throw .badFormat("incomplete format") }
            if chars[i] == "%" {
                out.append("%")
                i += 1
                continue
            }
            guard chars[i] == "(" else {
                throw .badFormat("format requires a mapping key at '%\(chars[i])'")
            }
            var depth = 1
            var j = i + 1
            while j < chars.count, depth > 0 {
                if chars[j] == "(" { depth += 1 }
                if chars[j] == ")" { depth -= 1 }
                j += 1
            }
            guard depth == 0 else { throw .badFormat("incomplete format key") }
            let name = String(chars[(i + 1)..<(j - 1)])
            i = j
            var flags: Set<Character> = []
            while i < chars.count, "-+ #0".contains(chars[i]) {
                flags.insert(chars[i])
                i += 1
            }
            var width = 0
            while i < chars.count, let d = chars[i].wholeNumberValue, chars[i].isASCII {
                width = width * 10 + d
                i += 1
            }
            var precision: Int?
            if i < chars.count, chars[i] == "." {
                i += 1
                var p = 0
                while i < chars.count, let d = chars[i].wholeNumberValue, chars[i].isASCII {
                    p = p * 10 + d
                    i += 1
                }
                precision = p
            }
            while i < chars.count, "hlL".contains(chars[i]) { i += 1 }
            guard i < chars.count else { throw .badFormat("incomplete format") }
            let type = chars[i]
            i += 1
            guard let value = values[name] else { throw .unknownName(name) }
            out += try convert(value, type: type, flags: flags, width: width, precision: precision)
        }
        return out
    }

    private static func convert(
        _ value: ExpansionValue, type: Character, flags: Set<Character>, width: Int, precision: Int?
    ) throws(ExpansionFailure) -> String {
        var body: String
        var numeric = false
        var negative = false
        switch type {
        case "s", "r", "a":
            switch value {
            case .text(let s): body = type == "s" ? s : "'" + s + "'"
            case .number(let n): body = String(n)
            }
            if let precision { body = String(body.prefix(precision)) }
        case "d", "i", "u", "x", "X", "o", "f", "F", "e", "E", "g", "G", "c":
            guard case .number(let n) = value else {
                throw .badFormat("%\(type) format: a real number is required, not str")
            }
            numeric = true
            negative = n < 0
            let magnitude = n.magnitude
            switch type {
            case "x": body = String(magnitude, radix: 16)
            case "X": body = String(magnitude, radix: 16).uppercased()
            case "o": body = String(magnitude, radix: 8)
            case "c":
                guard let scalar = Unicode.Scalar(UInt32(truncatingIfNeeded: n)) else {
                    throw .badFormat("%c arg not in range")
                }
                return pad(String(Character(scalar)), width: width, left: flags.contains("-"), zero: false)
            case "f", "F", "e", "E", "g", "G":
                body = String(magnitude)
                let digits = precision ?? 6
                if (type == "f" || type == "F"), digits > 0 { body += "." + String(repeating: "0", count: digits) }
            default:
                body = String(magnitude)
                if let precision, body.count < precision {
                    body = String(repeating: "0", count: precision - body.count) + body
                }
            }
            if flags.contains("#") {
                if type == "x" { body = "0x" + body }
                if type == "X" { body = "0X" + body }
                if type == "o" { body = "0o" + body }
            }
        default:
            throw .badFormat("unsupported format character '\(type)'")
        }
        if numeric {
            let sign = negative ? "-" : (flags.contains("+") ? "+" : (flags.contains(" ") ? " " : ""))
            if flags.contains("0"), !flags.contains("-"), sign.count + body.count < width {
                body = String(repeating: "0", count: width - sign.count - body.count) + body
            }
            body = sign + body
        }
        return pad(body, width: width, left: flags.contains("-"), zero: false)
    }

    private static func pad(_ text: String, width: Int, left: Bool, zero: Bool) -> String {
        guard text.count < width else { return text }
        let fill = String(repeating: zero ? "0" : " ", count: width - text.count)
        return left ? text + fill : fill + text
    }
}
