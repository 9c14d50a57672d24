import SpindleTestSupport
@testable import SpindleThreading
import Testing

// Behaviours of CPython's lock_tests.BarrierTests.
@Suite("Barrier", .timeLimit(.minutes(2)))
struct BarrierTests {
    static let n = 5

    @Test func passesRepeatedly() throws {
        let barrier = Barrier(parties: Self.n)
        let phases = Shared<[Int]>([])
        let bunch = try Bunch(Self.n) { _ in
            for phase in 0..<3 {
                try barrier.wait()
                phases.update { $0.append(phase) }
                try barrier.wait()
            }
        }
        try bunch.join()
        #expect(phases.value == (0..<3).flatMap { Array(repeating: $0, count: Self.n) })
        #expect(barrier.nWaiting == 0)
        #expect(!barrier.broken)
    }

    @Test func waitReturnsEveryIndexOnce() throws {
        let barrier = Barrier(parties: Self.n)
        let indices = Shared<[Int]>([])
        let bunch = try Bunch(Self.n) { _ in
            let index = try barrier.wait()
            indices.update { $0.append(index) }
        }
        try bunch.join()
        #expect(indices.value.sorted() == Array(0..<Self.n))
    }

    @Test func actionRunsOncePerPassBeforeRelease() throws {
        let runs = Counter()
        let barrier = Barrier(parties: Self.n) { runs.increment() }
        let seen = Shared<[Int]>([])
        let bunch = try Bunch(Self.n) { _ in
            try barrier.wait()
            seen.update { $0.append(runs.value) }
            try barrier.wait()
        }
        try bunch.join()
        #expect(seen.value == Array(repeating: 1, count: Self.n))
        #expect(runs.value == 2)
    }

    @Test func failingActionBreaksTheBarrier() throws {
        struct Boom: Error {}
        let barrier = Barrier(parties: Self.n) { throw Boom() }
        let outcomes = Shared<[String]>([])
        let bunch = try Bunch(Self.n) { _ in
            do {
                try barrier.wait()
                outcomes.update { $0.append("passed") }
            } catch let error as BrokenBarrierError {
                outcomes.update { $0.append(error.actionError is Boom ? "action" : "broken") }
            }
        }
        try bunch.join()
        #expect(outcomes.value.filter { $0 == "action" }.count == 1)
        #expect(outcomes.value.filter { $0 == "broken" }.count == Self.n - 1)
        #expect(barrier.broken)
    }

    @Test func abortBreaksWaiters() throws {
        let barrier = Barrier(parties: Self.n)
        let broken = Counter()
        let bunch = try Bunch(Self.n - 1) { _ in
            do { try barrier.wait() } catch { broken.increment() }
        }
        #expect(waitUntil { barrier.nWaiting == Self.n - 1 })
        barrier.abort()
        try bunch.join()
        #expect(broken.value == Self.n - 1)
        #expect(barrier.broken)
        #expect(throws: BrokenBarrierError.self) { try barrier.wait() }
    }

    @Test func resetBreaksWaitersThenWorksAgain() throws {
        let barrier = Barrier(parties: Self.n)
        let reasons = Shared<[BrokenBarrierError.Reason]>([])
        let bunch = try Bunch(Self.n - 1) { _ in
            do { try barrier.wait() } catch let error as BrokenBarrierError { reasons.update { $0.append(error.reason) } }
        }
        #expect(waitUntil { barrier.nWaiting == Self.n - 1 })
        barrier.reset()
        try bunch.join()
        #expect(reasons.value == Array(repeating: .reset, count: Self.n - 1))
        #expect(!barrier.broken)
        let again = try Bunch(Self.n) { _ in try barrier.wait() }
        try again.join()
        #expect(again.finished.value == Self.n)
    }

    @Test func abortThenReset() throws {
        let barrier = Barrier(parties: Self.n)
        barrier.abort()
        #expect(barrier.broken)
        barrier.reset()
        #expect(!barrier.broken)
        let bunch = try Bunch(Self.n) { _ in try barrier.wait() }
        try bunch.join()
    }

    @Test func timeoutBreaksTheBarrier() throws {
        let barrier = Barrier(parties: Self.n)
        let reasons = Shared<[BrokenBarrierError.Reason]>([])
        let bunch = try Bunch(2) { i in
            do {
                try barrier.wait(timeout: i == 0 ? 0.1 : 30)
            } catch let error as BrokenBarrierError {
                reasons.update { $0.append(error.reason) }
            }
        }
        try bunch.join()
        #expect(reasons.value.sorted { "\($0)" < "\($1)" } == [.timedOut, .timedOut])
        #expect(barrier.broken)
    }

    @Test func defaultTimeout() throws {
        let barrier = Barrier(parties: Self.n, timeout: 0.1)
        let broken = Counter()
        let bunch = try Bunch(2) { _ in
            do { try barrier.wait() } catch { broken.increment() }
        }
        try bunch.join()
        #expect(broken.value == 2)
    }

    @Test func singleParty() throws {
        let barrier = Barrier(parties: 1)
        #expect(try barrier.wait() == 0)
        #expect(try barrier.wait() == 0)
    }
}
