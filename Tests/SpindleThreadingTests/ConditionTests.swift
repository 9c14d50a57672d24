import SpindleTestSupport
@testable import SpindleThreading
import Testing

// Behaviours of CPython's lock_tests.ConditionTests.
@Suite("Condition", .timeLimit(.minutes(2)))
struct ConditionTests {
    @Test(arguments: [false, true])
    func acquireAndRelease(reentrant: Bool) throws {
        let cond = reentrant ? Condition(lock: RLock()) : Condition(lock: Lock())
        try cond.acquire()
        if reentrant { try cond.acquire(); try cond.release() }
        let got = Shared<Bool?>(nil)
        let bunch = try Bunch(1) { _ in
            let result = try cond.acquire(blocking: false)
            got.update { $0 = result }
        }
        try bunch.join()
        #expect(got.value == false)
        try cond.release()
    }

    @Test func waitAndNotifyNeedTheLock() throws {
        let cond = Condition()
        #expect(throws: ThreadingError(.notOwner, "cannot wait on un-acquired lock")) { try cond.wait() }
        #expect(throws: ThreadingError(.notOwner, "cannot notify on un-acquired lock")) { try cond.notify() }
        #expect(throws: ThreadingError.self) { try cond.notifyAll() }
    }

    /// lock_tests.ConditionTests._check_notify: notify(1), notify(3) and notifyAll wake exactly
    /// that many waiters.
    @Test(arguments: [false, true])
    func notifyWakesExactly(reentrant: Bool) throws {
        let cond = reentrant ? Condition(lock: RLock()) : Condition(lock: Lock())
        let n = 5
        let started = Counter()
        let woken = Counter()
        let bunch = try Bunch(n) { _ in
            try cond.withLock {
                started.increment()
                let notified = try cond.wait()
                #expect(notified)
                woken.increment()
            }
        }
        func waiting() -> Int { cond.withLock { started.value - woken.value } }
        #expect(waitUntil { started.value == n })
        #expect(waitUntil { cond.withLock { true } && cond.waiters.withLock { $0.count } == n })
        try cond.withLock { try cond.notify(1) }
        #expect(waitUntil { woken.value == 1 })
        try cond.withLock { try cond.notify(3) }
        #expect(waitUntil { woken.value == 4 })
        sleepSeconds(0.05)
        #expect(woken.value == 4)
        try cond.withLock { try cond.notifyAll() }
        try bunch.join()
        #expect(woken.value == n)
        #expect(waiting() == 0)
    }

    @Test func waitTimesOut() throws {
        let cond = Condition()
        let results = Shared<[Bool]>([])
        let bunch = try Bunch(3) { _ in
            let t0 = monotonicSeconds()
            let notified = try cond.withLock { try cond.wait(timeout: 0.1) }
            results.update { $0.append(!notified && monotonicSeconds() - t0 >= 0.09) }
        }
        try bunch.join()
        #expect(results.value == [true, true, true])
        // A zero or negative timeout does not wait.
        #expect(try cond.withLock { try cond.wait(timeout: 0) } == false)
        #expect(try cond.withLock { try cond.wait(timeout: -1) } == false)
    }

    @Test func waitForPredicate() throws {
        let cond = Condition()
        let state = Shared(0)
        let results = Shared<[Int]>([])
        let bunch = try Bunch(1) { _ in
            try cond.withLock {
                let ok = try cond.waitFor { state.value == 4 }
                #expect(ok)
                results.update { $0.append(state.value) }
            }
        }
        for _ in 0..<4 {
            sleepSeconds(0.01)
            try cond.withLock {
                state.update { $0 += 1 }
                try cond.notify()
            }
        }
        try bunch.join()
        #expect(results.value == [4])
    }

    @Test func waitForTimeout() throws {
        let cond = Condition()
        let outcome = Shared<(Bool, Bool)?>(nil)
        let bunch = try Bunch(1) { _ in
            try cond.withLock {
                let t0 = monotonicSeconds()
                let ok = try cond.waitFor(timeout: 0.1) { false }
                outcome.update { $0 = (ok, monotonicSeconds() - t0 >= 0.09) }
            }
        }
        // Spurious notifications do not end the wait early.
        for _ in 0..<4 {
            sleepSeconds(0.01)
            try cond.withLock { try cond.notify() }
        }
        try bunch.join()
        #expect(outcome.value?.0 == false)
        #expect(outcome.value?.1 == true)
    }

    @Test func reentrantWaitRestoresRecursion() throws {
        let lock = RLock()
        let cond = Condition(lock: lock)
        try lock.acquire()
        try lock.acquire()
        let other = try Bunch(1) { _ in
            // It can take the lock only because wait() released every level.
            try cond.withLock { try cond.notify() }
        }
        #expect(try cond.wait(timeout: 30))
        #expect(lock.recursionCount == 2)
        try lock.release()
        try lock.release()
        try other.join()
    }
}
