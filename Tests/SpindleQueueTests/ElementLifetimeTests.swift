import SpindleTestSupport
@testable import SpindleQueue
import SpindleThreading
import Testing

/// Counts how many `Tracked` values were made and how many were freed.
private final class Lives: Sendable {
    let made = Counter()
    let freed = Counter()
}

/// An item whose deinit is counted, to prove the queue frees each item exactly once.
private final class Tracked: Sendable, Comparable {
    let lives: Lives
    let value: Int
    init(_ value: Int, _ lives: Lives) {
        self.value = value
        self.lives = lives
        lives.made.increment()
    }
    deinit { lives.freed.increment() }
    static func < (a: Tracked, b: Tracked) -> Bool { a.value < b.value }
    static func == (a: Tracked, b: Tracked) -> Bool { a.value == b.value }
}

@Suite("Queue element lifetimes", .timeLimit(.minutes(2)))
struct ElementLifetimeTests {
    @Test func queueDroppedWithItemsFreesEachOnce() throws {
        let lives = Lives()
        do {
            let queue = Queue<Tracked>()
            // Put, take some, put more: the ring wraps around and grows (16 → 32 → 64 → 128 slots)
            // while its live items straddle the end.
            for i in 0..<50 { try queue.put(Tracked(i, lives)) }
            for i in 0..<30 { #expect(try queue.get().value == i) }
            for i in 50..<130 { try queue.put(Tracked(i, lives)) }
            #expect(queue.qsize == 100)
            #expect(lives.freed.value == 30)
            for i in 30..<40 { #expect(try queue.get().value == i) }
        }
        #expect(lives.made.value == 130)
        #expect(lives.freed.value == 130)
    }

    @Test func immediateShutdownHandsOverTheItemsAlive() throws {
        let lives = Lives()
        do {
            let queue = Queue<Tracked>(maxsize: 64)
            for i in 0..<40 { try queue.put(Tracked(i, lives)) }
            for _ in 0..<20 { _ = try queue.get() }
            for i in 40..<70 { try queue.put(Tracked(i, lives)) }  // wraps in the 64-slot ring
            var removed = queue.shutdown(immediate: true)
            #expect(removed.map(\.value) == Array(20..<70))
            #expect(lives.freed.value == 20)  // the removed items are alive in the array
            #expect(throws: QueueError.shutDown) { try queue.get(block: false) }
            removed.removeAll()
            #expect(lives.freed.value == 70)
        }
        #expect(lives.made.value == 70)
        #expect(lives.freed.value == 70)
    }

    @Test func pushBackAtTheRingsStartAndGrowthKeepOrder() {
        let lives = Lives()
        do {
            var order = FIFOOrder<Tracked>()
            order.pushBack(Tracked(-1, lives))  // into an empty ring: head wraps to the last slot
            for i in 0..<20 { order.push(Tracked(i, lives)) }  // grows with head not at 0
            order.pushBack(Tracked(-2, lives))
            #expect(order.count == 22)
            #expect(order.pop().value == -2)
            #expect(order.pop().value == -1)
            let rest = order.removeAll()
            #expect(rest.map(\.value) == Array(0..<20))
            #expect(order.count == 0)
        }
        #expect(lives.freed.value == lives.made.value)
        #expect(lives.made.value == 22)
    }

    @Test func copiesOfAnOrderAreIndependent() {
        let lives = Lives()
        do {
            var a = FIFOOrder<Tracked>()
            for i in 0..<10 { a.push(Tracked(i, lives)) }
            _ = a.pop()
            var b = a  // shares a's ring until one of them changes
            #expect(b.pop().value == 1)
            b.push(Tracked(100, lives))
            #expect(a.count == 9)
            #expect(b.count == 9)
            #expect(a.removeAll().map(\.value) == Array(1..<10))
            #expect(b.removeAll().map(\.value) == Array(2..<10) + [100])
        }
        #expect(lives.made.value == 11)
        #expect(lives.freed.value == 11)
    }

    @Test func itemOfATimedOutPutterIsFreed() throws {
        let lives = Lives()
        do {
            let queue = Queue<Tracked>(maxsize: 1)
            try queue.put(Tracked(0, lives))
            #expect(throws: QueueError.full) { try queue.put(Tracked(1, lives), timeout: 0.01) }
            #expect(lives.freed.value == 1)
            #expect(try queue.get().value == 0)
        }
        #expect(lives.freed.value == 2)
    }

    @Test func itemOfACancelledAsyncPutterIsFreed() async throws {
        let lives = Lives()
        do {
            let queue = Queue<Tracked>(maxsize: 1)
            try queue.putNowait(Tracked(0, lives))
            let task = Task { try await queue.put(Tracked(1, lives)) }
            #expect(await waitUntilAsync { queue.locked { $0.putters.count } == 1 })
            task.cancel()
            await #expect(throws: CancellationError.self) { try await task.value }
            #expect(lives.freed.value == 1)
            #expect(try queue.getNowait().value == 0)
            #expect(throws: QueueError.empty) { try queue.get(block: false) }
        }
        #expect(lives.made.value == 2)
        #expect(lives.freed.value == 2)
    }

    @Test func otherOrdersFreeTheirItems() throws {
        let lives = Lives()
        do {
            let lifo = LifoQueue<Tracked>(), priority = PriorityQueue<Tracked>()
            for i in 0..<10 {
                try lifo.put(Tracked(i, lives))
                try priority.put(Tracked(10 - i, lives))
            }
            #expect(try lifo.get().value == 9)
            #expect(try priority.get().value == 1)
        }
        #expect(lives.made.value == 20)
        #expect(lives.freed.value == 20)
    }
}
