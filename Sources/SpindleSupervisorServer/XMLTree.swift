/// A parsed XML element: its name, its child elements and the character data directly inside it.
///
/// Only what XML-RPC documents need is kept: attributes are read and dropped, comments,
/// processing instructions and a document type declaration are skipped, CDATA sections and
/// character and predefined entity references become text.
struct XMLElement: Sendable, Equatable {
    var name: String
    var children: [XMLElement] = []
    /// The character data directly inside the element (outside its children), concatenated.
    var text: String = ""

    /// The first child named `name`.
    func child(_ name: String) -> XMLElement? { children.first { $0.name == name } }
}

/// A small non-validating XML parser over UTF-8 bytes.
struct XMLTreeParser {
    private let bytes: [UInt8]
    private var index = 0

    /// Parses a whole document.
    /// - Parameter bytes: The document.
    /// - Returns: The root element.
    /// - Throws: `XMLRPCError` when the document is not well formed.
    static func parse(_ bytes: [UInt8]) throws(XMLRPCError) -> XMLElement {
        var parser = XMLTreeParser(bytes: bytes)
        return try parser.document()
    }

    private init(bytes: [UInt8]) {
        self.bytes = bytes
    }

    // MARK: - Document

    private mutating func document() throws(XMLRPCError) -> XMLElement {
        if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { index = 3 }
        try skipMisc()
        guard index < bytes.count, bytes[index] == UInt8(ascii: "<") else { throw failure("no root element") }
        let root = try element()
        try skipMisc()
        if index < bytes.count { throw failure("junk after document element") }
        return root
    }

    /// Skips whitespace, comments, processing instructions and a DOCTYPE outside the root.
    private mutating func skipMisc() throws(XMLRPCError) {
        while true {
            skipWhitespace()
            if has("<?") {
                try skip(past: "?>")
            } else if has("<!--") {
                try skip(past: "-->")
            } else if has("<!DOCTYPE") {
                try skipDoctype()
            } else {
                return
            }
        }
    }

    private mutating func skipDoctype() throws(XMLRPCError) {
        var depth = 0
        while index < bytes.count {
            let byte = bytes[index]
            index += 1
            if byte == UInt8(ascii: "[") { depth += 1 }
            if byte == UInt8(ascii: "]") { depth -= 1 }
            if byte == UInt8(ascii: ">"), depth <= 0 { return }
        }
        throw failure("unclosed DOCTYPE")
    }

    // MARK: - Elements

    private mutating func element() throws(XMLRPCError) -> XMLElement {
        index += 1  // "<"
        let name = try self.name()
        var node = XMLElement(name: name)
        // Attributes are read and dropped.
        while true {
            skipWhitespace()
            guard index < bytes.count else { throw failure("unclosed start tag <\(name)>") }
            if has("/>") {
                index += 2
                return node
            }
            if bytes[index] == UInt8(ascii: ">") {
                index += 1
                break
            }
            _ = try self.name()
            skipWhitespace()
            guard index < bytes.count, bytes[index] == UInt8(ascii: "=") else { throw failure("attribute without value in <\(name)>") }
            index += 1
            skipWhitespace()
            guard index < bytes.count, bytes[index] == UInt8(ascii: "\"") || bytes[index] == UInt8(ascii: "'") else {
                throw failure("unquoted attribute value in <\(name)>")
            }
            let quote = bytes[index]
            index += 1
            while index < bytes.count, bytes[index] != quote { index += 1 }
            guard index < bytes.count else { throw failure("unclosed attribute value in <\(name)>") }
            index += 1
        }
        var text: [UInt8] = []
        while true {
            guard index < bytes.count else { throw failure("unclosed element <\(name)>") }
            let byte = bytes[index]
            if byte == UInt8(ascii: "<") {
                if has("</") {
                    index += 2
                    let closing = try self.name()
                    guard closing == name else { throw failure("mismatched tag: <\(name)> closed by </\(closing)>") }
                    skipWhitespace()
                    guard index < bytes.count, bytes[index] == UInt8(ascii: ">") else { throw failure("bad end tag </\(closing)") }
                    index += 1
                    node.text = try decodeText(text)
                    return node
                } else if has("<!--") {
                    try skip(past: "-->")
                } else if has("<![CDATA[") {
                    index += 9
                    let start = index
                    try skip(past: "]]>")
                    text.append(contentsOf: Self.escapeCDATA(bytes[start..<(index - 3)]))
                } else if has("<?") {
                    try skip(past: "?>")
                } else {
                    node.children.append(try element())
                }
            } else {
                text.append(byte)
                index += 1
            }
        }
    }

