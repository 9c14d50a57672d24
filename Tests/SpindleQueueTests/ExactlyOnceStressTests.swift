import SpindleTestSupport
import SpindleQueue
import SpindleThreading
import Testing

@Suite("Queue stress: exactly once", .timeLimit(.minutes(10)))
struct ExactlyOnceStressTests {
    /// 8 producers and 8 consumers, half of each threads and half tasks, move 2,000,000 numbered
    /// items through a queue of maxsize 64. Every item must arrive exactly once.
    @Test func twoMillionItems() async throws {
        let total = 2_000_000
        let producers = 8, consumers = 8
        let perProducer = total / producers
        let queue = Queue<Int>(maxsize: 64)
        let received = Shared<[[Int]]>([])

        @Sendable func produce(_ p: Int) throws { for i in 0..<perProducer { try queue.put(p * perProducer + i) } }
        @Sendable func consume() -> [Int] {
            var mine: [Int] = []
            while let item = try? queue.get() { mine.append(item) }
            return mine
        }
        var threads: [SpindleThread] = []
        for p in 0..<producers / 2 { threads.append(try spawn { try produce(p) }) }
        for _ in 0..<consumers / 2 {
            threads.append(try spawn { let mine = consume(); received.update { $0.append(mine) } })
        }
        try await withThrowingTaskGroup(of: Void.self) { group in
            for p in producers / 2..<producers {
                group.addTask { for i in 0..<perProducer { try await queue.put(p * perProducer + i) } }
            }
            var taskConsumers: [Task<[Int], Never>] = []
            for _ in 0..<consumers / 2 {
                taskConsumers.append(Task {
                    var mine: [Int] = []
                    for await item in queue { mine.append(item) }
                    return mine
                })
            }
            try await group.waitForAll()  // the task producers
            for t in threads.prefix(producers / 2) { try finish(t, timeout: 500) }  // the thread producers
            queue.shutdown()  // consumers drain what is left, then stop
            for t in taskConsumers { let mine = await t.value; received.update { $0.append(mine) } }
        }
        for t in threads.suffix(consumers / 2) { try finish(t, timeout: 500) }

        let all = received.value.flatMap { $0 }
        #expect(all.count == total)
        #expect(all.reduce(0, &+) == total * (total - 1) / 2)
        var seen = [Bool](repeating: false, count: total)
        var duplicates = 0
        for item in all {
            if seen[item] { duplicates += 1 }
            seen[item] = true
        }
        #expect(duplicates == 0)
        #expect(!seen.contains(false))
        #expect(queue.qsize == 0)
    }
}
