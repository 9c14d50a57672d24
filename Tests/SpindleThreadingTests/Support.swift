import SpindleTestSupport
import SpindleThreading

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

