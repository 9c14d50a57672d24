import Glibc
import SpindleSystem
import SpindleThreading
import Synchronization

/// A value shared between threads, guarded by its own Mutex.
final class Shared<Value: Sendable>: Sendable {
    let mutex: Locked<Value>
    init(_ value: Value) { mutex = Locked(value) }
    var value: Value { mutex.withLock { $0 } }
    func update<R: Sendable>(_ body: (inout Value) -> R) -> R { mutex.withLock { body(&$0) } }
}

/// Starts a daemon thread running `body`.
@discardableResult
func spawn(_ body: @escaping @Sendable () throws -> Void) throws -> SpindleThread {
    let thread = SpindleThread(daemon: true, target: body)
    try thread.start()
    return thread
}

/// Joins `thread`, failing loudly instead of hanging.
func finish(_ thread: SpindleThread, timeout: Double = 60) throws {
    let done = try thread.join(timeout: timeout)
    precondition(done, "a test thread did not finish within \(timeout) s")
}

func sleepSeconds(_ seconds: Double) { usleep(UInt32(seconds * 1_000_000)) }
func monotonicSeconds() -> Double { Double(Deadline.now.nanoseconds) / 1e9 }

/// Polls `condition` until it holds or `timeout` passes.
func waitUntil(timeout: Double = 30, _ condition: () -> Bool) -> Bool {
    let deadline = Deadline.after(seconds: timeout)
    while !condition() {
        if deadline.hasPassed { return false }
        usleep(1_000)
    }
    return true
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

/// A counter threads can bump.
final class Counter: Sendable {
    let storage = Atomic<Int>(0)
    func increment() { storage.wrappingAdd(1, ordering: .relaxed) }
    var value: Int { storage.load(ordering: .relaxed) }
}
