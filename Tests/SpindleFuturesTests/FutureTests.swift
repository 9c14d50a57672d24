import SpindleTestSupport
@testable import SpindleFutures
import SpindleThreading
import Testing

// Behaviours of CPython's test_concurrent_futures/test_future.py.
@Suite("Future", .timeLimit(.minutes(2)))
struct FutureTests {
    struct Boom: Error, Equatable {}

    @Test func statesAndCancel() throws {
        let pending = Future<Int>()
        #expect(!pending.running && !pending.cancelled && !pending.done)
        #expect(pending.cancel())
        #expect(pending.cancelled && pending.done)
        #expect(pending.cancel())  // cancelling again still says cancelled
        #expect(!pending.setRunningOrNotifyCancel())
        #expect(throws: FutureError.cancelled) { try pending.result() }
        #expect(throws: FutureError.cancelled) { try pending.exception() }

        let running = Future<Int>()
        #expect(running.setRunningOrNotifyCancel())
        #expect(running.running)
        #expect(!running.cancel())
        try running.setResult(7)
        #expect(!running.cancel())
        #expect(running.done && !running.cancelled)
        #expect(try running.result() == 7)
        #expect(try running.exception() == nil)
    }

    @Test func setResultTwiceIsInvalid() throws {
        let future = Future<Int>()
        try future.setResult(1)
        #expect(throws: FutureError.self) { try future.setResult(2) }
        #expect(throws: FutureError.self) { try future.setException(Boom()) }
        let cancelled = Future<Int>()
        cancelled.cancel()
        #expect(throws: FutureError.self) { try cancelled.setResult(1) }
    }

    @Test func exceptionIsRethrown() throws {
        let future = Future<Int>()
        try future.setException(Boom())
        #expect(throws: Boom.self) { try future.result() }
        #expect(try future.exception() is Boom)
    }

    @Test func resultTimesOut() throws {
        let future = Future<Int>()
        let t0 = monotonicSeconds()
        #expect(throws: FutureError.timedOut) { try future.result(timeout: 0.1) }
        #expect(monotonicSeconds() - t0 >= 0.09)
        #expect(throws: FutureError.timedOut) { try future.exception(timeout: 0) }
    }

    @Test func resultWaitsForAnotherThread() throws {
        let future = Future<String>()
        let setter = try spawn { sleepSeconds(0.05); try future.setResult("done") }
        #expect(try future.result(timeout: 30) == "done")
        try finish(setter)
    }

    @Test func doneCallbacks() throws {
        let calls = Shared<[String]>([])
        let future = Future<Int>()
        future.addDoneCallback { f in calls.update { $0.append("first \((try? f.result()) ?? -1)") } }
        future.addDoneCallback { _ in calls.update { $0.append("second") } }
        #expect(calls.value.isEmpty)
        try future.setResult(5)
        #expect(calls.value == ["first 5", "second"])
        future.addDoneCallback { _ in calls.update { $0.append("late") } }  // runs at once
        #expect(calls.value == ["first 5", "second", "late"])

        let cancelled = Future<Int>()
        let sawCancel = Shared(false)
        cancelled.addDoneCallback { f in sawCancel.update { $0 = f.cancelled } }
        cancelled.cancel()
        #expect(sawCancel.value)
    }

    @Test func asyncValue() async throws {
        let future = Future<Int>()
        let setter = try spawn { sleepSeconds(0.05); try future.setResult(42) }
        #expect(try await future.value == 42)
        try finish(setter)
        let slow = Future<Int>()
        await #expect(throws: FutureError.timedOut) { try await slow.value(timeout: 0.05) }
        let waiting = Task { try await slow.value }
        waiting.cancel()
        await #expect(throws: CancellationError.self) { try await waiting.value }
        #expect(!slow.cancelled)  // cancelling the wait does not cancel the work
    }
}
