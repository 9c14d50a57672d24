import SpindleTestSupport
@testable import SpindleQueue
import SpindleThreading
import Testing

@Suite("Queue from tasks", .timeLimit(.minutes(10)))
struct AsyncQueueTests {
    @Test func threadProducesTaskConsumes() async throws {
        let queue = Queue<Int>(maxsize: 4)
        let producer = try spawn {
            for i in 0..<1000 { try queue.put(i) }
            queue.shutdown()
        }
        var received: [Int] = []
        for await item in queue { received.append(item) }
        #expect(received == Array(0..<1000))
        try finish(producer)
    }

    @Test func taskProducesThreadConsumes() async throws {
        let queue = Queue<Int>(maxsize: 4)
        let received = Shared<[Int]>([])
        let consumer = try spawn {
            while true {
                do {
                    let item = try queue.get()
                    received.update { $0.append(item) }
                } catch {
                    return
                }
            }
        }
        for i in 0..<1000 { try await queue.put(i) }
        queue.shutdown()
        try finish(consumer)
        #expect(received.value == Array(0..<1000))
    }

    @Test func cancelledGetterLeavesCleanly() async throws {
        let queue = Queue<Int>()
        let task = Task { try await queue.get() }
        #expect(await waitUntilAsync { queue.locked { $0.getters.count } == 1 })
        task.cancel()
        await #expect(throws: CancellationError.self) { try await task.value }
        let left = queue.locked { $0.getters.count }
        #expect(left == 0)
        try queue.putNowait(5)
        #expect(try queue.getNowait() == 5)  // the item went to nobody else
    }

    @Test func cancelledPutterDoesNotPut() async throws {
        let queue = Queue<Int>(maxsize: 1)
        try queue.putNowait(1)
        let task = Task { try await queue.put(2) }
        #expect(await waitUntilAsync { queue.locked { $0.putters.count } == 1 })
        task.cancel()
        await #expect(throws: CancellationError.self) { try await task.value }
        #expect(try queue.getNowait() == 1)
        #expect(throws: QueueError.empty) { try queue.getNowait() }
    }

    @Test func racingCancellationsLoseNoItem() async throws {
        // Getters are cancelled while items are put: every item is either received by a getter
        // that returned normally or is still in the queue, never both and never neither.
        let queue = Queue<Int>()
        let rounds = 500
        var received: [Int] = []
        for i in 0..<rounds {
            let getter = Task { try await queue.get() }
            if i % 2 == 0 { await Task.yield() }
            async let put: Void = queue.put(i)
            getter.cancel()
            try await put
            if let item = try? await getter.value { received.append(item) }
        }
        while let item = try? queue.getNowait() { received.append(item) }
        #expect(received.sorted() == Array(0..<rounds))
    }

    @Test func asyncTimeouts() async throws {
        let queue = Queue<Int>(maxsize: 1)
        await #expect(throws: QueueError.empty) { try await queue.get(timeout: 0.05) }
        try await queue.put(1)
        await #expect(throws: QueueError.full) { try await queue.put(2, timeout: 0.05) }
        #expect(try await queue.get() == 1)
    }

    @Test func asyncJoinAndShutdown() async throws {
        let queue = Queue<Int>()
        try queue.putNowait(1)
        async let joined: Void = queue.join()
        _ = try await queue.get()
        try queue.taskDone()
        try await joined
        queue.shutdown()
        await #expect(throws: QueueError.shutDown) { try await queue.get() }
        await #expect(throws: QueueError.shutDown) { try await queue.put(1) }
    }

    @Test func alreadyCancelledTasksDoNotWait() async throws {
        // A task cancelled before it waits: its cancellation handler runs before the waiter is
        // queued, so the wait must end where the waiter would be queued, and leave nothing behind.
        let empty = Queue<Int>()
        let getter = Task {
            withUnsafeCurrentTask { $0?.cancel() }
            return try await empty.get()
        }
        await #expect(throws: CancellationError.self) { try await getter.value }
        let full = Queue<Int>(maxsize: 1)
        try full.putNowait(1)
        let putter = Task {
            withUnsafeCurrentTask { $0?.cancel() }
            try await full.put(2)
        }
        await #expect(throws: CancellationError.self) { try await putter.value }
        let joiner = Task {
            withUnsafeCurrentTask { $0?.cancel() }
            try await full.join()
        }
        await #expect(throws: CancellationError.self) { try await joiner.value }
        #expect(empty.locked { $0.getters.isEmpty })
        #expect(full.locked { $0.putters.isEmpty && $0.joiners.isEmpty })
        #expect(try full.getNowait() == 1)  // the cancelled putter's item never went in
        #expect(full.qsize == 0)
        try empty.putNowait(3)
        #expect(try empty.getNowait() == 3)  // and no cancelled getter took it
    }

    @Test func everyItemHandedBetweenATaskAndAThread() async throws {
        // maxsize 1 with a task on one side and a thread on the other: nearly every item wakes a
        // waiter, often while the task is still inside its continuation's body (the sanitizer run
        // checks those hand-overs).
        let count = 100_000
        let toThread = Queue<Int>(maxsize: 1)
        let toTask = Queue<Int>(maxsize: 1)
        let relay = try spawn {
            while let item = try? toThread.get() { try toTask.put(item) }
            toTask.shutdown()
        }
        async let sent: Void = {
            for i in 0..<count { try await toThread.put(i) }
            toThread.shutdown()
        }()
        var expected = 0
        var inOrder = true
        for await item in toTask {
            if item != expected { inOrder = false }
            expected += 1
        }
        try await sent
        try finish(relay)
        #expect(expected == count)
        #expect(inOrder)
    }
}
