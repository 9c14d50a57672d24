// Decoding of the compact format described in CompactEncoder.swift: the bytes are parsed into a
// tree of `CompactValue`s, which the containers then walk.

/// A parsed value (the arrays of the containers give the indirection; no case is boxed).
enum CompactValue {
    case null
    case bool(Bool)
    case signed(Int64)
    case unsigned(UInt64)
    case double(Double)
    case float(Float)
    case string(String)
    case bytes([UInt8])
    case array([CompactValue])
    case object(keys: [String], values: [CompactValue])

    var kindName: String {
        switch self {
        case .null: return "nil"
        case .bool: return "a Bool"
        case .signed: return "a signed integer"
        case .unsigned: return "an unsigned integer"
        case .double: return "a Double"
        case .float: return "a Float"
        case .string: return "a String"
        case .bytes: return "bytes"
        case .array: return "an array"
        case .object: return "a keyed container"
        }
    }
}

/// Reads compact-encoded bytes into a `CompactValue` tree.
struct CompactReader {
    /// Deeper nesting than this is refused rather than risking the stack.
    static let maxDepth = 512

    let bytes: UnsafeRawBufferPointer
    var offset = 0

    init(_ bytes: UnsafeRawBufferPointer) { self.bytes = bytes }

    private func corrupted(_ what: String) -> DecodingError {
        DecodingError.dataCorrupted(.init(codingPath: [], debugDescription: "corrupt message: \(what) at byte \(offset)"))
    }

    mutating func byte() throws -> UInt8 {
        guard offset < bytes.count else { throw corrupted("unexpected end") }
        defer { offset += 1 }
        return bytes[offset]
    }

    mutating func varint() throws -> UInt64 {
        var result: UInt64 = 0
        var shift: UInt64 = 0
        while true {
            let b = try byte()
            if shift == 63 && b > 1 { throw corrupted("varint too long") }
            result |= UInt64(b & 0x7F) << shift
            if b & 0x80 == 0 { return result }
            shift += 7
            if shift > 63 { throw corrupted("varint too long") }
        }
    }

    mutating func count() throws -> Int {
        let n = try varint()
        guard n <= UInt64(bytes.count - offset) else { throw corrupted("length \(n) beyond the message") }
        return Int(n)
    }

    mutating func rawString() throws -> String {
        let n = try count()
        let slice = UnsafeRawBufferPointer(rebasing: bytes[offset..<offset + n])
        offset += n
        return String(decoding: slice, as: UTF8.self)
    }

    mutating func fixed(_ width: Int) throws -> UInt64 {
        guard bytes.count - offset >= width else { throw corrupted("unexpected end") }
        var bits: UInt64 = 0
        for i in 0..<width { bits |= UInt64(bytes[offset + i]) << UInt64(8 * i) }
        offset += width
        return bits
    }

    mutating func value(depth: Int = 0) throws -> CompactValue {
        if depth > Self.maxDepth { throw corrupted("nesting deeper than \(Self.maxDepth)") }
        let tag = try byte()
        switch tag {
        case CompactTag.null: return .null
        case CompactTag.falseValue: return .bool(false)
        case CompactTag.trueValue: return .bool(true)
        case CompactTag.signed:
            let zigzag = try varint()
            return .signed(Int64(bitPattern: zigzag >> 1) ^ -Int64(bitPattern: zigzag & 1))
        case CompactTag.unsigned: return .unsigned(try varint())
        case CompactTag.double: return .double(Double(bitPattern: try fixed(8)))
        case CompactTag.float: return .float(Float(bitPattern: UInt32(truncatingIfNeeded: try fixed(4))))
        case CompactTag.string: return .string(try rawString())
        case CompactTag.bytes:
            let n = try count()
            let result = [UInt8](UnsafeRawBufferPointer(rebasing: bytes[offset..<offset + n]))
            offset += n
            return .bytes(result)
        case CompactTag.array:
            let n = try count()
            var items: [CompactValue] = []
            items.reserveCapacity(n)
            for _ in 0..<n { items.append(try value(depth: depth + 1)) }
            return .array(items)
        case CompactTag.object:
            let n = try count()
            var keys: [String] = []
            var values: [CompactValue] = []
            keys.reserveCapacity(n)
            values.reserveCapacity(n)
            for _ in 0..<n {
                keys.append(try rawString())
                values.append(try value(depth: depth + 1))
            }
            return .object(keys: keys, values: values)
        default:
            offset -= 1
            throw corrupted("unknown tag \(tag)")
        }
    }
}

