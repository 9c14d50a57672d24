extension XMLRPCValue {
    // MARK: - Writing

    /// The value as Python's `xmlrpc.client` marshals it, the form supervisord sends:
    /// `<value><string>...</string></value>` and a newline, strings with only `&`, `<` and `>`
    /// escaped, arrays and structs with one element or member per line.
    public var xml: String {
        var out = ""
        write(into: &out)
        return out
    }

    /// Appends the marshalled value to `out`.
    /// - Parameter out: The text to append to.
    func write(into out: inout String) {
        switch self {
        case .int(let n):
            out += "<value><int>\(n)</int></value>\n"
        case .bool(let b):
            out += "<value><boolean>\(b ? "1" : "0")</boolean></value>\n"
        case .string(let s):
            out += "<value><string>" + XMLRPCValue.escape(s) + "</string></value>\n"
        case .double(let d):
            out += "<value><double>" + XMLRPCValue.pythonRepr(d) + "</double></value>\n"
        case .array(let elements):
            out += "<value><array><data>\n"
            for element in elements { element.write(into: &out) }
            out += "</data></array></value>\n"
        case .structure(let members):
            out += "<value><struct>\n"
            for member in members {
                out += "<member>\n<name>" + XMLRPCValue.escape(member.name) + "</name>\n"
                member.value.write(into: &out)
                out += "</member>\n"
            }
            out += "</struct></value>\n"
        case .base64(let bytes):
            out += "<value><base64>\n" + Base64.encodeLines(bytes) + "</base64></value>\n"
        case .dateTime(let text):
            out += "<value><dateTime.iso8601>" + XMLRPCValue.escape(text) + "</dateTime.iso8601></value>\n"
        case .nil:
            out += "<value><nil/></value>"
        }
    }

    /// Python's `xmlrpc.client.escape`: `&`, `<` and `>` only.
    static func escape(_ text: String) -> String {
        guard text.utf8.contains(where: { $0 == UInt8(ascii: "&") || $0 == UInt8(ascii: "<") || $0 == UInt8(ascii: ">") }) else {
            return text
        }
        var out = ""
        out.reserveCapacity(text.utf8.count + 16)
        for scalar in text.unicodeScalars {
            switch scalar {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out
    }

    /// Python's `repr` of a float: `1.0`, `0.1`, `1e+16`, `inf`, `nan`.
    static func pythonRepr(_ value: Double) -> String {
        if value.isNaN { return "nan" }
        if value.isInfinite { return value < 0 ? "-inf" : "inf" }
        return String(value)
    }

    // MARK: - Reading

    /// Reads a `<value>` element as supervisor's unmarshaller does: a typed child is converted,
    /// a `<value>` without a child is a string, a child of an unknown type gives its text (or
    /// `nil` when it has none, as `<nil/>` does).
    /// - Parameter element: The `<value>` element.
    /// - Returns: The value.
    /// - Throws: `XMLRPCError` for text that is not of the element's type.
    static func read(_ element: XMLElement) throws(XMLRPCError) -> XMLRPCValue {
        guard let typed = element.children.first else { return .string(element.text) }
        let text = typed.text
        switch typed.name {
        case "int", "i4":
            guard let n = Int(text.trimmingASCIIWhitespace()) else { throw XMLRPCError(reason: "invalid int: '\(text)'") }
            return .int(n)
        case "boolean":
            return .bool(text == "1")
        case "string":
            return .string(text)
        case "double":
            guard let d = Double(text.trimmingASCIIWhitespace()) else { throw XMLRPCError(reason: "invalid double: '\(text)'") }
            return .double(d)
        case "dateTime.iso8601":
            return .dateTime(text)
        case "base64":
            guard let bytes = Base64.decode(text) else { throw XMLRPCError(reason: "invalid base64 data") }
            return .base64(bytes)
        case "array":
            guard let data = typed.children.first, data.name == "data" else { throw XMLRPCError(reason: "<array> without <data>") }
            var elements: [XMLRPCValue] = []
            for child in data.children {
                guard child.name == "value" else { throw XMLRPCError(reason: "<\(child.name)> inside <data>") }
                elements.append(try read(child))
            }
            return .array(elements)
        case "struct":
            var members: [Member] = []
            for member in typed.children {
                guard member.children.count == 2, member.children[1].name == "value" else {
                    throw XMLRPCError(reason: "a struct member needs a <name> and a <value>")
                }
                members.append(Member(member.children[0].text, try read(member.children[1])))
            }
            return .structure(members)
        default:
            // Supervisor's unmarshaller has no converter for other types (nil among them):
            // the value is the element's text, None when it has none.
            return text.isEmpty ? .nil : .string(text)
        }
    }
}

extension String {
    /// The string without leading and trailing ASCII whitespace.
    func trimmingASCIIWhitespace() -> String {
        let isSpace: (Character) -> Bool = { $0 == " " || $0 == "\t" || $0 == "\n" || $0 == "\r" || $0 == "\u{0B}" || $0 == "\u{0C}" }
        var slice = self[...]
        while let first = slice.first, isSpace(first) { slice = slice.dropFirst() }
        while let last = slice.last, isSpace(last) { slice = slice.dropLast() }
        return String(slice)
    }
}
