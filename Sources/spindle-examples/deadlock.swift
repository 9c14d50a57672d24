import Spindle
import SpindleSystem

/// Dead lock (deadlock.py): thread1 holds lock1 and wants lock2, thread2 holds lock2 and wants
/// lock1, so neither ever gets its second lock.
///
/// Both threads are daemons: the main thread waits for them a little, sees them still alive, says
/// so and exits; the stuck threads do not hold the process up.
enum Deadlock {
    /// A lock with the name the messages use.
    struct NamedLock: Sendable {
        let name: String
        let lock = Lock()
    }

    /// What one thread does: take `first`, then, one second later, `second`.
    struct Plan: Sendable {
        let thread: String
        let first: NamedLock
        let second: NamedLock
    }

    /// How long the main thread waits for the children before calling them dead locked.
    static let joinTimeout = 2.5

    static func run() throws -> Int32 {
        // Spindle watches the wait-for graph: the wait that closes the cycle is reported, and
        // the report is printed after the specification's lines.
        let found = Locked<[DeadlockDetection.Report]>([])
        DeadlockDetection.mode = .report
        DeadlockDetection.reportHandler = { report in found.withLock { $0.append(report) } }
        defer {
            DeadlockDetection.mode = .off
            DeadlockDetection.reportHandler = nil
        }
        let lock1 = NamedLock(name: "lock1")
        let lock2 = NamedLock(name: "lock2")
        let plans = [
            Plan(thread: "thread1", first: lock1, second: lock2),
            Plan(thread: "thread2", first: lock2, second: lock1),
        ]
        // Every child holds its first lock before any child reaches for its second.
        let allHolding = Barrier(parties: plans.count)

        var children: [SpindleThread] = []
        for plan in plans {
            let holding = Event()
            let child = SpindleThread(name: plan.thread, daemon: true) {
                try plan.first.lock.acquire()
                Console.line(
                    "\(plan.thread) got the \(plan.first.name). It will try to get \(plan.second.name) one second later.")
                holding.set()
                try allHolding.wait()
                sleep(seconds: 1)
                try plan.second.lock.acquire()
                Console.line("\(plan.thread) got the \(plan.second.name) too.")
                try plan.second.lock.release()
                try plan.first.lock.release()
            }
            try child.start()
            holding.wait()  // the children report in the order they were started
            children.append(child)
        }

        let deadline = Deadline.after(seconds: joinTimeout)
        for child in children {
            try child.join(timeout: deadline.remainingSeconds ?? 0)
        }
        let stuck = children.filter(\.isAlive)
        if stuck.count == children.count {
            Console.line("\(stuck.count) children are dead locked")
            for report in found.withLock({ $0 }) { Console.line("\(report)") }
            return 0
        }
        Console.line("no dead lock: \(children.count - stuck.count) of \(children.count) children finished")
        return 1
    }
}