/// Decodes Codable values from the compact format.
struct CompactDecoder {
    /// Handed to `Decodable` implementations as `decoder.userInfo`.
    var userInfo: [CodingUserInfoKey: Any] = [:]

    /// Decodes a `T` from `bytes`.
    /// - Parameters:
    ///   - type: The type.
    ///   - bytes: The encoding, exactly.
    /// - Returns: The value.
    /// - Throws: `DecodingError` when the bytes are not a `T`.
    func decode<T: Decodable>(_ type: T.Type, from bytes: UnsafeRawBufferPointer) throws -> T {
        var reader = CompactReader(bytes)
        let value = try reader.value()
        guard reader.offset == bytes.count else {
            throw DecodingError.dataCorrupted(
                .init(codingPath: [], debugDescription: "corrupt message: \(bytes.count - reader.offset) bytes after the value"))
        }
        return try decodeValue(T.self, from: value, codingPath: [], userInfo: userInfo)
    }

    /// Decodes a `T` from `bytes`.
    func decode<T: Decodable>(_ type: T.Type, from bytes: [UInt8]) throws -> T {
        try bytes.withUnsafeBytes { try decode(T.self, from: $0) }
    }
}

func typeMismatch<T>(_ type: T.Type, _ value: CompactValue, _ codingPath: [any CodingKey]) -> DecodingError {
    DecodingError.typeMismatch(
        T.self, .init(codingPath: codingPath, debugDescription: "expected \(T.self), found \(value.kindName)"))
}

func decodeInteger<T: FixedWidthInteger>(_ type: T.Type, _ value: CompactValue, _ codingPath: [any CodingKey]) throws -> T {
    let result: T?
    switch value {
    case .signed(let v): result = T(exactly: v)
    case .unsigned(let v): result = T(exactly: v)
    default: throw typeMismatch(T.self, value, codingPath)
    }
    guard let result else {
        throw DecodingError.dataCorrupted(
            .init(codingPath: codingPath, debugDescription: "the number does not fit in \(T.self)"))
    }
    return result
}

// Each branch runs only when T is exactly the type named, so the bit casts are identities (a
// dynamic cast per value was a tenth of a small pool task's time).
func decodeScalar<T>(_ type: T.Type, _ value: CompactValue, _ codingPath: [any CodingKey]) throws -> T? {
    if T.self == Int.self { return unsafeBitCast(try decodeInteger(Int.self, value, codingPath), to: T.self) }
    if T.self == String.self {
        guard case .string(let s) = value else { throw typeMismatch(T.self, value, codingPath) }
        return unsafeBitCast(s, to: T.self)
    }
    if T.self == Double.self { return unsafeBitCast(try decodeDouble(value, codingPath), to: T.self) }
    if T.self == Bool.self {
        guard case .bool(let b) = value else { throw typeMismatch(T.self, value, codingPath) }
        return unsafeBitCast(b, to: T.self)
    }
    if T.self == [UInt8].self, case .bytes(let bytes) = value { return unsafeBitCast(bytes, to: T.self) }
    if case .array(let items) = value {
        // Arrays of the common scalars, without a container per element.
        if T.self == [Int].self { return unsafeBitCast(try items.map { try decodeInteger(Int.self, $0, codingPath) }, to: T.self) }
        if T.self == [Double].self { return unsafeBitCast(try items.map { try decodeDouble($0, codingPath) }, to: T.self) }
        if T.self == [String].self {
            let strings = try items.map { item -> String in
                guard case .string(let s) = item else { throw typeMismatch(String.self, item, codingPath) }
                return s
            }
            return unsafeBitCast(strings, to: T.self)
        }
    }
    return nil
}

func decodeDouble(_ value: CompactValue, _ codingPath: [any CodingKey]) throws -> Double {
    switch value {
    case .double(let d): return d
    case .float(let f): return Double(f)
    default: throw typeMismatch(Double.self, value, codingPath)
    }
}

func decodeFloat(_ value: CompactValue, _ codingPath: [any CodingKey]) throws -> Float {
    switch value {
    case .float(let f): return f
    case .double(let d): return Float(d)
    default: throw typeMismatch(Float.self, value, codingPath)
    }
}

