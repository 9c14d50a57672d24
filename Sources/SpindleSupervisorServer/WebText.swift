/// Escaping for the web console's HTML and JSON.
enum WebText {
    /// Text safe inside HTML elements and quoted attributes.
    /// - Parameter text: The text.
    /// - Returns: The text with `&`, `<`, `>`, `"` and `'` escaped.
    static func html(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count)
        for character in text {
            switch character {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default: out.append(character)
            }
        }
        return out
    }

    /// A JSON string literal, quotes included (`<` is escaped too, so the text may sit in a page).
    /// - Parameter text: The text.
    /// - Returns: The literal.
    static func json(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case "<": out += "\\u003c"
            default:
                if scalar.value < 0x20 {
                    let hex = String(scalar.value, radix: 16)
                    out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out + "\""
    }

    /// A JSON object from keys and already-encoded values, in the given order.
    /// - Parameter members: The keys and encoded values.
    /// - Returns: The object.
    static func object(_ members: [(String, String)]) -> String {
        "{" + members.map { json($0.0) + ":" + $0.1 }.joined(separator: ",") + "}"
    }

    /// A JSON array of already-encoded values.
    /// - Parameter items: The encoded values.
    /// - Returns: The array.
    static func array(_ items: [String]) -> String { "[" + items.joined(separator: ",") + "]" }
}
