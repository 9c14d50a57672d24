import Glibc
import SpindleMultiprocessing
import SpindleSubprocess
import Testing

/// Ported in spirit from CPython's test_resource_tracker and the shared memory cleanup tests:
/// a program that crashes or forgets to unlink leaves no segment behind, and no process.
@Suite("multiprocessing: the resource tracker", .serialized, .timeLimit(.minutes(3)))
struct ResourceTrackerTests {
    init() { Fixture.use() }

    @Test func createAndUnlinkLeaveNothingAndTheTrackerIsNoChildOfOurs() throws {
        let memory = try SharedMemory(create: true, size: 128)
        #expect(segmentExists(memory.name))
        let tracker = try #require(ResourceTracker.pid)
        #expect(processAlive(tracker))
        #expect(parentOf(tracker) != getpid())
        #expect(!childPids().contains(tracker))
        try memory.unlink()
        memory.close()
        #expect(!segmentExists(memory.name))
        #expect(ResourceTracker.pid == tracker && processAlive(tracker))
    }

    /// The fixture creates a block and is killed with SIGKILL: the block's file goes away.
    @Test func aKilledProgramLeavesNoSegment() throws {
        let program = try Popen([Fixture.path, "shm-crash"], stdout: .pipe)
        defer {
            program.kill()
            _ = try? program.wait(timeout: 30)
        }
        let words = try readLine(program).split(separator: " ").map(String.init)
        try #require(words.count == 4 && words[0] == "segment")
        let name = words[1]
        let tracker = try #require(Int32(words[3]))
        #expect(segmentExists(name))
        #expect(processAlive(tracker))
        #expect(parentOf(tracker) != program.pid)
        program.kill()
        #expect(try program.wait(timeout: 30) == -SIGKILL)
        #expect(waitUntil(timeout: 30) { !segmentExists(name) })
        #expect(waitUntil(timeout: 30) { !processAlive(tracker) })
    }

    /// The fixture creates two blocks, unlinks one and returns from main: the other goes too,
    /// and the tracker ends.
    @Test func anExitingProgramLeavesNoSegmentAndNoTracker() throws {
        let program = try Popen([Fixture.path, "shm-exit"], stdout: .pipe)
        let words = try readLine(program).split(separator: " ").map(String.init)
        #expect(try program.wait(timeout: 30) == 0)
        try #require(words.count == 5 && words[0] == "segment")
        let tracker = try #require(Int32(words[4]))
        #expect(!segmentExists(words[2]))
        #expect(waitUntil(timeout: 30) { !segmentExists(words[1]) })
        #expect(waitUntil(timeout: 30) { !processAlive(tracker) })
    }

    /// A worker shares its parent's tracker: a block it creates and leaves outlives it.
    @Test func aBlockAWorkerCreatesOutlivesTheWorker() throws {
        let pool = try Pool(processes: 1)
        let name = try pool.apply(SyncFx.createSegment, ArgumentTuple("left by a worker", 64))
        pool.close()
        try pool.join()
        sleepSeconds(0.2)
        let memory = try SharedMemory(name: name)
        #expect(String(decoding: memory.buffer.prefix { $0 != 0 }, as: UTF8.self) == "left by a worker")
        try memory.unlink()
        memory.close()
        #expect(!segmentExists(name))
    }

    @Test func aTrackerThatDiedIsReplaced() throws {
        try ResourceTracker.ensureRunning()
        let first = try #require(ResourceTracker.pid)
        let kept = try SharedMemory(create: true, size: 64)
        defer {
            try? kept.unlink()
            kept.close()
        }
        kill(first, SIGKILL)
        #expect(waitUntil(timeout: 30) { !processAlive(first) })
        let memory = try SharedMemory(create: true, size: 64)
        let second = try #require(ResourceTracker.pid)
        #expect(second != first && processAlive(second))
        try memory.unlink()
        memory.close()
    }

    @Test func badNamesAreRefused() {
        #expect(throws: MultiprocessingError.self) { try ResourceTracker.register("a/b") }
        #expect(throws: MultiprocessingError.self) { try ResourceTracker.register("") }
        #expect(throws: MultiprocessingError.self) { try ResourceTracker.register(String(repeating: "x", count: 256)) }
    }

    private func readLine(_ process: Popen) throws -> String {
        let reader = try #require(process.stdout)
        let line = try #require(try reader.readLine())
        return String(line.prefix { $0 != "\n" })
    }
}
