import Foundation
import Glibc
import SpindleMultiprocessing
import SpindleQueue
import SpindleSystem
import SpindleTestSupport
import SpindleThreading
import Testing

/// The fixture's queue functions, as the parent knows them.
enum QFx {
    static let produce = WorkerFunction<ArgumentTuple<ProcessQueue<Int>, Int, Int, Int>, NoResult>.remote("queue.produce")
    static let consume = WorkerFunction<ArgumentTuple<ProcessQueue<Int>, Int>, [Int]>.remote("queue.consume")
    static let finishTasks = WorkerFunction<JoinableProcessQueue<Int>, Int>.remote("queue.finishTasks")
    static let reverseStrings = WorkerFunction<ArgumentTuple<ProcessQueue<String>, ProcessQueue<String>>, Int>.remote(
        "queue.reverseStrings")
    static let doubleSamples = WorkerFunction<ArgumentTuple<ProcessQueue<Sample>, ProcessQueue<Sample>>, Int>.remote(
        "queue.doubleSamples")
    static let dieHoldingTheMutex = WorkerFunction<ProcessQueue<Int>, NoResult>.remote("queue.dieHoldingTheMutex")
}

/// The names of this process's shared memory blocks in /dev/shm.
func sharedMemoryBlocksOfThisProcess() -> Set<String> {
    var names: Set<String> = []
    guard let dir = opendir("/dev/shm") else { return names }
    defer { closedir(dir) }
    let prefix = "psm_\(getpid())_"
    while let entry = readdir(dir) {
        let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        if name.hasPrefix(prefix) { names.insert(name) }
    }
    return names
}

/// Ported in spirit from test_multiprocessing's _TestQueue and _TestJoinableQueue, plus what a
/// shared-memory ring adds: wrapping, byte capacity, oversized items, a dead mutex holder.
@Suite("multiprocessing: ProcessQueue and JoinableProcessQueue", .serialized, .timeLimit(.minutes(5)))
struct ProcessQueueTests {
    init() { Fixture.use() }

    // MARK: - One process

    @Test func putAndGetKeepOrderAndCount() throws {
        let queue = try ProcessQueue<Int>(maxsize: 3)
        #expect(queue.empty && !queue.full && queue.qsize == 0)
        #expect(queue.maxsize == 3 && queue.byteCapacity == 1 << 20)
        try queue.put(1)
        try queue.put(2, block: false)
        try queue.putNowait(3)
        #expect(queue.qsize == 3 && queue.full && !queue.empty)
        #expect(throws: QueueError.full) { try queue.putNowait(4) }
        #expect(throws: QueueError.full) { try queue.put(4, block: false) }
        #expect(try queue.get() == 1)
        #expect(try queue.getNowait() == 2)
        #expect(try queue.get(block: false) == 3)
        #expect(queue.empty)
        #expect(throws: QueueError.empty) { try queue.getNowait() }
        #expect(String(describing: queue).contains("maxsize: 3, qsize: 0"))
    }

