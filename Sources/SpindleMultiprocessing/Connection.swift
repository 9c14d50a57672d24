import CSpindle
import Glibc
import SpindleSystem
import SpindleThreading
import Synchronization

/// One end of a pipe between processes or threads (Python's `multiprocessing.connection.Connection`),
/// carrying Codable messages and raw byte strings.
///
/// Make a pair with `Multiprocessing.pipe(duplex:)`. Each message is one frame: a 4-byte
/// big-endian length (or 0xFFFFFFFF and an 8-byte length, for 2 GiB and more) and the payload,
/// which for `send`/`recv` is the value in Spindle's compact binary Codable encoding (see
/// `CompactEncoder.swift`: self-describing like JSON, but binary, exact for every integer and
/// Double, raw bytes for `[UInt8]`, and free of Foundation).
///
/// A connection is safe to share between threads: sends are serialised, and so are receives, so
/// frames never interleave. It is Codable too, but only towards a `WorkerProcess` argument: the
/// child then gets the same descriptor, as Python passes connections to `Process` arguments.
public final class Connection: @unchecked Sendable, Codable, CustomStringConvertible {
    /// Whether this end can receive.
    public let readable: Bool
    /// Whether this end can send.
    public let writable: Bool

    struct State {
        var fd: Int32
        var closed = false
        /// Operations running now; the descriptor is closed when the last one ends after `close()`.
        var users = 0
        /// Set after a bad message length: the stream position is lost.
        var receiveBroken: Int?
    }

    private let state: Locked<State>
    private let sendLock = Lock()
    private let receiveLock = Lock()
    /// Bytes read but not yet returned are `buffer[bufferStart..<bufferEnd]` (guarded by `receiveLock`).
    private var buffer: [UInt8] = []
    private var bufferStart = 0
    private var bufferEnd = 0
    /// How many buffered bytes are waiting, for `poll` (which does not take `receiveLock`).
    private let buffered = Atomic<Int>(0)

    /// How much one read asks for.
    private static let readChunk = 65536

    /// Wraps an open descriptor, which the connection then owns.
    /// - Parameters:
    ///   - fd: A connected socket (or a pipe end).
    ///   - readable: Whether this end may receive.
    ///   - writable: Whether this end may send.
    init(fd: Int32, readable: Bool = true, writable: Bool = true) {
        state = Locked(State(fd: fd))
        self.readable = readable
        self.writable = writable
    }

    deinit {
        let fd = state.withLock { $0.closed ? -1 : $0.fd }
        if fd >= 0 { try? closeDescriptor(fd) }
    }

    /// The descriptor (Python's `fileno()`), for `poll`/`select` on several connections.
    /// - Returns: The descriptor.
    /// - Throws: `MultiprocessingError.closed` after `close()`.
    public func fileno() throws(MultiprocessingError) -> Int32 {
        try state.withLock { (state: inout State) throws(MultiprocessingError) -> Int32 in
            if state.closed { throw .closed }
            return state.fd
        }
    }

    /// Whether `close()` was called.
    public var closed: Bool { state.withLock { $0.closed } }

    public var description: String {
        let (fd, closed) = state.withLock { ($0.fd, $0.closed) }
        return "<Connection fd=\(closed ? "closed" : String(fd)) \(readable ? "r" : "")\(writable ? "w" : "")>"
    }

    /// Closes this end. The other end then receives `endOfFile` once it has read what was sent.
    ///
    /// A send or receive running in another thread at that moment finishes (or fails) first; the
    /// descriptor is released when it returns, so it is never reused under its feet. Closing twice
    /// does nothing.
    public func close() {
        let fd = state.withLock { state -> Int32 in
            if state.closed { return -1 }
            state.closed = true
            return state.users == 0 ? state.fd : -1
        }
        if fd >= 0 { try? closeDescriptor(fd) }
    }

    private func begin() throws(MultiprocessingError) -> Int32 {
        try state.withLock { (state: inout State) throws(MultiprocessingError) -> Int32 in
            if state.closed { throw .closed }
            state.users += 1
            return state.fd
        }
    }

    private func end() {
        let fd = state.withLock { state -> Int32 in
            state.users -= 1
            return state.closed && state.users == 0 ? state.fd : -1
        }
        if fd >= 0 { try? closeDescriptor(fd) }
    }

    // MARK: - Sending

