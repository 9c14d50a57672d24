#if canImport(Glibc)
import Glibc
#endif
import Spindle

/// The primitive lock (lock.py): five threads print the alphabet one letter at a time.
///
/// Without a lock their letters interleave ("mess"); with each thread holding one `Lock` while it
/// prints, every line comes out whole ("neat").
enum LockDemo {
    static let alphabet = Array("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")
    static let threadCount = 5

    static func run() throws -> Int32 {
        Console.line(separator("mess"))
        try runThreads { showLetters() }

        Console.line(separator("neat"))
        let lock = Lock()
        try runThreads { lock.withLock { showLetters() } }
        return 0
    }

    /// Prints the alphabet and a newline, one unbuffered write per character. Now and then it
    /// pauses for a moment, as a thread does when it is preempted, so other threads get their turn.
    static func showLetters() {
        for letter in alphabet {
            Console.write(String(letter))
            if Int.random(in: 0..<4) == 0 {
                usleep(UInt32.random(in: 200...1_500))
            } else {
                sched_yield()
            }
        }
        Console.write("\n")
    }

    /// Starts `threadCount` threads running `body` at the same moment and joins them.
    private static func runThreads(_ body: @escaping @Sendable () -> Void) throws {
        let gate = Barrier(parties: threadCount)
        let threads = (0..<threadCount).map { _ in
            SpindleThread {
                try gate.wait()
                body()
            }
        }
        for thread in threads { try thread.start() }
        for thread in threads { try thread.join() }
    }
}
