import Glibc
import SpindleMultiprocessing
import SpindleSystem
import SpindleThreading
import Testing

/// A Codable enum with associated values, a class-free tree and every scalar type.
enum Shape: Codable, Equatable, Sendable {
    case circle(radius: Double)
    case polygon([Point])
    case empty
}

struct Point: Codable, Equatable, Sendable {
    var x: Int
    var y: Int
}

struct Scalars: Codable, Equatable, Sendable {
    var int8: Int8 = .min
    var int16: Int16 = .max
    var int32: Int32 = .min
    var int64: Int64 = .min
    var uint8: UInt8 = .max
    var uint16: UInt16 = .max
    var uint32: UInt32 = .max
    var uint64: UInt64 = .max
    var uint: UInt = .max
    var int: Int = -1
    var float: Float = -1.5
    var double: Double = .pi
    var bool = true
    var string = "héllo, 世界 🎉"
    var none: String? = nil
    var some: String? = "x"
}

/// A class hierarchy that encodes its superclass through `superEncoder`.
class Base: Codable {
    var base: Int
    init(base: Int) { self.base = base }
}

final class Derived: Base, @unchecked Sendable {
    var extra: String
    init(base: Int, extra: String) {
        self.extra = extra
        super.init(base: base)
    }

    enum Keys: String, CodingKey { case extra }

    required init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: Keys.self)
        extra = try container.decode(String.self, forKey: .extra)
        try super.init(from: container.superDecoder())
    }

    override func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: Keys.self)
        try container.encode(extra, forKey: .extra)
        try super.encode(to: container.superEncoder())
    }
}

@Suite("multiprocessing: Connection and pipe", .timeLimit(.minutes(2)))
struct ConnectionTests {
    @Test func valuesOfEveryKindRoundTrip() throws {
        let (a, b) = try Multiprocessing.pipe()
        try a.send(42)
        #expect(try b.recv(Int.self) == 42)
        try a.send("text")
        #expect(try b.recv(String.self) == "text")
        try a.send(Scalars())
        #expect(try b.recv(Scalars.self) == Scalars())
        let shapes: [Shape] = [.circle(radius: 2), .polygon([Point(x: 1, y: 2), Point(x: -3, y: 4)]), .empty]
        try b.send(shapes)
        #expect(try a.recv([Shape].self) == shapes)
        let dictionary: [Int: [String?]] = [1: ["a", nil], -7: []]
        try a.send(dictionary)
        #expect(try b.recv([Int: [String?]].self) == dictionary)
        let specials: [Double] = [.infinity, -.infinity, -0.0, .leastNonzeroMagnitude, .greatestFiniteMagnitude]
        try a.send(specials)
        let back = try b.recv([Double].self)
        #expect(back.map(\.bitPattern) == specials.map(\.bitPattern))
        try a.send(Double.nan)
        #expect(try b.recv(Double.self).isNaN)
        let bytes = (0..<1000).map { UInt8($0 % 256) }
        try a.send(bytes)
        #expect(try b.recv([UInt8].self) == bytes)
        let derived = Derived(base: 7, extra: "more")
        try a.send(derived)
        let derivedBack = try b.recv(Derived.self)
        #expect(derivedBack.base == 7 && derivedBack.extra == "more")
        let tuple = ArgumentTuple(1, "two", [3.0])
        try a.send(tuple)
        let tupleBack = try b.recv(ArgumentTuple<Int, String, [Double]>.self)
        #expect(tupleBack.elements.0 == 1 && tupleBack.elements.1 == "two" && tupleBack.elements.2 == [3.0])
        let optional: Int? = nil
        try a.send(optional)
        #expect(try b.recv(Int?.self) == nil)
    }

    /// Arrays of Int, Double and String take a shortcut through the encoding; they must read back
    /// exactly, also inside other values, and refuse the wrong element type.
    @Test func scalarArraysRoundTrip() throws {
        let (a, b) = try Multiprocessing.pipe()
        let ints = [0, 1, -1, 63, -64, 64, 127, 128, Int.max, Int.min, 1 << 40]
        try a.send(ints)
        #expect(try b.recv([Int].self) == ints)
        let doubles = [0.0, -2.5, .pi, 1e300]
        try a.send(doubles)
        #expect(try b.recv([Double].self) == doubles)
        let strings = ["", "a", "naïve", String(repeating: "x", count: 300)]
        try a.send(strings)
        #expect(try b.recv([String].self) == strings)
        try a.send(["k": ints])
        #expect(try b.recv([String: [Int]].self) == ["k": ints])
        try a.send([ints, []])
        #expect(try b.recv([[Int]].self) == [ints, []])
        try a.send([UInt8.max])
        #expect(try b.recv([Int].self) == [255])
        try a.send(strings)
        #expect(throws: MultiprocessingError.self) { try b.recv([Int].self) }
        try a.send([Int.max])
        #expect(throws: MultiprocessingError.self) { try b.recv([Int8].self) }
    }

    @Test func bytesRoundTripAndKeepTheirBoundaries() throws {
        let (a, b) = try Multiprocessing.pipe()
        try a.sendBytes([1, 2, 3])
        try a.sendBytes([])
        try a.sendBytes(Array(repeating: 9, count: 100_000))
        try a.sendBytes([1, 2, 3, 4, 5][1..<3])
        #expect(try b.recvBytes() == [1, 2, 3])
        #expect(try b.recvBytes() == [])
        #expect(try b.recvBytes() == Array(repeating: 9, count: 100_000))
        #expect(try b.recvBytes() == [2, 3])
    }

