import SpindleTestSupport
@testable import SpindleThreading
import Testing

// Behaviours of CPython's lock_tests.RLockTests.
@Suite("RLock", .timeLimit(.minutes(2)))
struct RLockTests {
    @Test func reacquire() throws {
        let lock = RLock()
        try lock.acquire()
        try lock.acquire()
        try lock.acquire()
        #expect(lock.recursionCount == 3)
        try lock.release()
        try lock.release()
        #expect(lock.locked)
        try lock.release()
        #expect(!lock.locked)
        #expect(lock.recursionCount == 0)
    }

    @Test func releaseUnacquired() throws {
        let lock = RLock()
        #expect(throws: ThreadingError(.notOwner, "cannot release un-acquired lock")) { try lock.release() }
        try lock.acquire()
        try lock.acquire()
        try lock.release()
        try lock.acquire()
        try lock.release()
        try lock.release()
        #expect(throws: ThreadingError.self) { try lock.release() }
    }

    @Test func releaseByNonOwnerFails() throws {
        let lock = RLock()
        let bunch = try Bunch(1) { _ in try lock.acquire() }
        try bunch.join()
        #expect(throws: ThreadingError.self) { try lock.release() }
        #expect(lock.locked)
    }

    @Test func isOwned() throws {
        let lock = RLock()
        #expect(!lock.isOwned)
        try lock.acquire()
        #expect(lock.isOwned)
        try lock.acquire()
        #expect(lock.isOwned)
        let seenByOther = Shared<Bool?>(nil)
        let bunch = try Bunch(1) { _ in
            let owned = lock.isOwned
            let got = try lock.acquire(blocking: false)
            seenByOther.update { $0 = owned || got }
        }
        try bunch.join()
        #expect(seenByOther.value == false)
        try lock.release()
        #expect(lock.isOwned)
        try lock.release()
        #expect(!lock.isOwned)
    }

    @Test func contended() throws {
        let lock = RLock()
        try lock.acquire()
        let inside = Counter()
        let bunch = try Bunch(4) { _ in
            lock.withLock {
                lock.withLock { inside.increment() }
            }
        }
        sleepSeconds(0.05)
        #expect(inside.value == 0)
        try lock.release()
        try bunch.join()
        #expect(inside.value == 4)
    }

    @Test func timedAcquire() throws {
        let lock = RLock()
        try lock.acquire()
        let got = Shared<Bool?>(nil)
        let bunch = try Bunch(1) { _ in
            let result = try lock.acquire(timeout: 0.1)
            got.update { $0 = result }
        }
        try bunch.join()
        #expect(got.value == false)
        try lock.release()
    }
}
