// The wire format of every message between Spindle processes: a compact, self-describing binary
// encoding of Codable values (a tag byte, then the value), chosen over JSON because it needs no
// Foundation (a worker starts without loading it), round-trips every Int64/UInt64 and every
// Double bit pattern (NaN and infinities included), carries byte arrays as raw bytes rather than
// base64 or number lists, and takes a fraction of JSON's time and space for the small values a
// task usually carries. Being self-describing (keys are written, not positions), it decodes
// optional and reordered fields as JSON does.
//
//     0x00 nil              0x05 Double (8 bytes, little-endian bit pattern)
//     0x01 false            0x06 Float (4 bytes)
//     0x02 true             0x07 string: varint byte count, UTF-8
//     0x03 signed integer:  zig-zag varint        0x08 bytes ([UInt8]): varint count, raw
//     0x04 unsigned integer: varint               0x09 array: varint count, elements
//     0x0A keyed container: varint count, then (varint key length, UTF-8 key, value) pairs

/// The tag bytes of the compact encoding.
enum CompactTag {
    static let null: UInt8 = 0x00
    static let falseValue: UInt8 = 0x01
    static let trueValue: UInt8 = 0x02
    static let signed: UInt8 = 0x03
    static let unsigned: UInt8 = 0x04
    static let double: UInt8 = 0x05
    static let float: UInt8 = 0x06
    static let string: UInt8 = 0x07
    static let bytes: UInt8 = 0x08
    static let array: UInt8 = 0x09
    static let object: UInt8 = 0x0A
}

/// Appends the compact encoding of values to a byte buffer.
struct CompactWriter {
    var bytes: [UInt8]

    init(reserving header: Int = 0) {
        bytes = []
        bytes.reserveCapacity(64)
        if header > 0 { bytes.append(contentsOf: repeatElement(0, count: header)) }
    }

    mutating func varint(_ value: UInt64) {
        var v = value
        while v >= 0x80 {
            bytes.append(UInt8(truncatingIfNeeded: v) | 0x80)
            v >>= 7
        }
        bytes.append(UInt8(v))
    }

    mutating func signed(_ value: Int64) {
        bytes.append(CompactTag.signed)
        varint(UInt64(bitPattern: (value << 1) ^ (value >> 63)))
    }

    mutating func unsigned(_ value: UInt64) {
        bytes.append(CompactTag.unsigned)
        varint(value)
    }

    mutating func double(_ value: Double) {
        bytes.append(CompactTag.double)
        let bits = value.bitPattern
        for shift in stride(from: 0, to: 64, by: 8) { bytes.append(UInt8(truncatingIfNeeded: bits >> UInt64(shift))) }
    }

    mutating func float(_ value: Float) {
        bytes.append(CompactTag.float)
        let bits = value.bitPattern
        for shift in stride(from: 0, to: 32, by: 8) { bytes.append(UInt8(truncatingIfNeeded: bits >> UInt32(shift))) }
    }

    mutating func rawString(_ value: String) {
        var copy = value
        copy.withUTF8 { utf8 in
            varint(UInt64(utf8.count))
            bytes.append(contentsOf: utf8)
        }
    }

    mutating func string(_ value: String) {
        bytes.append(CompactTag.string)
        rawString(value)
    }

    mutating func byteArray(_ value: [UInt8]) {
        bytes.append(CompactTag.bytes)
        varint(UInt64(value.count))
        bytes.append(contentsOf: value)
    }

    /// Writes an array of Int, Double or String directly (the common arguments and results of
    /// a chunk), without building a tree; `false` for anything else.
    mutating func scalarArray<T>(_ value: T) -> Bool {
        switch value {
        case let items as [Int]:
            bytes.append(CompactTag.array)
            varint(UInt64(items.count))
            bytes.reserveCapacity(bytes.count + 2 * items.count)
            for item in items { signed(Int64(item)) }
        case let items as [Double]:
            bytes.append(CompactTag.array)
            varint(UInt64(items.count))
            bytes.reserveCapacity(bytes.count + 9 * items.count)
            for item in items { double(item) }
        case let items as [String]:
            bytes.append(CompactTag.array)
            varint(UInt64(items.count))
            for item in items { string(item) }
        default:
            return false
        }
        return true
    }

    mutating func scalar(_ value: CompactScalar) {
        switch value {
        case .null: bytes.append(CompactTag.null)
        case .bool(let flag): bytes.append(flag ? CompactTag.trueValue : CompactTag.falseValue)
        case .signed(let v): signed(v)
        case .unsigned(let v): unsigned(v)
        case .double(let v): double(v)
        case .float(let v): float(v)
        case .string(let v): string(v)
        case .bytes(let v): byteArray(v)
        }
    }

