import SpindleTestSupport
@testable import SpindleThreading
import Testing

// Behaviours of CPython's Lib/test/lock_tests.py BaseLockTests and LockTests.
@Suite("Lock", .timeLimit(.minutes(2)))
struct LockTests {
    @Test func acquireRelease() throws {
        let lock = Lock()
        #expect(!lock.locked)
        #expect(try lock.acquire())
        #expect(lock.locked)
        try lock.release()
        #expect(!lock.locked)
    }

    @Test func tryAcquire() throws {
        let lock = Lock()
        #expect(try lock.acquire(blocking: false))
        #expect(try !lock.acquire(blocking: false))
        try lock.release()
    }

    @Test func tryAcquireContended() throws {
        let lock = Lock()
        try lock.acquire()
        let result = Shared<Bool?>(nil)
        let bunch = try Bunch(1) { _ in result.update { $0 = try? lock.acquire(blocking: false) } }
        try bunch.join()
        #expect(result.value == false)
        try lock.release()
    }

    @Test func acquireContended() throws {
        let lock = Lock()
        try lock.acquire()
        let n = 5
        let acquired = Counter()
        let bunch = try Bunch(n) { _ in
            try lock.acquire()
            acquired.increment()
            try lock.release()
        }
        sleepSeconds(0.05)
        #expect(acquired.value == 0)  // all blocked while we hold it
        try lock.release()
        try bunch.join()
        #expect(acquired.value == n)
    }

    @Test func withLockReleasesOnThrow() throws {
        struct Boom: Error {}
        let lock = Lock()
        #expect(throws: Boom.self) { try lock.withLock { throw Boom() } }
        #expect(!lock.locked)
        let value = lock.withLock { 42 }
        #expect(value == 42)
    }

    @Test func releaseUnlockedThrows() throws {
        let lock = Lock()
        #expect(throws: ThreadingError.self) { try lock.release() }
        do {
            try lock.release()
        } catch {
            #expect(error.kind == .releaseUnlocked)
            #expect(error.message == "release unlocked lock")
        }
    }

    @Test func timeoutArgumentsValidated() throws {
        let lock = Lock()
        #expect(throws: ThreadingError(.invalidArgument, "can't specify a timeout for a non-blocking call")) {
            try lock.acquire(blocking: false, timeout: 1)
        }
        #expect(throws: ThreadingError.self) { try lock.acquire(timeout: -100) }
        #expect(throws: ThreadingError.self) { try lock.acquire(timeout: .nan) }
        // -1 means "forever", as in Python.
        #expect(try lock.acquire(timeout: -1))
        try lock.release()
        // A huge timeout is accepted.
        #expect(try lock.acquire(timeout: 1e300))
        try lock.release()
    }

    @Test func timedAcquireGivesUp() throws {
        let lock = Lock()
        try lock.acquire()
        let results = Shared<[Bool]>([])
        let bunch = try Bunch(1) { _ in
            let t0 = monotonicSeconds()
            let got = try lock.acquire(timeout: 0.2)
            let waited = monotonicSeconds() - t0
            results.update { $0 = [got, waited >= 0.19] }
            let zero = try lock.acquire(timeout: 0)
            results.update { $0.append(zero) }
        }
        try bunch.join()
        #expect(results.value == [false, true, false])
        try lock.release()
    }

    @Test func releasedByAnotherThread() throws {
        // A Lock (unlike an RLock) may be released by any thread.
        let lock = Lock()
        try lock.acquire()
        let bunch = try Bunch(1) { _ in try lock.release() }
        try bunch.join()
        #expect(!lock.locked)
        #expect(try lock.acquire(blocking: false))
        try lock.release()
    }

    @Test func reacquireAcrossThreads() throws {
        // lock_tests.LockTests.test_reacquire: a thread blocks re-acquiring a lock it holds until
        // another thread releases it.
        let lock = Lock()
        let phase = Shared<[Int]>([])
        let bunch = try Bunch(1) { _ in
            try lock.acquire()
            phase.update { $0.append(1) }
            try lock.acquire()
            phase.update { $0.append(2) }
        }
        #expect(waitUntil { phase.value == [1] })
        sleepSeconds(0.05)
        #expect(phase.value == [1])
        try lock.release()
        try bunch.join()
        #expect(phase.value == [1, 2])
        try lock.release()
    }

    @Test func stateAfterTimeout() throws {
        // A timed-out acquire must not leave the lock in a state where it cannot be acquired.
        let lock = Lock()
        try lock.acquire()
        let bunch = try Bunch(2) { _ in _ = try lock.acquire(timeout: 0.05) }
        try bunch.join()
        try lock.release()
        #expect(try lock.acquire(blocking: false))
        try lock.release()
    }

    @Test func noThreadLeak() throws {
        let lock = Lock()
        let bunch = try Bunch(15) { _ in
            try lock.acquire()
            try lock.release()
        }
        let tids = bunch.threads.compactMap(\.nativeID)
        #expect(tids.count == 15)
        try bunch.join()
        #expect(waitUntil { livingThreads(tids).isEmpty })
    }
}
