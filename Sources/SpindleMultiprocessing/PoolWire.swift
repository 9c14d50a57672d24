// The frames of a pool worker's working phase (after the handshake of WorkerProtocol.swift).
// Many tasks travel in one write and many replies come back in one write, so these are laid out
// by hand rather than through the Codable encoder: a few fixed-size fields and the bytes.
//
// parent -> worker   task: 0x01, id (8 bytes), count (4), name length (4), name, signature
//                          length (4), signature, the encoded arguments (the rest)
//                    stop: 0x02
// worker -> parent   received: 0x01, how many more tasks the worker has read (4); sent after
//                          it reads them and before it runs the first, so that a task the
//                          worker never received can go to another worker when it dies
//                    values: 0x02, id (8), the encoded results (the rest): every call returned
//                    outcome: 0x03, id (8), the ChunkOutcome in the compact encoding
//
// Integers are little-endian. The worker runs its tasks in the order they came, and replies
// in that order.

/// Laying out and reading the frames of a pool worker's working phase.
enum PoolWire {
    static let taskKind: UInt8 = 1
    static let stopKind: UInt8 = 2
    static let receivedKind: UInt8 = 1
    static let valuesKind: UInt8 = 2
    static let outcomeKind: UInt8 = 3

    // MARK: - Writing

    static func append<T: FixedWidthInteger>(_ value: T, to buffer: inout [UInt8]) {
        var little = value.littleEndian
        withUnsafeBytes(of: &little) { buffer.append(contentsOf: $0) }
    }

    /// Appends the frame of a task.
    static func appendTask(_ request: TaskRequest, id: UInt64, to buffer: inout [UInt8]) {
        let name = request.function.utf8
        let signature = request.signature.utf8
        let count = 1 + 8 + 4 + 4 + name.count + 4 + signature.count + request.arguments.count
        Connection.appendFrame(to: &buffer, payloadCount: count) { buffer in
            buffer.append(taskKind)
            append(id, to: &buffer)
            append(UInt32(truncatingIfNeeded: request.count), to: &buffer)
            append(UInt32(truncatingIfNeeded: name.count), to: &buffer)
            buffer.append(contentsOf: name)
            append(UInt32(truncatingIfNeeded: signature.count), to: &buffer)
            buffer.append(contentsOf: signature)
            buffer.append(contentsOf: request.arguments)
        }
    }

    /// Appends the stop frame.
    static func appendStop(to buffer: inout [UInt8]) {
        Connection.appendFrame(to: &buffer, payloadCount: 1) { $0.append(stopKind) }
    }

    /// Appends the frame that says `count` more tasks were received.
    static func appendReceived(_ count: Int, to buffer: inout [UInt8]) {
        Connection.appendFrame(to: &buffer, payloadCount: 5) { buffer in
            buffer.append(receivedKind)
            append(UInt32(truncatingIfNeeded: count), to: &buffer)
        }
    }

    /// Appends the reply to task `id`.
    static func appendReply(_ outcome: ChunkOutcome, id: UInt64, to buffer: inout [UInt8]) {
        if case .values(let bytes) = outcome {
            Connection.appendFrame(to: &buffer, payloadCount: 9 + bytes.count) { buffer in
                buffer.append(valuesKind)
                append(id, to: &buffer)
                buffer.append(contentsOf: bytes)
            }
            return
        }
        let encoded: [UInt8]
        do {
            encoded = try CompactEncoder().encode(outcome)
        } catch {
            // A ChunkOutcome is made of strings, byte arrays and integers: it always encodes.
            preconditionFailure("a task's outcome does not encode: \(error)")
        }
        Connection.appendFrame(to: &buffer, payloadCount: 9 + encoded.count) { buffer in
            buffer.append(outcomeKind)
            append(id, to: &buffer)
            buffer.append(contentsOf: encoded)
        }
    }

    // MARK: - Reading

    /// A frame that does not follow the layout above.
    struct Malformed: Error, CustomStringConvertible {
        let what: String
        var description: String { "a malformed pool frame: \(what)" }
    }

    static func read<T: FixedWidthInteger>(_: T.Type, _ frame: [UInt8], at offset: inout Int) throws(Malformed) -> T {
        let size = MemoryLayout<T>.size
        guard offset + size <= frame.count else { throw Malformed(what: "\(frame.count) bytes are too few") }
        var value = T.zero
        withUnsafeMutableBytes(of: &value) { target in
            frame.withUnsafeBytes { source in
                target.copyMemory(from: UnsafeRawBufferPointer(rebasing: source[offset..<offset + size]))
            }
        }
        offset += size
        return T(littleEndian: value)
    }

    /// A task as the worker reads it: the name and signature stay bytes until they are needed.
    struct IncomingTask {
        var id: UInt64
        var count: Int
        var name: ArraySlice<UInt8>
        var signature: ArraySlice<UInt8>
        var arguments: [UInt8]
    }

    /// What the parent sent: a task, or `nil` for the stop frame.
    static func readTask(_ frame: [UInt8]) throws(Malformed) -> IncomingTask? {
        guard let kind = frame.first else { throw Malformed(what: "an empty frame") }
        if kind == stopKind { return nil }
        guard kind == taskKind else { throw Malformed(what: "kind \(kind)") }
        var offset = 1
        let id = try read(UInt64.self, frame, at: &offset)
        let count = Int(try read(UInt32.self, frame, at: &offset))
        let nameLength = Int(try read(UInt32.self, frame, at: &offset))
        guard offset + nameLength <= frame.count else { throw Malformed(what: "a name longer than its frame") }
        let name = frame[offset..<offset + nameLength]
        offset += nameLength
        let signatureLength = Int(try read(UInt32.self, frame, at: &offset))
        guard offset + signatureLength <= frame.count else { throw Malformed(what: "a signature longer than its frame") }
        let signature = frame[offset..<offset + signatureLength]
        offset += signatureLength
        return IncomingTask(id: id, count: count, name: name, signature: signature, arguments: Array(frame[offset...]))
    }

    /// What a worker sent.
    enum Reply {
        case received(Int)
        case outcome(id: UInt64, ChunkOutcome)
    }

    static func readReply(_ frame: [UInt8]) throws(Malformed) -> Reply {
        guard let kind = frame.first else { throw Malformed(what: "an empty frame") }
        var offset = 1
        switch kind {
        case receivedKind:
            return .received(Int(try read(UInt32.self, frame, at: &offset)))
        case valuesKind:
            let id = try read(UInt64.self, frame, at: &offset)
            return .outcome(id: id, .values(Array(frame[offset...])))
        case outcomeKind:
            let id = try read(UInt64.self, frame, at: &offset)
            do {
                return .outcome(id: id, try CompactDecoder().decode(ChunkOutcome.self, from: Array(frame[offset...])))
            } catch {
                throw Malformed(what: "an outcome that does not decode: \(error)")
            }
        default:
            throw Malformed(what: "kind \(kind)")
        }
    }
}