    /// Writes a node tree.
    mutating func node(_ node: EncodingNode) {
        switch node.kind {
        case .scalar(let value):
            scalar(value)
        case .array:
            bytes.append(CompactTag.array)
            varint(UInt64(node.children.count))
            for child in node.children { self.child(child) }
        case .object, .empty:
            bytes.append(CompactTag.object)
            varint(UInt64(node.children.count))
            for (key, child) in zip(node.keys, node.children) {
                rawString(key)
                self.child(child)
            }
        }
    }

    mutating func child(_ child: EncodingChild) {
        switch child {
        case .scalar(let value): scalar(value)
        case .node(let node): self.node(node)
        }
    }
}

/// A leaf value.
enum CompactScalar {
    case null
    case bool(Bool)
    case signed(Int64)
    case unsigned(UInt64)
    case double(Double)
    case float(Float)
    case string(String)
    case bytes([UInt8])
}

/// An element of a container: a leaf, kept inline (no allocation), or a nested container.
enum EncodingChild {
    case scalar(CompactScalar)
    case node(EncodingNode)
}

/// A value being encoded: containers hand out nested nodes, so the tree is built first and
/// written once everything is known.
final class EncodingNode {
    enum Kind {
        case empty
        case scalar(CompactScalar)
        case array
        case object
    }

    var kind = Kind.empty
    var children: [EncodingChild] = []
    var keys: [String] = []

    func becomeArray() {
        if case .array = kind { return }
        kind = .array
        children = []
        keys = []
    }

    func becomeObject() {
        if case .object = kind { return }
        kind = .object
        children = []
        keys = []
    }

    func append(_ scalar: CompactScalar) { children.append(.scalar(scalar)) }

    func appendNode() -> EncodingNode {
        let child = EncodingNode()
        children.append(.node(child))
        return child
    }

    func set(_ scalar: CompactScalar, forKey key: String) {
        keys.append(key)
        children.append(.scalar(scalar))
    }

    func node(forKey key: String) -> EncodingNode {
        let child = EncodingNode()
        keys.append(key)
        children.append(.node(child))
        return child
    }
}

/// Encodes Codable values in the compact format.
struct CompactEncoder {
    /// Handed to `Encodable` implementations as `encoder.userInfo`.
    var userInfo: [CodingUserInfoKey: Any] = [:]

    /// Encodes `value`.
    /// - Parameters:
    ///   - value: The value.
    ///   - header: Zero bytes to leave at the start (room for a frame header).
    /// - Returns: The bytes.
    /// - Throws: `EncodingError` from the value's `encode(to:)`.
    func encode<T: Encodable>(_ value: T, header: Int = 0) throws -> [UInt8] {
        var writer = CompactWriter(reserving: header)
        if let scalar = compactScalar(of: value) {
            writer.scalar(scalar)
            return writer.bytes
        }
        if writer.scalarArray(value) { return writer.bytes }
        let root = EncodingNode()
        try encodeValue(value, into: root, codingPath: [], userInfo: userInfo)
        writer.node(root)
        return writer.bytes
    }
}

/// The leaf encoding of the standard scalar types, without building an encoder.
func compactScalar<T: Encodable>(of value: T) -> CompactScalar? {
    // The commonest types first by their metatype (a pointer compare; the bit casts are
    // identities), before the dynamic casts, which also see through Optional and existentials.
    if T.self == Int.self { return .signed(Int64(unsafeBitCast(value, to: Int.self))) }
    if T.self == String.self { return .string(unsafeBitCast(value, to: String.self)) }
    if T.self == Double.self { return .double(unsafeBitCast(value, to: Double.self)) }
    if T.self == Bool.self { return .bool(unsafeBitCast(value, to: Bool.self)) }
    if T.self == [UInt8].self { return .bytes(unsafeBitCast(value, to: [UInt8].self)) }
    switch value {
    case let v as Int: return .signed(Int64(v))
    case let v as String: return .string(v)
    case let v as Double: return .double(v)
    case let v as Bool: return .bool(v)
    case let v as [UInt8]: return .bytes(v)
    case let v as UInt: return .unsigned(UInt64(v))
    case let v as Int64: return .signed(v)
    case let v as UInt64: return .unsigned(v)
    case let v as Int32: return .signed(Int64(v))
    case let v as UInt32: return .unsigned(UInt64(v))
    case let v as Float: return .float(v)
    case let v as Int16: return .signed(Int64(v))
    case let v as UInt16: return .unsigned(UInt64(v))
    case let v as Int8: return .signed(Int64(v))
    case let v as UInt8: return .unsigned(UInt64(v))
    default: return nil
    }
}

func encodeValue<T: Encodable>(
    _ value: T, into node: EncodingNode, codingPath: [any CodingKey], userInfo: [CodingUserInfoKey: Any]
) throws {
    if let scalar = compactScalar(of: value) {
        node.kind = .scalar(scalar)
        return
    }
    let encoder = CompactEncoderImpl(node: node, codingPath: codingPath, userInfo: userInfo)
    try value.encode(to: encoder)
}