    /// Sends `value` as one message.
    /// - Parameter value: Any Codable value (the other end receives it with `recv`).
    /// - Throws: `MultiprocessingError.encodingFailed` when the value cannot be encoded,
    ///   `.brokenPipe` when the other end is gone, `.closed`, or `.invalidState` for a read-only end.
    public func send<T: Encodable>(_ value: T) throws(MultiprocessingError) {
        var frame: [UInt8]
        do {
            frame = try CompactEncoder().encode(value, header: Self.maxHeader)
        } catch {
            throw .encodingFailed(String(describing: error))
        }
        try sendFrame(&frame, payloadOffset: Self.maxHeader)
    }

    /// Sends raw bytes as one message (Python's `send_bytes`).
    /// - Parameter bytes: The bytes (the other end receives them with `recvBytes`).
    /// - Throws: As `send`.
    public func sendBytes(_ bytes: [UInt8]) throws(MultiprocessingError) {
        try sendBytes(bytes[...])
    }

    /// Sends part of a byte buffer as one message (Python's `send_bytes(buf, offset, size)`).
    /// - Parameter bytes: The bytes.
    /// - Throws: As `send`.
    public func sendBytes(_ bytes: ArraySlice<UInt8>) throws(MultiprocessingError) {
        var frame = [UInt8](repeating: 0, count: Self.maxHeader)
        frame.append(contentsOf: bytes)
        try sendFrame(&frame, payloadOffset: Self.maxHeader)
    }

    /// The longest frame header: the 0xFFFFFFFF marker and an 8-byte length.
    static let maxHeader = 12

    /// Writes the header in front of the payload that starts at `payloadOffset` and sends the frame.
    func sendFrame(_ frame: inout [UInt8], payloadOffset: Int) throws(MultiprocessingError) {
        guard writable else { throw .invalidState("connection is read-only") }
        let length = frame.count - payloadOffset
        let start: Int
        if length < 0x7FFF_FFFF {
            start = payloadOffset - 4
            for i in 0..<4 { frame[start + i] = UInt8(truncatingIfNeeded: UInt32(length) >> UInt32(24 - 8 * i)) }
        } else {
            start = payloadOffset - 12
            for i in 0..<4 { frame[start + i] = 0xFF }
            for i in 0..<8 { frame[start + 4 + i] = UInt8(truncatingIfNeeded: UInt64(length) >> UInt64(56 - 8 * i)) }
        }
        try sendRaw(frame, from: start)
    }

    /// Appends one frame of `payloadCount` bytes to `buffer`: the header, then what `payload`
    /// appends (exactly `payloadCount` bytes). Frames laid out this way go out with `sendFrames`.
    static func appendFrame(to buffer: inout [UInt8], payloadCount: Int, _ payload: (inout [UInt8]) -> Void) {
        if payloadCount < 0x7FFF_FFFF {
            for i in 0..<4 { buffer.append(UInt8(truncatingIfNeeded: UInt32(payloadCount) >> UInt32(24 - 8 * i))) }
        } else {
            for _ in 0..<4 { buffer.append(0xFF) }
            for i in 0..<8 { buffer.append(UInt8(truncatingIfNeeded: UInt64(payloadCount) >> UInt64(56 - 8 * i))) }
        }
        payload(&buffer)
    }

    /// Sends frames laid out by `appendFrame`, all with one write where the socket takes them.
    /// - Throws: As `send`.
    func sendFrames(_ frames: [UInt8]) throws(MultiprocessingError) {
        guard writable else { throw .invalidState("connection is read-only") }
        try sendRaw(frames, from: 0)
    }

    /// Writes `bytes[start...]`, whole, under the send lock.
    private func sendRaw(_ bytes: [UInt8], from start: Int) throws(MultiprocessingError) {
        sendLock.lock()
        defer { sendLock.unlock() }
        let fd = try begin()
        defer { end() }
        let failure = bytes.withUnsafeBytes { raw -> MultiprocessingError? in
            var offset = start
            while offset < raw.count {
                let n = spindle_mp_send(fd, raw.baseAddress! + offset, raw.count - offset)
                if n < 0 {
                    let code = errno
                    if code == EPIPE || code == ECONNRESET { return .brokenPipe }
                    return .system(SystemError(call: "send", errno: code, subject: "fd \(fd)"))
                }
                offset += n
            }
            return nil
        }
        if let failure { throw failure }
    }

    // MARK: - Receiving

