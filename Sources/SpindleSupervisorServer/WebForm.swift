/// The fields of a request's query string and form body, as supervisor's web handler reads them
/// (Python's `parse_qs`: `+` is a space, `%XX` a byte; the first of repeated query fields wins,
/// and a form body field replaces a query field).
struct WebForm: Sendable, Hashable {
    /// The fields.
    var fields: [String: String] = [:]

    /// Reads a request.
    /// - Parameters:
    ///   - uri: The request's target (`/index.html?processname=x&action=stop`).
    ///   - body: An `application/x-www-form-urlencoded` body, or empty.
    init(uri: String, body: [UInt8] = []) {
        if let question = uri.firstIndex(of: "?") {
            var query = uri[uri.index(after: question)...]
            if let hash = query.firstIndex(of: "#") { query = query[..<hash] }
            for (key, value) in WebForm.pairs(String(query)) where fields[key] == nil { fields[key] = value }
        }
        for (key, value) in WebForm.pairs(String(decoding: body, as: UTF8.self)) { fields[key] = value }
    }

    subscript(_ key: String) -> String? { fields[key] }

    /// The path of a request's target, without query or fragment, percent-decoded.
    /// - Parameter uri: The target.
    /// - Returns: The path.
    static func path(of uri: String) -> String {
        var path = Substring(uri)
        if let cut = path.firstIndex(where: { $0 == "?" || $0 == "#" || $0 == ";" }) { path = path[..<cut] }
        return decode(String(path), plusIsSpace: false)
    }

    /// The `key=value` pairs of a query, decoded; blank values are kept, fields without `=` are
    /// skipped (as `parse_qsl` does by default).
    static func pairs(_ query: String) -> [(String, String)] {
        query.split(whereSeparator: { $0 == "&" || $0 == ";" }).compactMap { field -> (String, String)? in
            guard let equals = field.firstIndex(of: "=") else { return nil }
            let key = decode(String(field[..<equals]), plusIsSpace: true)
            let value = decode(String(field[equals...].dropFirst()), plusIsSpace: true)
            return (key, value)
        }
    }

    /// Percent-decodes text (invalid escapes are kept as they are).
    static func decode(_ text: String, plusIsSpace: Bool) -> String {
        var bytes: [UInt8] = []
        let source = Array(text.utf8)
        var i = 0
        while i < source.count {
            let byte = source[i]
            if byte == UInt8(ascii: "%"), i + 2 < source.count, let high = hexValue(source[i + 1]), let low = hexValue(source[i + 2]) {
                bytes.append(high << 4 | low)
                i += 3
                continue
            }
            bytes.append(plusIsSpace && byte == UInt8(ascii: "+") ? UInt8(ascii: " ") : byte)
            i += 1
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }

    /// Python's `urllib.parse.quote` (safe `/`): every byte but letters, digits, `_.-~` and `/`
    /// as `%XX`.
    /// - Parameter text: The text.
    /// - Returns: The quoted text.
    static func quote(_ text: String) -> String {
        let hex = Array("0123456789ABCDEF".utf8)
        var out: [UInt8] = []
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
                UInt8(ascii: "_"), UInt8(ascii: "."), UInt8(ascii: "-"), UInt8(ascii: "~"), UInt8(ascii: "/"):
                out.append(byte)
            default:
                out += [UInt8(ascii: "%"), hex[Int(byte >> 4)], hex[Int(byte & 15)]]
            }
        }
        return String(decoding: out, as: UTF8.self)
    }
}
