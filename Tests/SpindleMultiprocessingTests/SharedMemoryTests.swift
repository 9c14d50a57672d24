import Glibc
import SpindleMultiprocessing
import SpindleSystem
import Testing

/// Ported from CPython's test_shared_memory_basics and the Lock tests of test_multiprocessing.
@Suite("multiprocessing: SharedMemory and ProcessLock", .serialized, .timeLimit(.minutes(3)))
struct SharedMemoryTests {
    init() { Fixture.use() }

    @Test func createAttachWriteReadUnlink() throws {
        let memory = try SharedMemory(create: true, size: 4096)
        #expect(memory.name.hasPrefix("psm_"))
        #expect(memory.size == 4096)
        #expect(memory.buffer.allSatisfy { $0 == 0 })
        memory.buffer[0] = 42
        let attached = try SharedMemory(name: memory.name)
        #expect(attached.size == 4096)
        #expect(attached.buffer[0] == 42)
        attached.buffer[1] = 7
        #expect(memory.buffer[1] == 7)
        attached.close()
        attached.close()
        #expect(attached.closed)
        try memory.unlink()
        #expect {
            _ = try SharedMemory(name: memory.name)
        } throws: { error in
            guard case MultiprocessingError.system(let system) = error else { return false }
            return system.errno == ENOENT
        }
        #expect(throws: MultiprocessingError.self) { try memory.unlink() }
        memory.close()
    }

    @Test func namesAndSizesAreChecked() throws {
        let name = "spindle_test_\(getpid())"
        let memory = try SharedMemory(name: name, create: true, size: 10)
        defer {
            try? memory.unlink()
            memory.close()
        }
        #expect(memory.name == name)
        #expect {
            _ = try SharedMemory(name: name, create: true, size: 10)
        } throws: { error in
            guard case MultiprocessingError.system(let system) = error else { return false }
            return system.errno == EEXIST
        }
        #expect(throws: MultiprocessingError.invalidState("'size' must be a positive number different from zero")) {
            _ = try SharedMemory(create: true, size: 0)
        }
        #expect(throws: MultiprocessingError.invalidState("'name' can only be nil if create is true")) {
            _ = try SharedMemory()
        }
        #expect(throws: MultiprocessingError.self) { _ = try ProcessLock(in: memory, offset: 2) }
        #expect(throws: MultiprocessingError.self) { _ = try ProcessLock(in: memory, offset: 8) }
    }

    @Test func aChildWritesWhatTheParentReads() throws {
        let memory = try SharedMemory(create: true, size: 256)
        defer {
            try? memory.unlink()
            memory.close()
        }
        try Pool(processes: 1).scoped { pool throws in
            #expect(try pool.apply(Fx.writeShared, ArgumentTuple(memory.name, "written by a worker")) == 256)
        }
        let text = String(decoding: memory.buffer.prefix { $0 != 0 }, as: UTF8.self)
        #expect(text == "written by a worker")
    }

    @Test func aLockInOneProcess() throws {
        let memory = try SharedMemory(create: true, size: 64)
        defer {
            try? memory.unlink()
            memory.close()
        }
        let lock = try ProcessLock(in: memory, offset: 0)
        let same = try ProcessLock(in: memory, offset: 0)
        #expect(!lock.locked)
        #expect(lock.acquire())
        #expect(same.locked)
        #expect(!same.acquire(blocking: false))
        let t0 = monotonicSeconds()
        #expect(!same.acquire(timeout: 0.2))
        #expect(monotonicSeconds() - t0 >= 0.15)
        try same.release()  // any holder may release, as in Python
        #expect(throws: MultiprocessingError.invalidState("semaphore or lock released too many times")) { try lock.release() }
        #expect(lock.withLock { 5 } == 5)
        #expect(!lock.locked)
    }

    /// Four processes increment one counter in shared memory under a ProcessLock: no update is lost.
    @Test func processesShareALockAndACounter() throws {
        let memory = try SharedMemory(create: true, size: 64)
        defer {
            try? memory.unlink()
            memory.close()
        }
        let perWorker = 2000
        let workers = (0..<4).map { _ in
            WorkerProcess(target: Fx.sharedIncrement, argument: ArgumentTuple(memory.name, perWorker))
        }
        for worker in workers { try worker.start() }
        for worker in workers {
            #expect(try worker.join(timeout: 60))
            #expect(worker.exitcode == 0)
        }
        let counter = memory.buffer.load(fromByteOffset: 8, as: Int.self)
        #expect(counter == 4 * perWorker)
        #expect(try ProcessLock(in: memory).locked == false)
    }
}
