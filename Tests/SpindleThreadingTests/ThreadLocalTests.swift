import SpindleTestSupport
@testable import SpindleThreading
import Testing

// Behaviours of CPython's Lib/test/test_threading_local.py that apply.
@Suite("ThreadLocal", .timeLimit(.minutes(2)))
struct ThreadLocalTests {
    final class Tracked: Sendable {
        let deinits: Counter
        let value: Int
        init(_ value: Int, _ deinits: Counter) { self.value = value; self.deinits = deinits }
        deinit { deinits.increment() }
    }

    @Test func eachThreadHasItsOwnValue() throws {
        let local = ThreadLocal { 0 }
        local.value = 7
        let seen = Shared<[Int]>([])
        let bunch = try Bunch(10) { i in
            let first = local.value
            local.value = i * 10
            local.value += 1
            seen.update { $0.append(first * 1000 + local.value) }
        }
        try bunch.join()
        #expect(seen.value.sorted() == (0..<10).map { $0 * 10 + 1 })
        #expect(local.value == 7)
    }

    @Test func valuesFreedWhenThreadsEnd() throws {
        let deinits = Counter()
        let made = Counter()
        let local = ThreadLocal<Tracked?> { nil }
        for i in 0..<20 {
            let t = SpindleThread {
                local.value = Tracked(i, deinits)
                made.increment()
            }
            try t.start()
            try t.join()
        }
        #expect(made.value == 20)
        #expect(deinits.value == 20)  // freed by the time join() returned
    }

    @Test func valuesFreedWhenLocalIsFreed() throws {
        let deinits = Counter()
        let gate = Event()
        let stored = Event()
        var local: ThreadLocal<Tracked>? = ThreadLocal { Tracked(1, deinits) }
        let weakLocal = Shared<ThreadLocal<Tracked>?>(local)
        let t = SpindleThread(daemon: true) {
            _ = weakLocal.value!.value  // made by the factory in this thread
            weakLocal.update { $0 = nil }
            stored.set()
            gate.wait()
        }
        try t.start()
        #expect(stored.wait(timeout: 30))
        _ = local!.value
        #expect(deinits.value == 0)
        local = nil  // the last reference: both threads' values go, though the thread still runs
        #expect(deinits.value == 2)
        gate.set()
        try t.join()
        #expect(deinits.value == 2)
    }

    @Test func factoryRunsOncePerThread() throws {
        let calls = Counter()
        let local = ThreadLocal { calls.increment(); return [Int]() }
        #expect(!local.hasValue)
        local.value.append(1)
        local.value.append(2)
        #expect(local.hasValue)
        #expect(local.value == [1, 2])
        #expect(calls.value == 1)
        local.reset()
        #expect(local.value == [])
        #expect(calls.value == 2)
    }
}