    /// test_put / test_get with timeouts: a full put and an empty get wait about as long as
    /// asked, then throw.
    @Test func fullAndEmptyWaitForTheirTimeoutsThenThrow() throws {
        let queue = try ProcessQueue<String>(maxsize: 1)
        try queue.put("only")
        var t0 = monotonicSeconds()
        #expect(throws: QueueError.full) { try queue.put("more", timeout: 0.3) }
        #expect(monotonicSeconds() - t0 >= 0.25)
        #expect(try queue.get(timeout: 0.3) == "only")
        t0 = monotonicSeconds()
        #expect(throws: QueueError.empty) { try queue.get(timeout: 0.3) }
        #expect(monotonicSeconds() - t0 >= 0.25)
        t0 = monotonicSeconds()
        #expect(throws: QueueError.empty) { try queue.get(timeout: 0) }
        #expect(throws: QueueError.invalidArgument("'timeout' must be a non-negative number, not -1.0")) {
            try queue.get(timeout: -1)
        }
        #expect(throws: QueueError.invalidArgument("'timeout' must be a non-negative number, not -1.0")) {
            try queue.put("x", timeout: -1)
        }
        #expect(queue.empty)
    }

    /// A get that waits is woken by a put from another thread, well before its timeout.
    @Test func aWaitingGetWakesForAPut() throws {
        let queue = try ProcessQueue<Int>()
        let putter = try spawn {
            sleepSeconds(0.2)
            try queue.put(42)
        }
        let t0 = monotonicSeconds()
        #expect(try queue.get(timeout: 30) == 42)
        #expect(monotonicSeconds() - t0 < 20)
        try putter.join()
    }

    /// Items of varying sizes go round a 64-byte ring hundreds of times, each whole and in order.
    @Test func itemsWrapAroundTheRing() throws {
        let queue = try ProcessQueue<String>(byteCapacity: 64)
        var expected: [String] = []
        var got: [String] = []
        for round in 0..<1000 {
            let text = String(repeating: Character(UnicodeScalar(UInt8(65 + round % 26))), count: round % 23)
            expected.append(text)
            try queue.put(text, block: false)
            if queue.qsize > 1 { got.append(try queue.get(block: false)) }
        }
        while !queue.empty { got.append(try queue.getNowait()) }
        #expect(got == expected)
    }

    /// The data area bounds an unbounded queue too: a put that does not fit is full; one larger
    /// than the whole area is an error naming the sizes, and the queue goes on working.
    @Test func theByteCapacityBoundsTheQueueAndAnOversizedItemIsAnError() throws {
        let queue = try ProcessQueue<[UInt8]>(byteCapacity: 64)
        try queue.put([UInt8](repeating: 1, count: 40), block: false)
        #expect(throws: QueueError.full) { try queue.put([UInt8](repeating: 2, count: 30), block: false) }
        #expect(throws: QueueError.full) { try queue.put([UInt8](repeating: 2, count: 30), timeout: 0.05) }
        #expect {
            try queue.put([UInt8](repeating: 3, count: 100))
        } throws: { error in
            guard case MultiprocessingError.invalidState(let why) = error else { return false }
            return why.contains("102 bytes") && why.contains("106 with its length") && why.contains("data area of 64 bytes")
        }
        #expect(try queue.get() == [UInt8](repeating: 1, count: 40))
        try queue.put([UInt8](repeating: 2, count: 30), block: false)
        #expect(try queue.get() == [UInt8](repeating: 2, count: 30))
        #expect(throws: MultiprocessingError.self) { _ = try ProcessQueue<Int>(byteCapacity: 8) }
        #expect(throws: MultiprocessingError.self) { _ = try ProcessQueue<Int>(byteCapacity: (1 << 31) + 1) }
    }

    /// A put that waits for bytes wakes when a get frees enough of them.
    @Test func aPutWaitingForBytesWakesWhenAGetFreesThem() throws {
        let queue = try ProcessQueue<[UInt8]>(byteCapacity: 100)
        try queue.put([UInt8](repeating: 1, count: 60))
        let getter = try spawn {
            sleepSeconds(0.2)
            _ = try queue.get()
        }
        try queue.put([UInt8](repeating: 2, count: 60), timeout: 30)
        try getter.join()
        #expect(try queue.getNowait() == [UInt8](repeating: 2, count: 60))
    }

    /// test_closed_queue_put_get_exceptions: after close, puts and gets throw; a get waiting in
    /// another thread wakes and throws; the creator's close removes the shared block's name.
    @Test func aClosedQueueRefusesPutsAndGets() throws {
        let queue = try ProcessQueue<Int>()
        let name = queue.name
        #expect(access("/dev/shm/\(name)", F_OK) == 0)
        let waiterFailed = Event()
        let waiter = try spawn {
            do {
                _ = try queue.get(timeout: 60)
            } catch MultiprocessingError.invalidState("Queue is closed") {
                waiterFailed.set()
            }
        }
        sleepSeconds(0.2)
        queue.close()
        queue.close()
        #expect(queue.closed)
        #expect(waiterFailed.wait(timeout: 30))
        try waiter.join()
        #expect(throws: MultiprocessingError.invalidState("Queue is closed")) { try queue.put(1) }
        #expect(throws: MultiprocessingError.invalidState("Queue is closed")) { try queue.get() }
        #expect(access("/dev/shm/\(name)", F_OK) != 0)
        #expect(throws: (any Error).self) { _ = try JSONEncoder().encode(queue) }
    }

    /// A handle decoded elsewhere is checked: the block must exist, hold the element type, and
    /// be joinable for a JoinableProcessQueue.
    @Test func attachingChecksTheBlock() throws {
        let queue = try ProcessQueue<Int>(maxsize: 5)
        let encoded = try JSONEncoder().encode(queue)
        let attached = try JSONDecoder().decode(ProcessQueue<Int>.self, from: encoded)
        try queue.put(7)
        #expect(attached.qsize == 1 && attached.maxsize == 5)
        #expect(try attached.get() == 7)
        #expect {
            _ = try JSONDecoder().decode(ProcessQueue<String>.self, from: encoded)
        } throws: { error in
            String(describing: error).contains("holds elements of type Int, not String")
        }
        #expect {
            _ = try JSONDecoder().decode(JoinableProcessQueue<Int>.self, from: encoded)
        } throws: { error in
            String(describing: error).contains("not a JoinableProcessQueue")
        }
        // Closing an attached handle leaves the block to its creator.
        attached.close()
        try queue.put(8)
        #expect(try queue.get() == 8)
        queue.close()
        #expect(throws: (any Error).self) { _ = try JSONDecoder().decode(ProcessQueue<Int>.self, from: encoded) }
    }

    @Test func taskDoneOneTooManyIsAnError() throws {
        let queue = try JoinableProcessQueue<Int>()
        #expect(throws: QueueError.taskDoneTooManyTimes) { try queue.taskDone() }
        try queue.put(1)
        try queue.put(2)
        #expect(queue.unfinishedTasks == 2)
        #expect(try queue.join(timeout: 0.1) == false)
        _ = try queue.get()
        _ = try queue.get()
        try queue.taskDone()
        #expect(try queue.join(timeout: 0.1) == false)
        try queue.taskDone()
        #expect(try queue.join(timeout: 0.1))
        try queue.join()
        #expect(throws: QueueError.taskDoneTooManyTimes) { try queue.taskDone() }
        #expect(queue.unfinishedTasks == 0)
    }

    // MARK: - Across processes

    /// A get in this process waits for a put made by a child process.
    @Test func aGetWaitsForAnotherProcessesPut() throws {
        let queue = try ProcessQueue<Int>()
        let producer = WorkerProcess(target: QFx.produce, argument: ArgumentTuple(queue, 100, 3, 0))
        try producer.start()
        #expect(try queue.get(timeout: 60) == 100)
        #expect(try queue.get(timeout: 60) == 101)
        #expect(try queue.get(timeout: 60) == 102)
        #expect(try producer.join(timeout: 60))
        #expect(producer.exitcode == 0)
        #expect(queue.empty)
    }

    /// 4 producer processes and 4 consumer processes move 100,000 numbered items through a
    /// maxsize-64 queue: every item arrives exactly once (count, sum, sum of squares), and each
    /// consumer sees each producer's items in order.
    @Test func exactlyOnceWithFourProducerAndFourConsumerProcesses() throws {
        try moveItems(producers: 4, consumers: 4, threads: 0, perProducer: 25_000)
    }

    /// Processes and threads together: 2 producer processes and 2 producer threads here, 2
    /// consumer processes and 2 consumer threads here.
    @Test func exactlyOnceWithProcessesAndThreadsTogether() throws {
        try moveItems(producers: 2, consumers: 2, threads: 2, perProducer: 10_000)
    }

    private func moveItems(producers: Int, consumers: Int, threads: Int, perProducer: Int) throws {
        // Other suites make blocks of this process at the same time: only the queue's is checked.
        var queueName = ""
        let stride = 1_000_000
        let totalConsumers = consumers + threads
        do {
            let queue = try ProcessQueue<Int>(maxsize: 64)
            queueName = queue.name
            var producerProcesses: [WorkerProcess] = []
            for p in 0..<producers {
                producerProcesses.append(WorkerProcess(target: QFx.produce, argument: ArgumentTuple(queue, p * stride, perProducer, 0)))
            }
            let results = Locked<[[Int]]>([])
            let pool = try Pool(processes: consumers)
            let consumerResults = try (0..<consumers).map { _ in try pool.applyAsync(QFx.consume, ArgumentTuple(queue, stride)) }
            var producerThreads: [SpindleThread] = []
            var consumerThreads: [SpindleThread] = []
            for t in 0..<threads {
                let start = (producers + t) * stride
                producerThreads.append(try spawn { for item in start..<(start + perProducer) { try queue.put(item) } })
                consumerThreads.append(
                    try spawn {
                        var tally = ItemTally(stride: stride)
                        while true {
                            let item = try queue.get(timeout: 120)
                            if item == -1 { break }
                            tally.add(item)
                        }
                        results.withLock { $0.append(tally.summary) }
                    })
            }
            for process in producerProcesses { try process.start() }
            for process in producerProcesses {
                #expect(try process.join(timeout: 240))
                #expect(process.exitcode == 0)
            }
            for thread in producerThreads { try thread.join() }
            for _ in 0..<totalConsumers { try queue.put(-1) }
            for result in consumerResults {
                let counts = try result.get(timeout: 240)
                results.withLock { $0.append(counts) }
            }
            for thread in consumerThreads { try thread.join() }
            pool.close()
            try pool.join()

            let all = results.withLock { $0 }
            #expect(all.count == totalConsumers)
            var expectedSum = 0
            var expectedSquares = 0
            for p in 0..<(producers + threads) {
                for item in (p * stride)..<(p * stride + perProducer) {
                    expectedSum &+= item
                    expectedSquares &+= item &* item
                }
            }
            #expect(all.map { $0[0] }.reduce(0, +) == (producers + threads) * perProducer)
            #expect(all.map { $0[1] }.reduce(0, &+) == expectedSum)
            #expect(all.map { $0[2] }.reduce(0, &+) == expectedSquares)
            #expect(all.map { $0[3] }.reduce(0, +) == 0)
            #expect(queue.empty)
        }
        #expect(!sharedMemoryBlocksOfThisProcess().contains(queueName))
    }

    /// Strings of 0 to 99 characters through 128-byte rings, both ways: they wrap, and puts on
    /// both sides wait for bytes.
    @Test func stringsThroughSmallRingsAcrossProcesses() throws {
        let requests = try ProcessQueue<String>(byteCapacity: 128)
        let replies = try ProcessQueue<String>(byteCapacity: 128)
        let reverser = WorkerProcess(target: QFx.reverseStrings, argument: ArgumentTuple(requests, replies))
        try reverser.start()
        var made: [String] = []
        for i in 0..<500 {
            var text = ""
            for j in 0..<(i % 99) { text.append(Character(UnicodeScalar(UInt8(97 + (i + j) % 26)))) }
            made.append(text + "é")
        }
        let texts = made
        let sender = try spawn {
            for text in texts { try requests.put(text, timeout: 120) }
            try requests.put("", timeout: 120)
        }
        var got: [String] = []
        for _ in texts { got.append(try replies.get(timeout: 120)) }
        try sender.join()
        #expect(got == texts.map { String($0.reversed()) })
        #expect(try reverser.join(timeout: 60))
        #expect(reverser.exitcode == 0)
    }

    @Test func structsAcrossProcesses() throws {
        let requests = try ProcessQueue<Sample>(maxsize: 8)
        let replies = try ProcessQueue<Sample>()
        let pool = try Pool(processes: 1)
        defer { pool.terminate() }
        let count = try pool.applyAsync(QFx.doubleSamples, ArgumentTuple(requests, replies))
        for id in 0..<200 { try requests.put(Sample.make(id)) }
        var stop = Sample.make(0)
        stop.id = -1
        try requests.put(stop)
        for id in 0..<200 {
            var expected = Sample.make(id)
            expected.id *= 2
            #expect(try replies.get(timeout: 60) == expected)
        }
        #expect(try count.get(timeout: 60) == 200)
    }

    /// test_task_done: worker processes get and finish tasks; join in this process wakes when the
    /// last is done.
    @Test func joinWakesWhenWorkerProcessesFinishEveryTask() throws {
        let queue = try JoinableProcessQueue<Int>(maxsize: 16)
        let workers = (0..<2).map { _ in WorkerProcess(target: QFx.finishTasks, argument: queue) }
        for worker in workers { try worker.start() }
        let feeder = try spawn {
            for item in 0..<500 { try queue.put(item) }
            for _ in 0..<2 { try queue.put(-1) }
        }
        #expect(try queue.join(timeout: 120))
        #expect(queue.unfinishedTasks == 0)
        try feeder.join()
        for worker in workers {
            #expect(try worker.join(timeout: 60))
            #expect(worker.exitcode == 0)
        }
        #expect(queue.empty)
        #expect(throws: QueueError.taskDoneTooManyTimes) { try queue.taskDone() }
    }

    /// A process killed while it holds the queue's mutex does not leave the queue locked: the
    /// next process that waits for the mutex takes it over, and every item is still there. The
    /// first holder is still a zombie (not yet reaped) when the mutex is taken over, the second
    /// is reaped.
    @Test func aProcessThatDiesHoldingTheMutexDoesNotLockTheQueue() throws {
        let queue = try ProcessQueue<Int>()
        for item in 0..<3 { try queue.put(item) }
        let zombie = WorkerProcess(target: QFx.dieHoldingTheMutex, argument: queue)
        try zombie.start()
        let zombiePid = try #require(zombie.pid)
        #expect(waitUntil(timeout: 60) { !processAlive(zombiePid) })
        #expect(access("/proc/\(zombiePid)", F_OK) == 0)  // dead, not reaped
        #expect(try queue.get(timeout: 30) == 0)
        #expect(try zombie.join(timeout: 60))
        #expect(zombie.exitcode == -SIGKILL)

        let reaped = WorkerProcess(target: QFx.dieHoldingTheMutex, argument: queue)
        try reaped.start()
        #expect(try reaped.join(timeout: 60))
        #expect(reaped.exitcode == -SIGKILL)
        try queue.put(3)
        #expect(queue.qsize == 3)
        #expect(try queue.get(timeout: 30) == 1)
        #expect(try queue.get(timeout: 30) == 2)
        #expect(try queue.get(timeout: 30) == 3)
        #expect(queue.empty)
    }

    /// A consumer process killed while it waits in get leaves the queue working for the others:
    /// the items put afterwards all reach a second consumer.
    @Test func aConsumerKilledWhileWaitingDoesNotStopTheOthers() throws {
        let queue = try ProcessQueue<Int>(maxsize: 8)
        let killed = WorkerProcess(target: QFx.consume, argument: ArgumentTuple(queue, 1_000_000))
        try killed.start()
        sleepSeconds(0.3)
        killed.kill()
        #expect(try killed.join(timeout: 60))
        #expect(killed.exitcode == -SIGKILL)
        let pool = try Pool(processes: 1)
        defer { pool.terminate() }
        let result = try pool.applyAsync(QFx.consume, ArgumentTuple(queue, 1_000_000))
        for item in 0..<100 { try queue.put(item, timeout: 60) }
        try queue.put(-1, timeout: 60)
        let counts = try result.get(timeout: 60)
        #expect(counts[0] == 100 && counts[1] == 4950 && counts[3] == 0)
        #expect(queue.empty)
    }

    /// The shared blocks of the queues made here are gone once the queues are.
    @Test func noSharedMemoryIsLeft() throws {
        var names: [String] = []
        do {
            let plain = try ProcessQueue<Int>()
            let joinable = try JoinableProcessQueue<String>()
            names = [plain.name, joinable.name]
            #expect(sharedMemoryBlocksOfThisProcess().isSuperset(of: names))
            let producer = WorkerProcess(target: QFx.produce, argument: ArgumentTuple(plain, 0, 10, 0))
            try producer.start()
            #expect(try producer.join(timeout: 60))
            #expect(plain.qsize == 10)
            try joinable.put("x")
        }
        #expect(sharedMemoryBlocksOfThisProcess().isDisjoint(with: names))
        for name in names { #expect(access("/dev/shm/\(name)", F_OK) != 0) }
    }
}
