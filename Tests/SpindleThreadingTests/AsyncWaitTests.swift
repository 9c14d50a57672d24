import SpindleTestSupport
@testable import SpindleThreading
import Testing

// Tasks and threads waiting on the same primitives.
@Suite("Async waits", .timeLimit(.minutes(10)))
struct AsyncWaitTests {
    @Test func taskWaitsForEventSetByThread() async throws {
        let event = Event()
        let setter = SpindleThread { sleepSeconds(0.05); event.set() }
        try setter.start()
        let ok = try await event.wait()
        #expect(ok)
        try setter.join()
    }

    @Test func threadAndTaskWaitOnOneEvent() async throws {
        let event = Event()
        let threadSaw = Shared<Bool?>(nil)
        let waiter = SpindleThread { threadSaw.update { $0 = event.wait(timeout: 300) } }
        try waiter.start()
        async let taskSaw = event.wait(timeout: 300)
        #expect(await waitUntilAsync { event.state.withLock { $0.waiters.count } == 2 })
        event.set()
        #expect(try await taskSaw)
        try waiter.join()
        #expect(threadSaw.value == true)
    }

    @Test func eventWaitTimesOutAndCancels() async throws {
        let event = Event()
        #expect(try await event.wait(timeout: 0.05) == false)
        let task = Task { try await event.wait() }
        #expect(await waitUntilAsync { event.state.withLock { $0.waiters.count } == 1 })
        task.cancel()
        await #expect(throws: CancellationError.self) { try await task.value }
        #expect(event.state.withLock { $0.waiters.count } == 0)
    }

    @Test func semaphoreSharedByThreadsAndTasks() async throws {
        let sem = Semaphore(0)
        let admitted = Counter()
        let bunch = try Bunch(3) { _ in try sem.acquire(); admitted.increment() }
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<3 {
                group.addTask { try await sem.acquire(); admitted.increment() }
            }
            #expect(await waitUntilAsync { sem.state.withLock { $0.waiters.count } == 6 })
            try sem.release(6)
            try await group.waitForAll()
        }
        try bunch.join()
        #expect(admitted.value == 6)
        #expect(sem.value == 0)
    }

    @Test func cancelledSemaphoreWaiterTakesNoPermit() async throws {
        let sem = Semaphore(0)
        let task = Task { try await sem.acquire() }
        #expect(await waitUntilAsync { sem.state.withLock { $0.waiters.count } == 1 })
        task.cancel()
        await #expect(throws: CancellationError.self) { try await task.value }
        try sem.release()
        #expect(sem.value == 1)  // the permit was not swallowed by the cancelled task
        #expect(try await sem.acquire(timeout: 0.01))
        #expect(try await sem.acquire(timeout: 0.01) == false)
    }

    @Test func alreadyCancelledTaskDoesNotWait() async throws {
        let event = Event()
        let task = Task {
            withUnsafeCurrentTask { $0?.cancel() }
            return try await event.wait()
        }
        await #expect(throws: CancellationError.self) { try await task.value }
    }

    @Test func barrierWithThreadsAndTasks() async throws {
        let barrier = Barrier(parties: 4)
        let indices = Shared<[Int]>([])
        let bunch = try Bunch(2) { _ in
            let i = try barrier.wait()
            indices.update { $0.append(i) }
        }
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<2 {
                group.addTask {
                    let i = try await barrier.wait()
                    indices.update { $0.append(i) }
                }
            }
            try await group.waitForAll()
        }
        try bunch.join()
        #expect(indices.value.sorted() == [0, 1, 2, 3])
    }

    @Test func barrierTaskTimeoutBreaksIt() async throws {
        let barrier = Barrier(parties: 3)
        await #expect(throws: BrokenBarrierError.self) { try await barrier.wait(timeout: 0.05) }
        #expect(barrier.broken)
    }
}
