import Foundation
import SpindleMultiprocessing
import Testing

/// A plain struct of plain fields: bitwise-copyable, so it can live in shared memory.
struct PlainPoint: BitwiseCopyable, Equatable {
    var x: Double
    var y: Int32
}

/// Ported in spirit from CPython's test_multiprocessing _TestValue and _TestArray, and the
/// shared counter: values and arrays that worker processes get as arguments.
@Suite("multiprocessing: SharedValue and SharedArray", .serialized, .timeLimit(.minutes(5)))
struct SharedValueTests {
    init() { Fixture.use() }

    @Test func valuesOfSeveralTypes() throws {
        let integer = try SharedValue(-42)
        let real = try SharedValue(1.25)
        let byte = try SharedValue(UInt8(255), lock: false)
        let point = try SharedValue(PlainPoint(x: 0.5, y: -3))
        #expect(integer.value == -42 && real.value == 1.25 && byte.value == 255 && point.value == PlainPoint(x: 0.5, y: -3))
        integer.value = 7
        real.value *= 4
        byte.value &+= 1
        point.withLock { $0.y += 10 }
        #expect(integer.value == 7 && real.value == 5 && byte.value == 0 && point.value.y == 7)
        #expect(integer.lock != nil && byte.lock == nil)
        // The lock is reentrant, as Python's default: reading `value` inside `withLock` works.
        #expect(integer.withLock { number in
            number += 1
            return integer.value
        } == 8)
        #expect(integer.memory.name.hasPrefix("psm_") && segmentExists(integer.memory.name))
    }

    @Test func theBlockGoesWithTheValueThatMadeIt() throws {
        var value: SharedValue<Int>? = try SharedValue(1)
        let name = value!.memory.name
        #expect(segmentExists(name))
        value = nil
        #expect(!segmentExists(name))
    }

    /// The shared counter: 4 processes × 10,000 increments under the value's own lock.
    @Test func fourProcessesIncrementASharedValue() throws {
        let counter = try SharedValue(0)
        let workers = (0..<4).map { _ in WorkerProcess(target: SyncFx.valueIncrement, argument: ArgumentTuple(counter, 10_000)) }
        for worker in workers { try worker.start() }
        for worker in workers {
            #expect(try worker.join(timeout: 120))
            #expect(worker.exitcode == 0)
        }
        #expect(counter.value == 40_000)
        #expect(counter.lock?.locked == false)
    }

    /// The same with a ProcessLock passed to the workers next to an unlocked value.
    @Test func fourProcessesIncrementUnderAProcessLock() throws {
        let lock = try ProcessLock()
        let counter = try SharedValue(0, lock: false)
        let workers = (0..<4).map { _ in
            WorkerProcess(target: SyncFx.lockedIncrement, argument: ArgumentTuple(lock, counter, 10_000))
        }
        for worker in workers { try worker.start() }
        for worker in workers {
            #expect(try worker.join(timeout: 120))
            #expect(worker.exitcode == 0)
        }
        #expect(counter.value == 40_000)
        #expect(!lock.locked)
    }

    @Test func arraysInOneProcess() throws {
        let zeros = try SharedArray(repeating: 0, count: 10)
        #expect(zeros.count == 10 && zeros.allSatisfy { $0 == 0 })
        zeros[3] = 9
        zeros[9] += 2
        #expect(zeros.values == [0, 0, 0, 9, 0, 0, 0, 0, 0, 2])
        #expect(zeros.reduce(0, +) == 11)
        #expect(Array(zeros[2...4]) == [0, 9, 0])
        let bytes = try SharedArray(Array("spindle".utf8), lock: false)
        #expect(String(decoding: bytes.values, as: UTF8.self) == "spindle" && bytes.lock == nil)
        let empty = try SharedArray([Double](), lock: true)
        #expect(empty.isEmpty && empty.values == [])
        zeros.withLock { elements in
            for i in elements.indices { elements[i] = i * i }
        }
        #expect(zeros.values == (0..<10).map { $0 * $0 })
        #expect(throws: MultiprocessingError.invalidState("a SharedArray cannot have a negative count (-1)")) {
            _ = try SharedArray(repeating: 1.0, count: -1)
        }
    }

    @Test func aChildWritesAnArrayAndThreeIncrementIt() throws {
        let reals = try SharedArray(repeating: 0.0, count: 100)
        let counts = try SharedArray(repeating: 0, count: 8)
        try Pool(processes: 3).scoped { pool throws in
            #expect(try pool.apply(SyncFx.arrayScale, ArgumentTuple(reals, 2.5)) == 100)
            let jobs = try (0..<3).map { _ in try pool.applyAsync(SyncFx.arrayIncrement, ArgumentTuple(counts, 500)) }
            for job in jobs { _ = try job.get(timeout: 120) }
        }
        #expect(reals.values == (0..<100).map { Double($0) * 2.5 })
        #expect(counts.values == Array(repeating: 1500, count: 8))
    }

    @Test func decodingChecksTheElementType() throws {
        let value = try SharedValue(3)
        let data = try JSONEncoder().encode(value)
        #expect(try JSONDecoder().decode(SharedValue<Int>.self, from: data).value == 3)
        #expect(throws: DecodingError.self) { _ = try JSONDecoder().decode(SharedValue<Double>.self, from: data) }
        #expect(throws: DecodingError.self) { _ = try JSONDecoder().decode(SharedArray<Int>.self, from: data) }
        let array = try SharedArray([1, 2, 3])
        let decoded = try JSONDecoder().decode(SharedArray<Int>.self, from: try JSONEncoder().encode(array))
        decoded[0] = 10
        #expect(array.values == [10, 2, 3] && decoded.count == 3)
        #expect(throws: DecodingError.self) { _ = try JSONDecoder().decode(ProcessEvent.self, from: data) }
    }
}