/// The `Encoder` handed to `encode(to:)`.
final class CompactEncoderImpl: Encoder {
    let node: EncodingNode
    let codingPath: [any CodingKey]
    let userInfo: [CodingUserInfoKey: Any]

    init(node: EncodingNode, codingPath: [any CodingKey], userInfo: [CodingUserInfoKey: Any]) {
        self.node = node
        self.codingPath = codingPath
        self.userInfo = userInfo
    }

    func container<Key: CodingKey>(keyedBy type: Key.Type) -> KeyedEncodingContainer<Key> {
        node.becomeObject()
        return KeyedEncodingContainer(CompactKeyedEncodingContainer<Key>(node: node, codingPath: codingPath, userInfo: userInfo))
    }

    func unkeyedContainer() -> any UnkeyedEncodingContainer {
        node.becomeArray()
        return CompactUnkeyedEncodingContainer(node: node, codingPath: codingPath, userInfo: userInfo)
    }

    func singleValueContainer() -> any SingleValueEncodingContainer {
        CompactSingleValueEncodingContainer(node: node, codingPath: codingPath, userInfo: userInfo)
    }
}

/// A coding key for array positions and `super`.
struct CompactKey: CodingKey {
    let stringValue: String
    let intValue: Int?

    init(stringValue: String) {
        self.stringValue = stringValue
        intValue = nil
    }

    init(intValue: Int) {
        stringValue = "Index \(intValue)"
        self.intValue = intValue
    }

    static let superKey = CompactKey(stringValue: "super")
}

struct CompactKeyedEncodingContainer<Key: CodingKey>: KeyedEncodingContainerProtocol {
    let node: EncodingNode
    let codingPath: [any CodingKey]
    let userInfo: [CodingUserInfoKey: Any]

    private func set(_ scalar: CompactScalar, _ key: Key) { node.set(scalar, forKey: key.stringValue) }

    mutating func encodeNil(forKey key: Key) throws { set(.null, key) }
    mutating func encode(_ value: Bool, forKey key: Key) throws { set(.bool(value), key) }
    mutating func encode(_ value: String, forKey key: Key) throws { set(.string(value), key) }
    mutating func encode(_ value: Double, forKey key: Key) throws { set(.double(value), key) }
    mutating func encode(_ value: Float, forKey key: Key) throws { set(.float(value), key) }
    mutating func encode(_ value: Int, forKey key: Key) throws { set(.signed(Int64(value)), key) }
    mutating func encode(_ value: Int8, forKey key: Key) throws { set(.signed(Int64(value)), key) }
    mutating func encode(_ value: Int16, forKey key: Key) throws { set(.signed(Int64(value)), key) }
    mutating func encode(_ value: Int32, forKey key: Key) throws { set(.signed(Int64(value)), key) }
    mutating func encode(_ value: Int64, forKey key: Key) throws { set(.signed(value), key) }
    mutating func encode(_ value: UInt, forKey key: Key) throws { set(.unsigned(UInt64(value)), key) }
    mutating func encode(_ value: UInt8, forKey key: Key) throws { set(.unsigned(UInt64(value)), key) }
    mutating func encode(_ value: UInt16, forKey key: Key) throws { set(.unsigned(UInt64(value)), key) }
    mutating func encode(_ value: UInt32, forKey key: Key) throws { set(.unsigned(UInt64(value)), key) }
    mutating func encode(_ value: UInt64, forKey key: Key) throws { set(.unsigned(value), key) }

    mutating func encode<T: Encodable>(_ value: T, forKey key: Key) throws {
        if let scalar = compactScalar(of: value) {
            node.set(scalar, forKey: key.stringValue)
            return
        }
        try encodeValue(value, into: node.node(forKey: key.stringValue), codingPath: codingPath + [key], userInfo: userInfo)
    }

    mutating func nestedContainer<NestedKey: CodingKey>(
        keyedBy keyType: NestedKey.Type, forKey key: Key
    ) -> KeyedEncodingContainer<NestedKey> {
        let child = node.node(forKey: key.stringValue)
        child.becomeObject()
        return KeyedEncodingContainer(
            CompactKeyedEncodingContainer<NestedKey>(node: child, codingPath: codingPath + [key], userInfo: userInfo))
    }

    mutating func nestedUnkeyedContainer(forKey key: Key) -> any UnkeyedEncodingContainer {
        let child = node.node(forKey: key.stringValue)
        child.becomeArray()
        return CompactUnkeyedEncodingContainer(node: child, codingPath: codingPath + [key], userInfo: userInfo)
    }