    private mutating func name() throws(XMLRPCError) -> String {
        let start = index
        while index < bytes.count {
            let byte = bytes[index]
            let isNameByte = byte >= 0x80 || (byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "z"))
                || (byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z")) || (byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9"))
                || byte == UInt8(ascii: "_") || byte == UInt8(ascii: ":") || byte == UInt8(ascii: ".") || byte == UInt8(ascii: "-")
            if !isNameByte { break }
            index += 1
        }
        guard index > start else { throw failure("expected a name at byte \(start)") }
        return String(decoding: bytes[start..<index], as: UTF8.self)
    }

    // MARK: - Text

    /// CDATA contents are appended already escaped, so that `decodeText` turns them back into
    /// the same bytes.
    private static func escapeCDATA(_ raw: ArraySlice<UInt8>) -> [UInt8] {
        var escaped: [UInt8] = []
        escaped.reserveCapacity(raw.count)
        for byte in raw {
            switch byte {
            case UInt8(ascii: "&"): escaped.append(contentsOf: Array("&amp;".utf8))
            case UInt8(ascii: "<"): escaped.append(contentsOf: Array("&lt;".utf8))
            default: escaped.append(byte)
            }
        }
        return escaped
    }

    /// Replaces entity references and normalises line ends.
    private func decodeText(_ raw: [UInt8]) throws(XMLRPCError) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(raw.count)
        var i = 0
        while i < raw.count {
            let byte = raw[i]
            if byte == UInt8(ascii: "\r") {
                out.append(UInt8(ascii: "\n"))
                i += (i + 1 < raw.count && raw[i + 1] == UInt8(ascii: "\n")) ? 2 : 1
                continue
            }
            guard byte == UInt8(ascii: "&") else {
                out.append(byte)
                i += 1
                continue
            }
            guard let semicolon = raw[i...].firstIndex(of: UInt8(ascii: ";")) else { throw failure("unterminated entity reference") }
            let entity = String(decoding: raw[(i + 1)..<semicolon], as: UTF8.self)
            switch entity {
            case "lt": out.append(UInt8(ascii: "<"))
            case "gt": out.append(UInt8(ascii: ">"))
            case "amp": out.append(UInt8(ascii: "&"))
            case "quot": out.append(UInt8(ascii: "\""))
            case "apos": out.append(UInt8(ascii: "'"))
            default:
                var scalarValue: UInt32?
                if entity.hasPrefix("#x") || entity.hasPrefix("#X") {
                    scalarValue = UInt32(entity.dropFirst(2), radix: 16)
                } else if entity.hasPrefix("#") {
                    scalarValue = UInt32(entity.dropFirst(), radix: 10)
                }
                guard let scalarValue, let scalar = Unicode.Scalar(scalarValue) else {
                    throw failure("undefined entity &\(entity);")
                }
                out.append(contentsOf: Array(String(Character(scalar)).utf8))
            }
            i = semicolon + 1
        }
        return String(decoding: out, as: UTF8.self)
    }

    // MARK: - Helpers

    private func has(_ literal: String) -> Bool {
        let utf8 = Array(literal.utf8)
        guard index + utf8.count <= bytes.count else { return false }
        return bytes[index..<(index + utf8.count)].elementsEqual(utf8)
    }

    private mutating func skip(past terminator: String) throws(XMLRPCError) {
        let utf8 = Array(terminator.utf8)
        while index + utf8.count <= bytes.count {
            if bytes[index..<(index + utf8.count)].elementsEqual(utf8) {
                index += utf8.count
                return
            }
            index += 1
        }
        throw failure("missing \(terminator)")
    }

    private mutating func skipWhitespace() {
        while index < bytes.count, [0x20, 0x09, 0x0A, 0x0D].contains(bytes[index]) { index += 1 }
    }

    private func failure(_ reason: String) -> XMLRPCError {
        XMLRPCError(reason: "not well-formed XML: \(reason)")
    }
}
