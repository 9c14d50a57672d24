import SpindleTestSupport
@testable import SpindleThreading
import Testing

// Behaviours of CPython's lock_tests.SemaphoreTests and BoundedSemaphoreTests.
@Suite("Semaphore", .timeLimit(.minutes(2)))
struct SemaphoreTests {
    @Test func acquireAndRelease() throws {
        let sem = Semaphore(1)
        #expect(try sem.acquire())
        try sem.release()
        let two = Semaphore(2)
        #expect(try two.acquire())
        #expect(try two.acquire())
        #expect(two.value == 0)
        try two.release()
        try two.release()
        #expect(two.value == 2)
    }

    @Test func defaultValueIsOne() throws {
        let sem = Semaphore()
        #expect(try sem.acquire(blocking: false))
        #expect(try !sem.acquire(blocking: false))
    }

    @Test func contended() throws {
        // lock_tests.SemaphoreTests.test_acquire_contended: releases admit exactly that many.
        let sem = Semaphore(7)
        try sem.acquire()
        let n = 10
        let admitted = Counter()
        let bunch = try Bunch(n) { _ in
            try sem.acquire()
            admitted.increment()
        }
        #expect(waitUntil { admitted.value == 6 })
        sleepSeconds(0.05)
        #expect(admitted.value == 6)
        try sem.release(2)
        #expect(waitUntil { admitted.value == 8 })
        try sem.release()
        try sem.release()
        try bunch.join()
        #expect(admitted.value == n)
        #expect(sem.value == 0)
    }

    @Test func releaseMany() throws {
        let sem = Semaphore(0)
        let admitted = Counter()
        let bunch = try Bunch(5) { _ in
            try sem.acquire()
            admitted.increment()
        }
        try sem.release(5)
        try bunch.join()
        #expect(admitted.value == 5)
        #expect(throws: ThreadingError.self) { try sem.release(0) }
    }

    @Test func tryAcquireContended() throws {
        let sem = Semaphore(4)
        for _ in 0..<4 { try sem.acquire() }
        let got = Shared<Bool?>(nil)
        let bunch = try Bunch(1) { _ in
            let result = try sem.acquire(blocking: false)
            got.update { $0 = result }
        }
        try bunch.join()
        #expect(got.value == false)
    }

    @Test func acquireTimeout() throws {
        let sem = Semaphore(2)
        #expect(throws: ThreadingError.self) { try sem.acquire(blocking: false, timeout: 1) }
        #expect(try sem.acquire(timeout: 0.005))
        #expect(try sem.acquire(timeout: 0.005))
        #expect(try !sem.acquire(timeout: 0.005))
        try sem.release()
        #expect(try sem.acquire(timeout: 0.005))
        let t0 = monotonicSeconds()
        #expect(try !sem.acquire(timeout: 0.1))
        #expect(monotonicSeconds() - t0 >= 0.09)
    }

    @Test func withPermit() throws {
        struct Boom: Error {}
        let sem = Semaphore(2)
        sem.withPermit { #expect(sem.value == 1) }
        #expect(throws: Boom.self) { try sem.withPermit { throw Boom() } }
        #expect(sem.value == 2)
    }

    @Test func boundedRefusesOverRelease() throws {
        let sem = BoundedSemaphore(3)
        #expect(throws: ThreadingError(.tooManyReleases, "Semaphore released too many times")) { try sem.release() }
        try sem.acquire()
        try sem.release()
        #expect(throws: ThreadingError.self) { try sem.release() }
        #expect(sem.value == 3)
    }

    @Test func firstComeFirstServed() throws {
        // Permits go to waiters in the order they began to wait.
        let sem = Semaphore(0)
        let order = Shared<[Int]>([])
        var threads: [SpindleThread] = []
        for i in 0..<4 {
            let t = SpindleThread(daemon: true) {
                try sem.acquire()
                order.update { $0.append(i) }
            }
            try t.start()
            threads.append(t)
            #expect(waitUntil { sem.state.withLock { $0.waiters.count } == i + 1 })
        }
        for i in 0..<4 {
            try sem.release()
            #expect(waitUntil { order.value.count == i + 1 })
        }
        for t in threads { try t.join() }
        #expect(order.value == [0, 1, 2, 3])
    }
}
