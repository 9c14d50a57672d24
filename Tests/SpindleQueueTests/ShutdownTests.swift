import SpindleTestSupport
@testable import SpindleQueue
import SpindleThreading
import Testing

// Behaviours of CPython 3.13's test_queue shutdown tests.
@Suite("Queue shutdown", .timeLimit(.minutes(2)))
struct ShutdownTests {
    @Test func emptyQueue() throws {
        let queue = Queue<Int>()
        queue.shutdown()
        #expect(queue.isShutdown)
        #expect(throws: QueueError.shutDown) { try queue.put(1) }
        #expect(throws: QueueError.shutDown) { try queue.get() }
        #expect(throws: QueueError.shutDown) { try queue.getNowait() }
    }

    @Test func nonEmptyQueueDrainsThenFails() throws {
        let queue = Queue<Int>()
        try queue.put(1)
        try queue.put(2)
        queue.shutdown()
        #expect(throws: QueueError.shutDown) { try queue.put(3) }
        #expect(try queue.get() == 1)
        #expect(try queue.get() == 2)
        #expect(throws: QueueError.shutDown) { try queue.get() }
    }

    @Test func immediateEmptiesAndReturnsTheItems() throws {
        let queue = Queue<Int>()
        for i in 0..<3 { try queue.put(i) }
        let removed = queue.shutdown(immediate: true)
        #expect(removed == [0, 1, 2])
        #expect(throws: QueueError.shutDown) { try queue.get() }
        #expect(queue.unfinishedTasks == 0)
        queue.join()  // removed items count as done
    }

    @Test func shutdownTwiceIsAllowed() throws {
        let queue = Queue<Int>()
        try queue.put(1)
        queue.shutdown()
        queue.shutdown(immediate: true)
        #expect(throws: QueueError.shutDown) { try queue.get() }
    }

    @Test func wakesBlockedGetters() throws {
        let queue = Queue<Int>()
        let errors = Shared<[QueueError]>([])
        let getters = try (0..<3).map { _ in
            try spawn {
                do { _ = try queue.get() } catch { errors.update { $0.append(error as! QueueError) } }
            }
        }
        #expect(waitUntil { queue.locked { $0.getters.count } == 3 })
        queue.shutdown()
        for g in getters { try finish(g) }
        #expect(errors.value == [.shutDown, .shutDown, .shutDown])
    }

    @Test func wakesBlockedPutters() throws {
        let queue = Queue<Int>(maxsize: 1)
        try queue.put(0)
        let errors = Shared<[QueueError]>([])
        let putters = try (1...2).map { i in
            try spawn {
                do { try queue.put(i) } catch { errors.update { $0.append(error as! QueueError) } }
            }
        }
        #expect(waitUntil { queue.locked { $0.putters.count } == 2 })
        queue.shutdown()
        for p in putters { try finish(p) }
        #expect(errors.value == [.shutDown, .shutDown])
        #expect(try queue.get() == 0)  // the item put before the shutdown is still there
    }

    @Test func joinEndsWhenItemsAreDoneAfterShutdown() throws {
        let queue = Queue<Int>()
        for i in 0..<3 { try queue.put(i) }
        queue.shutdown()
        let joined = Shared(false)
        let joiner = try spawn { queue.join(); joined.update { $0 = true } }
        for _ in 0..<3 {
            _ = try queue.get()
            #expect(!joined.value)
            try queue.taskDone()
        }
        try finish(joiner)
        #expect(joined.value)
    }

    @Test func immediateShutdownReleasesJoinersOfRemovedItems() throws {
        let queue = Queue<Int>()
        for i in 0..<3 { try queue.put(i) }
        let joiner = try spawn { queue.join() }
        #expect(waitUntil { queue.locked { $0.joiners.count } == 1 })
        queue.shutdown(immediate: true)
        try finish(joiner)
    }
}
