/// An XML-RPC value: what a `<value>` element holds.
///
/// Structs keep their members in the order they were written (supervisor's replies list their
/// fields in a fixed order, and `xml` writes them back in that order).
public enum XMLRPCValue: Sendable, Equatable, CustomStringConvertible {
    /// `<int>` or `<i4>`.
    case int(Int)
    /// `<boolean>`.
    case bool(Bool)
    /// `<string>`, or a `<value>` with no type element.
    case string(String)
    /// `<double>`.
    case double(Double)
    /// `<array>`.
    case array([XMLRPCValue])
    /// `<struct>`: its members in document order.
    case structure([Member])
    /// `<base64>`: the decoded bytes.
    case base64([UInt8])
    /// `<dateTime.iso8601>`: the text as written, such as `20240101T12:00:00`.
    case dateTime(String)
    /// `<nil/>`: no value (Python's `None`).
    case `nil`

    /// One member of a struct.
    public struct Member: Sendable, Equatable {
        /// The member's name.
        public var name: String
        /// The member's value.
        public var value: XMLRPCValue

        /// Creates a member.
        /// - Parameters:
        ///   - name: The name.
        ///   - value: The value.
        public init(_ name: String, _ value: XMLRPCValue) {
            self.name = name
            self.value = value
        }
    }

    /// A struct from name-value pairs, in the order given.
    /// - Parameter members: The members.
    /// - Returns: The struct value.
    public static func structure(_ members: KeyValuePairs<String, XMLRPCValue>) -> XMLRPCValue {
        .structure(members.map { Member($0.key, $0.value) })
    }

    /// The value of a struct's member named `name` (the last one, if it is repeated).
    /// - Parameter name: The member name.
    /// - Returns: Its value, or `nil` when this is not a struct or has no such member.
    public subscript(name: String) -> XMLRPCValue? {
        guard case .structure(let members) = self else { return nil }
        return members.last { $0.name == name }?.value
    }

    /// The integer of an `.int`.
    public var intValue: Int? {
        if case .int(let n) = self { return n }
        return nil
    }

    /// The text of a `.string` (or the UTF-8 text of `.base64` bytes).
    public var stringValue: String? {
        switch self {
        case .string(let s): s
        case .base64(let bytes): String(decoding: bytes, as: UTF8.self)
        default: nil
        }
    }

    /// The truth of a `.bool`.
    public var boolValue: Bool? {
        if case .bool(let b) = self { return b }
        return nil
    }

    /// The elements of an `.array`.
    public var arrayValue: [XMLRPCValue]? {
        if case .array(let elements) = self { return elements }
        return nil
    }

    /// Python's `repr` of the value, for messages.
    public var description: String {
        switch self {
        case .int(let n): return String(n)
        case .bool(let b): return b ? "True" : "False"
        case .string(let s): return "'" + s + "'"
        case .double(let d): return String(d)
        case .array(let elements): return "[" + elements.map(\.description).joined(separator: ", ") + "]"
        case .structure(let members):
            return "{" + members.map { "'\($0.name)': \($0.value.description)" }.joined(separator: ", ") + "}"
        case .base64(let bytes): return "b'" + String(decoding: bytes, as: UTF8.self) + "'"
        case .dateTime(let text): return "<DateTime '\(text)'>"
        case .nil: return "None"
        }
    }
}