    /// Receives the next message as a `T` (Python's `recv`).
    /// - Parameter type: The type the other end sent.
    /// - Returns: The value.
    /// - Throws: `MultiprocessingError.endOfFile` when the other end closed and everything it sent
    ///   was read; `.decodingFailed` when the message is not a `T` (the message is consumed);
    ///   `.closed`; `.invalidState` for a write-only end.
    public func recv<T: Decodable>(_ type: T.Type = T.self) throws(MultiprocessingError) -> T {
        try recv(type, userInfo: [:])
    }

    func recv<T: Decodable>(_ type: T.Type, userInfo: [CodingUserInfoKey: Any]) throws(MultiprocessingError) -> T {
        let frame = try receiveFrame(maxLength: nil)
        do {
            return try CompactDecoder(userInfo: userInfo).decode(T.self, from: frame)
        } catch {
            throw .decodingFailed(String(describing: error))
        }
    }

    /// Receives the next message as raw bytes (Python's `recv_bytes`).
    /// - Parameter maxLength: The longest message accepted; a longer one throws and leaves the
    ///   connection unreadable, as in Python.
    /// - Returns: The bytes.
    /// - Throws: As `recv`, and `MultiprocessingError.badMessageLength`.
    public func recvBytes(maxLength: Int? = nil) throws(MultiprocessingError) -> [UInt8] {
        try receiveFrame(maxLength: maxLength)
    }

    /// Whether a message (or the end of the stream) is waiting to be received (Python's `poll`).
    /// - Parameter timeout: Seconds to wait for one; 0 (the default) does not wait; `nil` waits
    ///   as long as it takes.
    /// - Returns: `true` when `recv` would not block.
    /// - Throws: `MultiprocessingError.closed`, or `.invalidState` for a write-only end.
    public func poll(timeout: Double? = 0) throws(MultiprocessingError) -> Bool {
        guard readable else { throw .invalidState("connection is write-only") }
        if buffered.load(ordering: .acquiring) > 0 { return true }
        let fd = try begin()
        defer { end() }
        let deadline = Deadline.after(seconds: timeout.map { max(0, $0) })
        while true {
            let wait: Int32
            if let left = deadline.remainingSeconds {
                wait = Int32(min((left * 1000).rounded(.up), 3_600_000))
            } else {
                wait = -1
            }
            let rc = spindle_mp_wait_readable(fd, wait)
            if rc > 0 { return true }
            if rc == 0 {
                if deadline.hasPassed || wait == 0 { return false }
                continue
            }
            if errno == EINTR { continue }
            throw .system(SystemError(call: "poll", errno: errno, subject: "fd \(fd)"))
        }
    }

    func receiveFrame(maxLength: Int?) throws(MultiprocessingError) -> [UInt8] {
        guard readable else { throw .invalidState("connection is write-only") }
        receiveLock.lock()
        defer { receiveLock.unlock() }
        let fd = try begin()
        defer { end() }
        if let bad = state.withLock({ $0.receiveBroken }) { throw .badMessageLength(bad) }
        try fill(4, fd: fd)
        var length = 0
        for i in 0..<4 { length = length << 8 | Int(buffer[bufferStart + i]) }
        var header = 4
        if length == 0xFFFF_FFFF {
            try fill(12, fd: fd)
            var long: UInt64 = 0
            for i in 4..<12 { long = long << 8 | UInt64(buffer[bufferStart + i]) }
            guard long < UInt64(Int.max / 2) else {
                state.withLock { $0.receiveBroken = Int(truncatingIfNeeded: long) }
                throw .badMessageLength(Int(truncatingIfNeeded: long))
            }
            length = Int(long)
            header = 12
        }
        if let maxLength, length > maxLength {
            state.withLock { $0.receiveBroken = length }
            throw .badMessageLength(length)
        }
        consume(header)
        let available = bufferEnd - bufferStart
        if available >= length {
            let payload = Array(buffer[bufferStart..<bufferStart + length])
            consume(length)
            return payload
        }
        // A long message: take what is buffered, then read the rest straight into place.
        var payload = [UInt8](repeating: 0, count: length)
        payload.withUnsafeMutableBytes { target in
            buffer.withUnsafeBytes { source in
                target.baseAddress!.copyMemory(from: source.baseAddress! + bufferStart, byteCount: available)
            }
        }
        consume(available)
        var offset = available
        let failure = payload.withUnsafeMutableBytes { target -> MultiprocessingError? in
            while offset < length {
                let n = spindle_mp_recv(fd, target.baseAddress! + offset, length - offset)
                if n == 0 { return .endOfFile }
                if n < 0 { return .system(SystemError(call: "recv", errno: errno, subject: "fd \(fd)")) }
                offset += n
            }
            return nil
        }
        if let failure { throw failure }
        return payload
    }