    mutating func superEncoder() -> any Encoder {
        CompactEncoderImpl(
            node: node.node(forKey: CompactKey.superKey.stringValue), codingPath: codingPath + [CompactKey.superKey],
            userInfo: userInfo)
    }

    mutating func superEncoder(forKey key: Key) -> any Encoder {
        CompactEncoderImpl(node: node.node(forKey: key.stringValue), codingPath: codingPath + [key], userInfo: userInfo)
    }
}

struct CompactUnkeyedEncodingContainer: UnkeyedEncodingContainer {
    let node: EncodingNode
    let codingPath: [any CodingKey]
    let userInfo: [CodingUserInfoKey: Any]

    var count: Int { node.children.count }

    private func append(_ scalar: CompactScalar) { node.append(scalar) }

    mutating func encodeNil() throws { append(.null) }
    mutating func encode(_ value: Bool) throws { append(.bool(value)) }
    mutating func encode(_ value: String) throws { append(.string(value)) }
    mutating func encode(_ value: Double) throws { append(.double(value)) }
    mutating func encode(_ value: Float) throws { append(.float(value)) }
    mutating func encode(_ value: Int) throws { append(.signed(Int64(value))) }
    mutating func encode(_ value: Int8) throws { append(.signed(Int64(value))) }
    mutating func encode(_ value: Int16) throws { append(.signed(Int64(value))) }
    mutating func encode(_ value: Int32) throws { append(.signed(Int64(value))) }
    mutating func encode(_ value: Int64) throws { append(.signed(value)) }
    mutating func encode(_ value: UInt) throws { append(.unsigned(UInt64(value))) }
    mutating func encode(_ value: UInt8) throws { append(.unsigned(UInt64(value))) }
    mutating func encode(_ value: UInt16) throws { append(.unsigned(UInt64(value))) }
    mutating func encode(_ value: UInt32) throws { append(.unsigned(UInt64(value))) }
    mutating func encode(_ value: UInt64) throws { append(.unsigned(value)) }

    mutating func encode<T: Encodable>(_ value: T) throws {
        if let scalar = compactScalar(of: value) {
            node.append(scalar)
            return
        }
        let index = node.children.count
        try encodeValue(value, into: node.appendNode(), codingPath: codingPath + [CompactKey(intValue: index)], userInfo: userInfo)
    }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type) -> KeyedEncodingContainer<NestedKey> {
        let index = node.children.count
        let child = node.appendNode()
        child.becomeObject()
        return KeyedEncodingContainer(
            CompactKeyedEncodingContainer<NestedKey>(
                node: child, codingPath: codingPath + [CompactKey(intValue: index)], userInfo: userInfo))
    }

    mutating func nestedUnkeyedContainer() -> any UnkeyedEncodingContainer {
        let index = node.children.count
        let child = node.appendNode()
        child.becomeArray()
        return CompactUnkeyedEncodingContainer(node: child, codingPath: codingPath + [CompactKey(intValue: index)], userInfo: userInfo)
    }

    mutating func superEncoder() -> any Encoder {
        let index = node.children.count
        return CompactEncoderImpl(node: node.appendNode(), codingPath: codingPath + [CompactKey(intValue: index)], userInfo: userInfo)
    }
}

struct CompactSingleValueEncodingContainer: SingleValueEncodingContainer {
    let node: EncodingNode
    let codingPath: [any CodingKey]
    let userInfo: [CodingUserInfoKey: Any]

    private func set(_ scalar: CompactScalar) { node.kind = .scalar(scalar) }

    mutating func encodeNil() throws { set(.null) }
    mutating func encode(_ value: Bool) throws { set(.bool(value)) }
    mutating func encode(_ value: String) throws { set(.string(value)) }
    mutating func encode(_ value: Double) throws { set(.double(value)) }
    mutating func encode(_ value: Float) throws { set(.float(value)) }
    mutating func encode(_ value: Int) throws { set(.signed(Int64(value))) }
    mutating func encode(_ value: Int8) throws { set(.signed(Int64(value))) }
    mutating func encode(_ value: Int16) throws { set(.signed(Int64(value))) }
    mutating func encode(_ value: Int32) throws { set(.signed(Int64(value))) }
    mutating func encode(_ value: Int64) throws { set(.signed(value)) }
    mutating func encode(_ value: UInt) throws { set(.unsigned(UInt64(value))) }
    mutating func encode(_ value: UInt8) throws { set(.unsigned(UInt64(value))) }
    mutating func encode(_ value: UInt16) throws { set(.unsigned(UInt64(value))) }
    mutating func encode(_ value: UInt32) throws { set(.unsigned(UInt64(value))) }
    mutating func encode(_ value: UInt64) throws { set(.unsigned(value)) }

    mutating func encode<T: Encodable>(_ value: T) throws {
        try encodeValue(value, into: node, codingPath: codingPath, userInfo: userInfo)
    }
}