func decodeValue<T: Decodable>(
    _ type: T.Type, from value: CompactValue, codingPath: [any CodingKey], userInfo: [CodingUserInfoKey: Any]
) throws -> T {
    if let scalar = try decodeScalar(T.self, value, codingPath) { return scalar }
    return try T(from: CompactDecoderImpl(value: value, codingPath: codingPath, userInfo: userInfo))
}

/// The `Decoder` handed to `init(from:)`.
final class CompactDecoderImpl: Decoder {
    let value: CompactValue
    let codingPath: [any CodingKey]
    let userInfo: [CodingUserInfoKey: Any]

    init(value: CompactValue, codingPath: [any CodingKey], userInfo: [CodingUserInfoKey: Any]) {
        self.value = value
        self.codingPath = codingPath
        self.userInfo = userInfo
    }

    func container<Key: CodingKey>(keyedBy type: Key.Type) throws -> KeyedDecodingContainer<Key> {
        guard case .object(let keys, let values) = value else {
            throw typeMismatch([String: Any].self, value, codingPath)
        }
        return KeyedDecodingContainer(
            CompactKeyedDecodingContainer<Key>(keys: keys, values: values, codingPath: codingPath, userInfo: userInfo))
    }

    func unkeyedContainer() throws -> any UnkeyedDecodingContainer {
        switch value {
        case .array(let items):
            return CompactUnkeyedDecodingContainer(items: items, codingPath: codingPath, userInfo: userInfo)
        case .bytes(let bytes):
            return CompactUnkeyedDecodingContainer(
                items: bytes.map { .unsigned(UInt64($0)) }, codingPath: codingPath, userInfo: userInfo)
        default:
            throw typeMismatch([Any].self, value, codingPath)
        }
    }

    func singleValueContainer() throws -> any SingleValueDecodingContainer {
        CompactSingleValueDecodingContainer(value: value, codingPath: codingPath, userInfo: userInfo)
    }
}

struct CompactKeyedDecodingContainer<Key: CodingKey>: KeyedDecodingContainerProtocol {
    let values: [CompactValue]
    let orderedKeys: [String]
    /// Key positions, for containers too large for a linear search.
    let index: [String: Int]?
    let codingPath: [any CodingKey]
    let userInfo: [CodingUserInfoKey: Any]

    init(keys: [String], values: [CompactValue], codingPath: [any CodingKey], userInfo: [CodingUserInfoKey: Any]) {
        self.values = values
        orderedKeys = keys
        if keys.count > 12 {
            var index: [String: Int] = [:]
            index.reserveCapacity(keys.count)
            for (i, key) in keys.enumerated() { index[key] = i }  // a repeated key: the last one wins
            self.index = index
        } else {
            index = nil
        }
        self.codingPath = codingPath
        self.userInfo = userInfo
    }

    private func position(of key: String) -> Int? {
        if let index { return index[key] }
        return orderedKeys.lastIndex(of: key)
    }

    var allKeys: [Key] {
        var seen = Set<String>()
        return orderedKeys.compactMap { seen.insert($0).inserted ? Key(stringValue: $0) : nil }
    }

    func contains(_ key: Key) -> Bool { position(of: key.stringValue) != nil }

    private func value(_ key: Key) throws -> CompactValue {
        guard let i = position(of: key.stringValue) else {
            throw DecodingError.keyNotFound(
                key, .init(codingPath: codingPath, debugDescription: "no value for the key \"\(key.stringValue)\""))
        }
        return values[i]
    }

    func decodeNil(forKey key: Key) throws -> Bool {
        if case .null = try value(key) { return true }
        return false
    }

    func decode(_ type: Bool.Type, forKey key: Key) throws -> Bool {
        let v = try value(key)
        guard case .bool(let b) = v else { throw typeMismatch(Bool.self, v, codingPath + [key]) }
        return b
    }

    func decode(_ type: String.Type, forKey key: Key) throws -> String {
        let v = try value(key)
        guard case .string(let s) = v else { throw typeMismatch(String.self, v, codingPath + [key]) }
        return s
    }

