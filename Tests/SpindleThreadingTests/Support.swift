import Glibc
import SpindleSystem
@testable import SpindleThreading
import Synchronization

/// A counter threads can bump, for tests.
final class Counter: Sendable {
    let storage = Atomic<Int>(0)
    func increment() { storage.wrappingAdd(1, ordering: .relaxed) }
    func add(_ n: Int) { storage.wrappingAdd(n, ordering: .relaxed) }
    var value: Int { storage.load(ordering: .relaxed) }
}

/// A value shared between threads, guarded by its own Mutex.
final class Shared<Value: Sendable>: Sendable {
    let mutex: Locked<Value>
    init(_ value: Value) { mutex = Locked(value) }
    var value: Value { mutex.withLock { $0 } }
    func update<R: Sendable>(_ body: (inout Value) -> R) -> R { mutex.withLock { body(&$0) } }
}

/// Starts `n` threads running `body(index)` (CPython's lock_tests.Bunch).
final class Bunch: Sendable {
    let threads: [SpindleThread]
    let finished = Counter()

    init(_ n: Int, daemon: Bool = true, _ body: @escaping @Sendable (Int) throws -> Void) throws {
        var threads: [SpindleThread] = []
        let finished = self.finished
        for i in 0..<n {
            threads.append(SpindleThread(daemon: daemon) {
                defer { finished.increment() }
                try body(i)
            })
        }
        self.threads = threads
        for thread in threads { try thread.start() }
    }

    /// Joins every thread, failing loudly (rather than hanging) after `timeout` seconds.
    func join(timeout: Double = 60) throws {
        for thread in threads {
            let done = try thread.join(timeout: timeout)
            precondition(done, "a test thread did not finish within \(timeout) s")
        }
    }
}

/// Polls `condition` until it holds or `timeout` passes (for "wait until N threads are blocked").
func waitUntil(timeout: Double = 30, _ condition: () -> Bool) -> Bool {
    let deadline = Deadline.after(seconds: timeout)
    while !condition() {
        if deadline.hasPassed { return false }
        usleep(1_000)
    }
    return true
}

/// Sleeps the calling thread.
func sleepSeconds(_ seconds: Double) { usleep(UInt32(seconds * 1_000_000)) }

/// Seconds on the monotonic clock.
func monotonicSeconds() -> Double { Double(Deadline.now.nanoseconds) / 1e9 }

/// The number of OS threads in this process.
func osThreadCount() -> Int {
    guard let dir = opendir("/proc/self/task") else { return -1 }
    defer { closedir(dir) }
    var count = 0
    while let entry = readdir(dir) {
        let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        if name != "." && name != ".." { count += 1 }
    }
    return count
}

/// Polls `condition` from a task without blocking a thread of the cooperative pool.
func waitUntilAsync(timeout: Double = 30, _ condition: () -> Bool) async -> Bool {
    let deadline = Deadline.after(seconds: timeout)
    while !condition() {
        if deadline.hasPassed { return false }
        try? await Task.sleep(nanoseconds: 1_000_000)
    }
    return true
}
