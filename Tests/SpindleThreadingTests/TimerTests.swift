import SpindleTestSupport
@testable import SpindleThreading
import Testing

// Behaviours of CPython's test_threading TimerTests.
@Suite("SpindleTimer", .timeLimit(.minutes(2)))
struct TimerTests {
    @Test func firesAfterInterval() throws {
        let fired = Event()
        let t0 = monotonicSeconds()
        let timer = SpindleTimer(interval: 0.1) { fired.set() }
        try timer.start()
        #expect(fired.wait(timeout: 30))
        #expect(monotonicSeconds() - t0 >= 0.09)
        try timer.join()
        #expect(timer.isFinished)
    }

    @Test func cancelPreventsTheAction() throws {
        let fired = Counter()
        let timer = SpindleTimer(interval: 0.2) { fired.increment() }
        try timer.start()
        timer.cancel()
        try timer.join()
        sleepSeconds(0.3)
        #expect(fired.value == 0)
    }

    @Test func timersAreIndependent() throws {
        // test_threading.TimerTests.test_init_immutable_default_args: two timers share nothing.
        let a = Counter(), b = Counter()
        let ta = SpindleTimer(interval: 0.01) { a.increment() }
        let tb = SpindleTimer(interval: 0.01) { b.increment(); b.increment() }
        try ta.start(); try tb.start()
        try ta.join(); try tb.join()
        #expect(a.value == 1)
        #expect(b.value == 2)
    }
}