    func decode(_ type: Double.Type, forKey key: Key) throws -> Double { try decodeDouble(value(key), codingPath + [key]) }
    func decode(_ type: Float.Type, forKey key: Key) throws -> Float { try decodeFloat(value(key), codingPath + [key]) }
    func decode(_ type: Int.Type, forKey key: Key) throws -> Int { try decodeInteger(type, value(key), codingPath + [key]) }
    func decode(_ type: Int8.Type, forKey key: Key) throws -> Int8 { try decodeInteger(type, value(key), codingPath + [key]) }
    func decode(_ type: Int16.Type, forKey key: Key) throws -> Int16 { try decodeInteger(type, value(key), codingPath + [key]) }
    func decode(_ type: Int32.Type, forKey key: Key) throws -> Int32 { try decodeInteger(type, value(key), codingPath + [key]) }
    func decode(_ type: Int64.Type, forKey key: Key) throws -> Int64 { try decodeInteger(type, value(key), codingPath + [key]) }
    func decode(_ type: UInt.Type, forKey key: Key) throws -> UInt { try decodeInteger(type, value(key), codingPath + [key]) }
    func decode(_ type: UInt8.Type, forKey key: Key) throws -> UInt8 { try decodeInteger(type, value(key), codingPath + [key]) }
    func decode(_ type: UInt16.Type, forKey key: Key) throws -> UInt16 { try decodeInteger(type, value(key), codingPath + [key]) }
    func decode(_ type: UInt32.Type, forKey key: Key) throws -> UInt32 { try decodeInteger(type, value(key), codingPath + [key]) }
    func decode(_ type: UInt64.Type, forKey key: Key) throws -> UInt64 { try decodeInteger(type, value(key), codingPath + [key]) }

    func decode<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T {
        try decodeValue(T.self, from: value(key), codingPath: codingPath + [key], userInfo: userInfo)
    }

    func nestedContainer<NestedKey: CodingKey>(
        keyedBy type: NestedKey.Type, forKey key: Key
    ) throws -> KeyedDecodingContainer<NestedKey> {
        try CompactDecoderImpl(value: value(key), codingPath: codingPath + [key], userInfo: userInfo)
            .container(keyedBy: NestedKey.self)
    }

    func nestedUnkeyedContainer(forKey key: Key) throws -> any UnkeyedDecodingContainer {
        try CompactDecoderImpl(value: value(key), codingPath: codingPath + [key], userInfo: userInfo).unkeyedContainer()
    }

    func superDecoder() throws -> any Decoder {
        let v: CompactValue = position(of: CompactKey.superKey.stringValue).map { values[$0] } ?? .null
        return CompactDecoderImpl(value: v, codingPath: codingPath + [CompactKey.superKey], userInfo: userInfo)
    }

    func superDecoder(forKey key: Key) throws -> any Decoder {
        let v: CompactValue = position(of: key.stringValue).map { values[$0] } ?? .null
        return CompactDecoderImpl(value: v, codingPath: codingPath + [key], userInfo: userInfo)
    }
}

struct CompactUnkeyedDecodingContainer: UnkeyedDecodingContainer {
    let items: [CompactValue]
    let codingPath: [any CodingKey]
    let userInfo: [CodingUserInfoKey: Any]
    var currentIndex = 0

    init(items: [CompactValue], codingPath: [any CodingKey], userInfo: [CodingUserInfoKey: Any]) {
        self.items = items
        self.codingPath = codingPath
        self.userInfo = userInfo
    }

    var count: Int? { items.count }
    var isAtEnd: Bool { currentIndex >= items.count }

    private var path: [any CodingKey] { codingPath + [CompactKey(intValue: currentIndex)] }

    private mutating func next<T>(_ type: T.Type) throws -> CompactValue {
        guard !isAtEnd else {
            throw DecodingError.valueNotFound(
                T.self, .init(codingPath: path, debugDescription: "the unkeyed container is at its end"))
        }
        defer { currentIndex += 1 }
        return items[currentIndex]
    }

    mutating func decodeNil() throws -> Bool {
        guard !isAtEnd else { throw DecodingError.valueNotFound(Any?.self, .init(codingPath: path, debugDescription: "at end")) }
        if case .null = items[currentIndex] {
            currentIndex += 1
            return true
        }
        return false
    }

    mutating func decode(_ type: Bool.Type) throws -> Bool {
        let p = path
        let v = try next(type)
        guard case .bool(let b) = v else { throw typeMismatch(type, v, p) }
        return b
    }

    mutating func decode(_ type: String.Type) throws -> String {
        let p = path
        let v = try next(type)
        guard case .string(let s) = v else { throw typeMismatch(type, v, p) }
        return s
    }

