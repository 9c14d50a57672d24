import SpindleTestSupport
@testable import SpindleQueue
import SpindleThreading
import Testing

// Behaviours of CPython's Lib/test/test_queue.py (BaseQueueTestMixin and friends).
@Suite("Queue", .timeLimit(.minutes(2)))
struct QueueTests {
    @Test func orderOfEachKind() throws {
        let fifo = Queue<Int>(), lifo = LifoQueue<Int>(), priority = PriorityQueue<Int>()
        for item in [111, 333, 222] {
            try fifo.put(item)
            try lifo.put(item)
            try priority.put(item)
        }
        #expect(try (0..<3).map { _ in try fifo.get() } == [111, 333, 222])
        #expect(try (0..<3).map { _ in try lifo.get() } == [222, 333, 111])
        #expect(try (0..<3).map { _ in try priority.get() } == [111, 222, 333])
    }

    @Test func priorityIsStableForEqualItems() throws {
        struct Job: Comparable, Sendable {
            let priority: Int
            let name: String
            static func < (a: Job, b: Job) -> Bool { a.priority < b.priority }
            static func == (a: Job, b: Job) -> Bool { a.priority == b.priority }
        }
        let queue = PriorityQueue<Job>()
        for (i, p) in [2, 1, 2, 1, 2, 1].enumerated() { try queue.put(Job(priority: p, name: "j\(i)")) }
        let names = try (0..<6).map { _ in try queue.get().name }
        #expect(names == ["j1", "j3", "j5", "j0", "j2", "j4"])
    }

    @Test func boundedQueueFullAndEmpty() throws {
        let queue = Queue<Int>(maxsize: 3)
        #expect(queue.empty)
        #expect(!queue.full)
        for i in 0..<3 { try queue.put(i) }
        #expect(queue.full)
        #expect(queue.qsize == 3)
        #expect(throws: QueueError.full) { try queue.putNowait(99) }
        #expect(throws: QueueError.full) { try queue.put(99, block: false) }
        let t0 = monotonicSeconds()
        #expect(throws: QueueError.full) { try queue.put(99, timeout: 0.1) }
        #expect(monotonicSeconds() - t0 >= 0.09)
        #expect(try (0..<3).map { _ in try queue.getNowait() } == [0, 1, 2])
        #expect(throws: QueueError.empty) { try queue.getNowait() }
        #expect(throws: QueueError.empty) { try queue.get(timeout: 0.05) }
        #expect(throws: QueueError.empty) { try queue.get(block: false, timeout: 30) }  // timeout ignored
    }

    @Test func negativeTimeoutIsRejected() {
        let queue = Queue<Int>(maxsize: 1)
        #expect(throws: QueueError.invalidArgument("'timeout' must be a non-negative number, not -1.0")) {
            try queue.put(1, timeout: -1)
        }
        #expect(throws: QueueError.self) { try queue.get(timeout: -1) }
    }

    @Test func unboundedForZeroOrNegativeMaxsize() throws {
        for maxsize in [0, -1] {
            let queue = Queue<Int>(maxsize: maxsize)
            for i in 0..<10_000 { try queue.putNowait(i) }
            #expect(queue.qsize == 10_000)
            #expect(!queue.full)
        }
    }

    @Test func blockingPutIsReleasedByGet() throws {
        let queue = Queue<Int>(maxsize: 1)
        try queue.put(1)
        let done = Shared(false)
        let producer = try spawn {
            try queue.put(2)
            done.update { $0 = true }
        }
        sleepSeconds(0.05)
        #expect(!done.value)
        #expect(try queue.get() == 1)
        try finish(producer)
        #expect(done.value)
        #expect(try queue.get() == 2)
    }

    @Test func blockingGetIsReleasedByPut() throws {
        let queue = Queue<String>()
        let got = Shared<String?>(nil)
        let consumer = try spawn { let item = try queue.get(); got.update { $0 = item } }
        #expect(waitUntil { queue.locked { $0.getters.count } == 1 })
        try queue.put("hello")
        try finish(consumer)
        #expect(got.value == "hello")
    }

    @Test func taskDoneAndJoin() throws {
        // test_queue.BaseQueueTestMixin.queue_join_test: workers mark every item done.
        let queue = Queue<Int>()
        let total = Shared(0)
        var workers: [SpindleThread] = []
        for _ in 0..<2 {
            workers.append(try spawn {
                while true {
                    let x = try queue.get()
                    if x < 0 { try queue.taskDone(); return }
                    total.update { $0 += x }
                    try queue.taskDone()
                }
            })
        }
        for i in 0..<100 { try queue.put(i) }
        queue.join()
        #expect(total.value == 4950)
        #expect(queue.unfinishedTasks == 0)
        for _ in workers { try queue.put(-1) }
        queue.join()
        for w in workers { try finish(w) }
    }

    @Test func taskDoneTooManyTimes() throws {
        let queue = Queue<Int>()
        #expect(throws: QueueError.taskDoneTooManyTimes) { try queue.taskDone() }
        try queue.put(1)
        try queue.taskDone()
        #expect(throws: QueueError.taskDoneTooManyTimes) { try queue.taskDone() }
    }

    @Test func joinReturnsAtOnceWhenNothingIsPending() {
        let queue = Queue<Int>()
        queue.join()
    }

    @Test func simpleQueue() throws {
        let queue = SimpleQueue<Int>()
        #expect(queue.empty)
        for i in 0..<100 { queue.put(i) }
        queue.putNowait(100)
        #expect(queue.qsize == 101)
        #expect(try (0...100).map { _ in try queue.get() } == Array(0...100))
        #expect(throws: QueueError.empty) { try queue.getNowait() }
        #expect(throws: QueueError.empty) { try queue.get(timeout: 0.01) }
        let got = Shared<Int?>(nil)
        let consumer = try spawn { let x = try queue.get(); got.update { $0 = x } }
        sleepSeconds(0.02)
        queue.put(7)
        try finish(consumer)
        #expect(got.value == 7)
    }

    @Test func ringBufferWrapsAndGrows() throws {
        let queue = Queue<Int>()
        var expected: [Int] = []
        var next = 0
        // Interleave puts and gets so the ring's head walks around and the ring grows while wrapped.
        for round in 0..<50 {
            for _ in 0..<(round % 7 + 3) { try queue.put(next); next += 1 }
            for _ in 0..<(round % 5 + 1) { expected.append(try queue.get()) }
        }
        while !queue.empty { expected.append(try queue.get()) }
        #expect(expected == Array(0..<next))
    }
}
