import Spindle

/// Reentrant lock (reentrant_lock.py): a `Lock` blocks even the thread that holds it, an `RLock`
/// lets its owner take it again.
enum ReentrantLock {
    /// Prints `message` after the time of day, as the Python program's `log` does.
    static func log(_ message: String) {
        Console.line("\(clockTime()) \(message)")
    }

    static func run() throws -> Int32 {
        Console.line(separator("Lock"))
        let lock = Lock()
        try lock.acquire()
        log("Got a lock for the first time.")
        log("It will block self if acquire the same lock again.")
        let again = try lock.acquire(timeout: 3)
        log(again ? "True" : "False")
        log("Fail to acquire the same lock in 3 seconds, so thisline will appear 3 seconds later.")
        if again { try lock.release() }
        try lock.release()

        Console.line(separator("RLock"))
        let rlock = RLock()
        try rlock.acquire()
        log("Got a lock for the first time.")
        try rlock.acquire()
        log("Got the same lock for the second time.")
        try rlock.release()
        try rlock.release()
        return 0
    }
}
