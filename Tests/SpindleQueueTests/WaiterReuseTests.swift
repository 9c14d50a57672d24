import SpindleTestSupport
@testable import SpindleQueue
import SpindleThreading
import Testing

// Waiters go back to the queue's spare list when their wait is over and are reused by later
// waits, of threads and tasks alike; these tests check that a reused waiter carries nothing of its
// previous wait (its parker, its cancellation, its item) into the next one.
@Suite("Queue waiter reuse", .timeLimit(.minutes(10)))
struct WaiterReuseTests {
    @Test func cancelledTaskWaiterIsReusedByTheNextGetter() async throws {
        let queue = Queue<Int>()
        let first = Task { try await queue.get() }
        #expect(await waitUntilAsync { queue.locked { $0.getters.count } == 1 })
        let used = queue.locked { $0.getters.first! }
        first.cancel()
        await #expect(throws: CancellationError.self) { try await first.value }
        #expect(queue.locked { $0.spares.count } == 1)

        let second = Task { try await queue.get() }
        #expect(await waitUntilAsync { queue.locked { $0.getters.count } == 1 })
        #expect(queue.locked { $0.getters.first! } === used)  // the same waiter, reused
        #expect(queue.locked { $0.spares.isEmpty })
        try queue.putNowait(7)
        #expect(try await second.value == 7)  // not cancelled by the first wait's cancellation
        #expect(queue.locked { $0.spares.count } == 1)
        #expect(queue.qsize == 0)
    }

    @Test func threadWaiterIsReusedByATaskAndBack() async throws {
        let queue = Queue<Int>()
        // A blocking get that times out leaves its waiter (with the thread's parker) spare.
        #expect(throws: QueueError.empty) { try queue.get(timeout: 0.01) }
        #expect(queue.locked { $0.spares.count } == 1)
        let spare = queue.locked { $0.spares[0] }

        let task = Task { try await queue.get() }
        #expect(await waitUntilAsync { queue.locked { $0.getters.count } == 1 })
        #expect(queue.locked { $0.getters.first! } === spare)
        #expect(queue.locked { $0.getters.first!.parker == nil })  // a task's waiter now
        try queue.putNowait(1)
        #expect(try await task.value == 1)

        // And a thread takes it again.
        let got = Shared<Int>(-1)
        let thread = try spawn {
            let item = (try? queue.get()) ?? -2
            got.update { $0 = item }
        }
        #expect(waitUntil { queue.locked { $0.getters.count } == 1 })
        #expect(queue.locked { $0.getters.first! } === spare)
        try queue.putNowait(2)
        try finish(thread)
        #expect(got.value == 2)
    }

    @Test func timedTaskWaitsAreNotRecycled() async throws {
        // A timed wait's timer task may still hold the waiter after the wait, so it is dropped.
        let queue = Queue<Int>()
        await #expect(throws: QueueError.empty) { try await queue.get(timeout: 0.01) }
        #expect(queue.locked { $0.spares.isEmpty })
        let full = Queue<Int>(maxsize: 1)
        try full.putNowait(0)
        await #expect(throws: QueueError.full) { try await full.put(1, timeout: 0.01) }
        #expect(full.locked { $0.spares.isEmpty })
        #expect(try full.getNowait() == 0)
        #expect(full.qsize == 0)
    }

    @Test func spareListIsBounded() async throws {
        let queue = Queue<Int>()
        let limit = QueueStateMachine<FIFOOrder<Int>>.spareLimit
        let getters = (0..<(limit + 8)).map { _ in Task { try await queue.get() } }
        #expect(await waitUntilAsync { queue.locked { $0.getters.count } == limit + 8 })
        for i in 0..<(limit + 8) { try queue.putNowait(i) }
        var sum = 0
        for getter in getters { sum += try await getter.value }
        #expect(sum == (limit + 8) * (limit + 7) / 2)
        #expect(queue.locked { $0.spares.count } == limit)
    }

    /// Cancellation racing with a put, many times over the same recycled waiters: every item is
    /// delivered once, either to the getter or back to the queue's front when the getter was
    /// cancelled just as it was handed the item.
    @Test func cancellationRacingPutsOverReusedWaiters() async throws {
        let queue = Queue<Int>()
        var delivered = 0, returned = 0
        for round in 0..<500 {
            let task = Task { try await queue.get() }
            #expect(await waitUntilAsync { queue.locked { $0.getters.count } == 1 })
            async let cancel: Void = task.cancel()
            try queue.putNowait(round)
            await cancel
            do {
                #expect(try await task.value == round)
                delivered += 1
            } catch is CancellationError {
                #expect(try queue.get(block: false) == round)  // the item came back
                returned += 1
            }
            #expect(queue.qsize == 0)
            #expect(queue.locked { $0.getters.isEmpty })
            #expect(queue.locked { $0.spares.count } == 1)
        }
        #expect(delivered + returned == 500)
        #expect(queue.unfinishedTasks == 500)
    }

    @Test func putterWaitersAreReusedWithTheirNewItems() async throws {
        let queue = Queue<Int>(maxsize: 1)
        try queue.putNowait(-1)
        for i in 0..<50 {
            let putter = Task { try await queue.put(i) }
            #expect(await waitUntilAsync { queue.locked { $0.putters.count } == 1 })
            #expect(try queue.getNowait() == i - 1)  // lets the putter's item in
            try await putter.value
        }
        #expect(try queue.getNowait() == 49)
        #expect(queue.locked { $0.spares.count } == 1)
    }
}
