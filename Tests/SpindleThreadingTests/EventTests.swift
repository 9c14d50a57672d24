import SpindleTestSupport
@testable import SpindleThreading
import Testing

// Behaviours of CPython's lock_tests.EventTests.
@Suite("Event", .timeLimit(.minutes(2)))
struct EventTests {
    @Test func isSet() {
        let event = Event()
        #expect(!event.isSet)
        event.set()
        #expect(event.isSet)
        event.set()
        #expect(event.isSet)
        event.clear()
        #expect(!event.isSet)
        event.clear()
        #expect(!event.isSet)
    }

    @Test func notifyWakesAll() throws {
        for setFirst in [false, true] {
            let event = Event()
            if setFirst { event.set() }
            let results = Shared<[Bool]>([])
            let bunch = try Bunch(5) { _ in
                let r1 = event.wait()
                let r2 = event.wait()
                results.update { $0 += [r1, r2] }
            }
            sleepSeconds(0.02)
            event.set()
            try bunch.join()
            #expect(results.value == Array(repeating: true, count: 10))
        }
    }

    @Test func timeout() throws {
        let event = Event()
        let results = Shared<[Bool]>([])
        let bunch = try Bunch(5) { _ in
            let r1 = event.wait(timeout: 0)
            let t0 = monotonicSeconds()
            let r2 = event.wait(timeout: 0.1)
            results.update { $0 += [r1, r2, monotonicSeconds() - t0 >= 0.09] }
        }
        try bunch.join()
        #expect(results.value == Array(repeating: [false, false, true], count: 5).flatMap { $0 })
        event.set()
        #expect(event.wait(timeout: 0))
        #expect(event.wait(timeout: -1))
    }

    @Test func setAndClearWhileWaiting() throws {
        // lock_tests.EventTests.test_set_and_clear: a waiter woken by set() reports true even if
        // the event is cleared again before it runs.
        let event = Event()
        let results = Shared<[Bool]>([])
        let bunch = try Bunch(5) { _ in
            let r = event.wait(timeout: 30)
            results.update { $0.append(r) }
        }
        #expect(waitUntil { event.state.withLock { $0.waiters.count } == 5 })
        event.set()
        event.clear()
        try bunch.join()
        #expect(results.value == Array(repeating: true, count: 5))
    }
}