    /// Reads until at least `count` bytes are buffered.
    private func fill(_ count: Int, fd: Int32) throws(MultiprocessingError) {
        if buffer.isEmpty { buffer = [UInt8](repeating: 0, count: Self.readChunk) }
        while bufferEnd - bufferStart < count {
            if buffer.count - bufferStart < count || bufferEnd == buffer.count {
                // Move what is buffered to the front to make room.
                let pending = bufferEnd - bufferStart
                if pending > 0 {
                    buffer.withUnsafeMutableBytes { raw in
                        raw.baseAddress!.copyMemory(from: raw.baseAddress! + bufferStart, byteCount: pending)
                    }
                }
                bufferStart = 0
                bufferEnd = pending
            }
            let end = bufferEnd
            var code: Int32 = 0
            let n = buffer.withUnsafeMutableBytes { raw -> Int in
                let n = spindle_mp_recv(fd, raw.baseAddress! + end, raw.count - end)
                code = errno
                return n
            }
            if n == 0 {
                if state.withLock({ $0.closed }) { throw .closed }
                throw .endOfFile
            }
            if n < 0 {
                if code == ECONNRESET { throw .endOfFile }
                throw .system(SystemError(call: "recv", errno: code, subject: "fd \(fd)"))
            }
            bufferEnd += n
            buffered.store(bufferEnd - bufferStart, ordering: .releasing)
        }
    }

    private func consume(_ count: Int) {
        bufferStart += count
        if bufferStart == bufferEnd {
            bufferStart = 0
            bufferEnd = 0
        }
        buffered.store(bufferEnd - bufferStart, ordering: .releasing)
    }

    // MARK: - Codable (towards a WorkerProcess only)

    private enum CodingKeys: String, CodingKey {
        case fd, readable, writable
    }

    /// Encodes the connection for a `WorkerProcess` argument: the child gets the descriptor.
    /// - Parameter encoder: The encoder of a `WorkerProcess` argument.
    /// - Throws: `EncodingError.invalidValue` anywhere else (a pool task, another encoder): a
    ///   descriptor means nothing in a process that did not receive it.
    public func encode(to encoder: any Encoder) throws {
        guard let transfer = encoder.userInfo[DescriptorTransfer.key] as? DescriptorTransfer else {
            throw EncodingError.invalidValue(
                self,
                .init(
                    codingPath: encoder.codingPath,
                    debugDescription: "a Connection can only be passed in the argument of a WorkerProcess"))
        }
        let fd: Int32
        do { fd = try fileno() } catch {
            throw EncodingError.invalidValue(self, .init(codingPath: encoder.codingPath, debugDescription: "the connection is closed"))
        }
        transfer.outgoing.append(fd)
        transfer.retained.append(self)
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(fd, forKey: .fd)
        try container.encode(readable, forKey: .readable)
        try container.encode(writable, forKey: .writable)
    }

    /// Decodes a connection in a `WorkerProcess` child, taking over the descriptor it inherited.
    /// - Parameter decoder: The decoder of the child's argument.
    /// - Throws: `DecodingError.dataCorrupted` anywhere else, or for a descriptor the child did
    ///   not inherit (or that another decoded connection already took).
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let fd = try container.decode(Int32.self, forKey: .fd)
        guard let transfer = decoder.userInfo[DescriptorTransfer.key] as? DescriptorTransfer,
            transfer.incoming.remove(fd) != nil
        else {
            throw DecodingError.dataCorrupted(
                .init(
                    codingPath: decoder.codingPath,
                    debugDescription: "descriptor \(fd) was not passed to this process with the Connection"))
        }
        state = Locked(State(fd: fd))
        readable = try container.decode(Bool.self, forKey: .readable)
        writable = try container.decode(Bool.self, forKey: .writable)
    }
}

/// The descriptors of connections inside a `WorkerProcess` argument: collected while the parent
/// encodes it, claimed while the child decodes it.
final class DescriptorTransfer: @unchecked Sendable {
    static let key = CodingUserInfoKey(rawValue: "spindle.multiprocessing.descriptors")!

    /// Descriptors to pass to the child (parent side).
    var outgoing: [Int32] = []
    /// The connections they belong to, kept open until the child has started.
    var retained: [Connection] = []
    /// Descriptors the child inherited and no connection has claimed yet (child side).
    var incoming: Set<Int32> = []

    init(incoming: Set<Int32> = []) { self.incoming = incoming }
}
