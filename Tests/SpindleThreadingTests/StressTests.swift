import SpindleTestSupport
@testable import SpindleThreading
import Testing

/// The counter the stress tests race on, guarded only by the primitive under test.
final class Unguarded: @unchecked Sendable { var value = 0 }

@Suite("Stress: no lost updates", .timeLimit(.minutes(5)))
struct StressTests {
    static let threads = 8
    static let increments = 1_000_000

    @Test func lock() throws {
        let lock = Lock()
        let counter = Unguarded()
        let bunch = try Bunch(Self.threads) { _ in
            for _ in 0..<Self.increments {
                try lock.acquire()
                counter.value += 1
                try lock.release()
            }
        }
        try bunch.join(timeout: 280)
        #expect(counter.value == Self.threads * Self.increments)
    }

    @Test func rlock() throws {
        let lock = RLock()
        let counter = Unguarded()
        let bunch = try Bunch(Self.threads) { _ in
            for i in 0..<Self.increments {
                try lock.acquire()
                if i & 1 == 0 { try lock.acquire() }  // exercise re-entry too
                counter.value += 1
                if i & 1 == 0 { try lock.release() }
                try lock.release()
            }
        }
        try bunch.join(timeout: 280)
        #expect(counter.value == Self.threads * Self.increments)
    }

    @Test func condition() throws {
        // Threads take turns through a Condition: each waits for its turn, bumps, notifies.
        let cond = Condition(lock: Lock())
        let counter = Unguarded()
        let perThread = Self.increments / 10
        let bunch = try Bunch(Self.threads) { me in
            for _ in 0..<perThread {
                try cond.withLock {
                    try cond.waitFor { counter.value % Self.threads == me }
                    counter.value += 1
                    try cond.notifyAll()
                }
            }
        }
        try bunch.join(timeout: 280)
        #expect(counter.value == Self.threads * perThread)
        // And plain mutual exclusion through the condition's lock, at full count.
        let plain = Unguarded()
        let bunch2 = try Bunch(Self.threads) { _ in
            for _ in 0..<Self.increments {
                cond.withLock { plain.value += 1 }
            }
        }
        try bunch2.join(timeout: 280)
        #expect(plain.value == Self.threads * Self.increments)
    }
}