    mutating func decode(_ type: Double.Type) throws -> Double { let p = path; return try decodeDouble(next(type), p) }
    mutating func decode(_ type: Float.Type) throws -> Float { let p = path; return try decodeFloat(next(type), p) }
    mutating func decode(_ type: Int.Type) throws -> Int { let p = path; return try decodeInteger(type, next(type), p) }
    mutating func decode(_ type: Int8.Type) throws -> Int8 { let p = path; return try decodeInteger(type, next(type), p) }
    mutating func decode(_ type: Int16.Type) throws -> Int16 { let p = path; return try decodeInteger(type, next(type), p) }
    mutating func decode(_ type: Int32.Type) throws -> Int32 { let p = path; return try decodeInteger(type, next(type), p) }
    mutating func decode(_ type: Int64.Type) throws -> Int64 { let p = path; return try decodeInteger(type, next(type), p) }
    mutating func decode(_ type: UInt.Type) throws -> UInt { let p = path; return try decodeInteger(type, next(type), p) }
    mutating func decode(_ type: UInt8.Type) throws -> UInt8 { let p = path; return try decodeInteger(type, next(type), p) }
    mutating func decode(_ type: UInt16.Type) throws -> UInt16 { let p = path; return try decodeInteger(type, next(type), p) }
    mutating func decode(_ type: UInt32.Type) throws -> UInt32 { let p = path; return try decodeInteger(type, next(type), p) }
    mutating func decode(_ type: UInt64.Type) throws -> UInt64 { let p = path; return try decodeInteger(type, next(type), p) }

    mutating func decode<T: Decodable>(_ type: T.Type) throws -> T {
        let p = path
        return try decodeValue(T.self, from: next(type), codingPath: p, userInfo: userInfo)
    }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type) throws -> KeyedDecodingContainer<NestedKey> {
        let p = path
        return try CompactDecoderImpl(value: next([String: Any].self), codingPath: p, userInfo: userInfo)
            .container(keyedBy: NestedKey.self)
    }

    mutating func nestedUnkeyedContainer() throws -> any UnkeyedDecodingContainer {
        let p = path
        return try CompactDecoderImpl(value: next([Any].self), codingPath: p, userInfo: userInfo).unkeyedContainer()
    }

    mutating func superDecoder() throws -> any Decoder {
        let p = path
        return CompactDecoderImpl(value: try next(Any.self), codingPath: p, userInfo: userInfo)
    }
}

struct CompactSingleValueDecodingContainer: SingleValueDecodingContainer {
    let value: CompactValue
    let codingPath: [any CodingKey]
    let userInfo: [CodingUserInfoKey: Any]

    func decodeNil() -> Bool {
        if case .null = value { return true }
        return false
    }

    func decode(_ type: Bool.Type) throws -> Bool {
        guard case .bool(let b) = value else { throw typeMismatch(type, value, codingPath) }
        return b
    }

    func decode(_ type: String.Type) throws -> String {
        guard case .string(let s) = value else { throw typeMismatch(type, value, codingPath) }
        return s
    }

    func decode(_ type: Double.Type) throws -> Double { try decodeDouble(value, codingPath) }
    func decode(_ type: Float.Type) throws -> Float { try decodeFloat(value, codingPath) }
    func decode(_ type: Int.Type) throws -> Int { try decodeInteger(type, value, codingPath) }
    func decode(_ type: Int8.Type) throws -> Int8 { try decodeInteger(type, value, codingPath) }
    func decode(_ type: Int16.Type) throws -> Int16 { try decodeInteger(type, value, codingPath) }
    func decode(_ type: Int32.Type) throws -> Int32 { try decodeInteger(type, value, codingPath) }
    func decode(_ type: Int64.Type) throws -> Int64 { try decodeInteger(type, value, codingPath) }
    func decode(_ type: UInt.Type) throws -> UInt { try decodeInteger(type, value, codingPath) }
    func decode(_ type: UInt8.Type) throws -> UInt8 { try decodeInteger(type, value, codingPath) }
    func decode(_ type: UInt16.Type) throws -> UInt16 { try decodeInteger(type, value, codingPath) }
    func decode(_ type: UInt32.Type) throws -> UInt32 { try decodeInteger(type, value, codingPath) }
    func decode(_ type: UInt64.Type) throws -> UInt64 { try decodeInteger(type, value, codingPath) }

    func decode<T: Decodable>(_ type: T.Type) throws -> T {
        try decodeValue(T.self, from: value, codingPath: codingPath, userInfo: userInfo)
    }
}