    @Test func aMessageOfTheWrongTypeIsADecodingError() throws {
        let (a, b) = try Multiprocessing.pipe()
        try a.send("not a number")
        #expect {
            _ = try b.recv(Int.self)
        } throws: { error in
            guard case MultiprocessingError.decodingFailed = error else { return false }
            return true
        }
        try a.send(5)  // the bad message was consumed; the stream goes on
        #expect(try b.recv(Int.self) == 5)
    }

    @Test func pollWaitsForAMessage() throws {
        let (a, b) = try Multiprocessing.pipe()
        #expect(try b.poll() == false)
        let t0 = monotonicSeconds()
        #expect(try b.poll(timeout: 0.2) == false)
        #expect(monotonicSeconds() - t0 >= 0.15)
        try spawn {
            sleepSeconds(0.1)
            try a.send("late")
        }
        #expect(try b.poll(timeout: 10) == true)
        #expect(try b.recv(String.self) == "late")
        // Two messages in one read: the second is already buffered, and poll says so.
        try a.send(1)
        try a.send(2)
        #expect(try b.recv(Int.self) == 1)
        #expect(try b.poll() == true)
        #expect(try b.recv(Int.self) == 2)
    }

    @Test func theEndOfTheStreamIsEndOfFile() throws {
        let (a, b) = try Multiprocessing.pipe()
        try a.send("last")
        a.close()
        #expect(try b.poll(timeout: 5) == true)
        #expect(try b.recv(String.self) == "last")
        #expect(try b.poll() == true)  // at the end, as Python's poll
        #expect(throws: MultiprocessingError.endOfFile) { try b.recv(String.self) }
        #expect(throws: MultiprocessingError.endOfFile) { try b.recvBytes() }
        #expect(throws: MultiprocessingError.brokenPipe) { try b.send(1) }
    }

    @Test func aClosedConnectionRefusesEverything() throws {
        let (a, b) = try Multiprocessing.pipe()
        a.close()
        a.close()
        #expect(a.closed)
        #expect(throws: MultiprocessingError.closed) { try a.send(1) }
        #expect(throws: MultiprocessingError.closed) { try a.recv(Int.self) }
        #expect(throws: MultiprocessingError.closed) { try a.poll() }
        #expect(throws: MultiprocessingError.closed) { try a.fileno() }
        _ = b
    }

    @Test func aOneWayPipeHasAReaderAndAWriter() throws {
        let (reader, writer) = try Multiprocessing.pipe(duplex: false)
        #expect(reader.readable && !reader.writable)
        #expect(!writer.readable && writer.writable)
        try writer.send([1, 2, 3])
        #expect(try reader.recv([Int].self) == [1, 2, 3])
        #expect(throws: MultiprocessingError.invalidState("connection is read-only")) { try reader.send(1) }
        #expect(throws: MultiprocessingError.invalidState("connection is write-only")) { try writer.recv(Int.self) }
        writer.close()
        #expect(throws: MultiprocessingError.endOfFile) { try reader.recv(Int.self) }
    }

    @Test func aLongerMessageThanAllowedBreaksTheReadingSide() throws {
        let (a, b) = try Multiprocessing.pipe()
        try a.sendBytes(Array(repeating: 1, count: 100))
        #expect(throws: MultiprocessingError.badMessageLength(100)) { try b.recvBytes(maxLength: 10) }
        #expect(throws: MultiprocessingError.badMessageLength(100)) { try b.recvBytes() }
    }

    @Test func largeMessagesCrossWhileTheOtherSideReads() throws {
        let (a, b) = try Multiprocessing.pipe()
        let big = (0..<(8 << 20)).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        let reader = try spawn {
            let received = try b.recvBytes()
            try b.sendBytes(received.reversed())
        }
        try a.sendBytes(big)
        #expect(try a.recvBytes() == big.reversed())
        #expect(try reader.join(timeout: 30))
    }

    @Test func concurrentSendersNeverInterleaveFrames() throws {
        let (a, b) = try Multiprocessing.pipe()
        let senders = 4
        let perSender = 500
        var threads: [SpindleThread] = []
        for s in 0..<senders {
            threads.append(
                try spawn {
                    for i in 0..<perSender { try a.send([s, i, s * i]) }
                })
        }
        var next = Array(repeating: 0, count: senders)
        for _ in 0..<(senders * perSender) {
            let message = try b.recv([Int].self)
            #expect(message.count == 3 && message[2] == message[0] * message[1])
            #expect(message[1] == next[message[0]])  // each sender's messages arrive in order
            next[message[0]] += 1
        }
        for thread in threads { #expect(try thread.join(timeout: 30)) }
        #expect(next == Array(repeating: perSender, count: senders))
    }

    @Test func closingWhileAnotherThreadReadsLetsTheReadFinish() throws {
        let (a, b) = try Multiprocessing.pipe()
        let result = Locked<Result<Int, MultiprocessingError>?>(nil)
        let reader = try spawn {
            do throws(MultiprocessingError) {
                let value = try b.recv(Int.self)
                result.withLock { $0 = .success(value) }
            } catch {
                result.withLock { $0 = .failure(error) }
            }
        }
        sleepSeconds(0.1)
        b.close()  // does not wait for the reader, and does not pull the descriptor from under it
        try a.send(9)
        #expect(try reader.join(timeout: 10))
        #expect(result.withLock { $0 } == .success(9))
        #expect(throws: MultiprocessingError.closed) { try b.recv(Int.self) }
    }

    @Test func aConnectionCannotGoToAPoolTaskOrAnotherEncoder() throws {
        let (a, _) = try Multiprocessing.pipe()
        #expect {
            try a.send(a)
        } throws: { error in
            guard case MultiprocessingError.encodingFailed(let why) = error else { return false }
            return why.contains("WorkerProcess")
        }
    }
}
