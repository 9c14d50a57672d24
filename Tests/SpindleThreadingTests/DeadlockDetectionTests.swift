import SpindleTestSupport
import Glibc
@testable import SpindleThreading
import Testing

// Deadlock detection changes process-wide state and leaves deadlocked threads behind, so every
// test runs in a process of its own (an exit test) and reports through its exit status.
@Suite("Deadlock detection", .timeLimit(.minutes(3)))
struct DeadlockDetectionTests {
    @Test func twoThreadCycleIsReported() async {
        await #expect(processExitsWith: .success) {
            let reports = Shared<[DeadlockDetection.Report]>([])
            DeadlockDetection.mode = .report
            DeadlockDetection.reportHandler = { report in reports.update { $0.append(report) } }
            let a = Lock(), b = Lock()
            let bothHold = Barrier(parties: 2)
            for (first, second, name) in [(a, b, "first"), (b, a, "second")] {
                let t = SpindleThread(name: name, daemon: true) {
                    try first.acquire()
                    try bothHold.wait()
                    if name == "second" { sleepSeconds(0.2) }  // "first" blocks, then "second" closes the cycle
                    try second.acquire()
                }
                try! t.start()
            }
            guard waitUntil(timeout: 20, { !reports.value.isEmpty }) else { exit(1) }
            guard case .deadlock(let error) = reports.value[0] else { exit(2) }
            let names = Set(error.cycle.map(\.thread))
            let sites = error.cycle.map(\.waitsFor)
            let ok = error.cycle.count == 2 && names == ["first", "second"]
                && sites.allSatisfy { $0.hasPrefix("Lock created at SpindleThreadingTests/DeadlockDetectionTests.swift:") }
                && error.cycle[0].thread == "second" && error.description.contains("waits for Lock created at")
            exit(ok ? 0 : 3)
        }
    }

    @Test func threeThreadCycleIsReported() async {
        await #expect(processExitsWith: .success) {
            let reports = Shared<[DeadlockDetection.Report]>([])
            DeadlockDetection.mode = .report
            DeadlockDetection.reportHandler = { report in reports.update { $0.append(report) } }
            let locks = [Lock(), RLock().inner, Lock()]
            let allHold = Barrier(parties: 3)
            for i in 0..<3 {
                let t = SpindleThread(name: "t\(i)", daemon: true) {
                    try locks[i].acquire()
                    try allHold.wait()
                    sleepSeconds(0.1 * Double(i))
                    try locks[(i + 1) % 3].acquire()
                }
                try! t.start()
            }
            guard waitUntil(timeout: 20, { !reports.value.isEmpty }) else { exit(1) }
            guard case .deadlock(let error) = reports.value[0], error.cycle.count == 3 else { exit(2) }
            exit(error.cycle.contains { $0.waitsFor.hasPrefix("RLock created at") } ? 0 : 3)
        }
    }

    @Test func throwModeBreaksTheCycle() async {
        await #expect(processExitsWith: .success) {
            DeadlockDetection.mode = .throw
            DeadlockDetection.reportHandler = { _ in }
            let a = Lock(), b = Lock()
            let bothHold = Barrier(parties: 2)
            let thrown = Shared(0)
            var threads: [SpindleThread] = []
            for (first, second, name) in [(a, b, "first"), (b, a, "second")] {
                let t = SpindleThread(name: name, daemon: true) {
                    try first.acquire()
                    try bothHold.wait()
                    if name == "second" { sleepSeconds(0.2) }
                    do {
                        try second.acquire()
                        try second.release()
                    } catch let error as ThreadingError {
                        if case .deadlock(let cycle) = error.kind, cycle.cycle.count == 2 { thrown.update { $0 += 1 } }
                    }
                    try first.release()  // the other thread can go on now
                }
                try! t.start()
                threads.append(t)
            }
            for t in threads { guard (try? t.join(timeout: 20)) == true else { exit(1) } }
            exit(thrown.value == 1 ? 0 : 2)
        }
    }

    @Test func reentryAndTimedWaitsAreNotDeadlocks() async {
        await #expect(processExitsWith: .success) {
            let reports = Shared<[DeadlockDetection.Report]>([])
            DeadlockDetection.mode = .report
            DeadlockDetection.reportHandler = { report in reports.update { $0.append(report) } }
            let r = RLock()
            try! r.acquire()
            try! r.acquire()
            try! r.release()
            try! r.release()
            // first waits for b with a timeout; second then waits for a forever: no deadlock,
            // because first gives up and releases a.
            let a = Lock(), b = Lock()
            let bothHold = Barrier(parties: 2)
            var threads: [SpindleThread] = []
            for name in ["first", "second"] {
                let t = SpindleThread(name: name, daemon: true) {
                    let (mine, other) = name == "first" ? (a, b) : (b, a)
                    try mine.acquire()
                    try bothHold.wait()
                    if name == "first" {
                        _ = try other.acquire(timeout: 0.5)
                        try mine.release()
                    } else {
                        sleepSeconds(0.1)
                        try other.acquire()
                        try other.release()
                        try mine.release()
                    }
                }
                try! t.start()
                threads.append(t)
            }
            for t in threads { guard (try? t.join(timeout: 20)) == true else { exit(1) } }
            let deadlocks = reports.value.filter { if case .deadlock = $0 { return true } else { return false } }
            exit(deadlocks.isEmpty ? 0 : 2)
        }
    }

    @Test func lockOrderInversionIsReportedOnce() async {
        await #expect(processExitsWith: .success) {
            let reports = Shared<[DeadlockDetection.Report]>([])
            DeadlockDetection.mode = .report
            DeadlockDetection.reportHandler = { report in reports.update { $0.append(report) } }
            let a = Lock(), b = Lock()
            for _ in 0..<3 {
                a.withLock { b.withLock {} }
            }
            let other = SpindleThread(name: "inverter", daemon: true) {
                for _ in 0..<3 { b.withLock { a.withLock {} } }
            }
            try! other.start()
            try! other.join()
            let inversions = reports.value.compactMap { report -> LockOrderInversion? in
                if case .lockOrderInversion(let inversion) = report { return inversion }
                return nil
            }
            guard inversions.count == 1 else { exit(1) }
            let i = inversions[0]
            guard i.thread == "inverter" else { exit(2) }
            // (Line numbers inside an exit test's body are the macro expansion's, so only the file is checked.)
            guard i.first.hasPrefix("Lock created at"), i.second.hasPrefix("Lock created at") else { exit(3) }
            guard i.description.contains("DeadlockDetectionTests.swift") else { exit(4) }
            exit(0)
        }
    }

    @Test func joinCycleIsReported() async {
        await #expect(processExitsWith: .success) {
            let reports = Shared<[DeadlockDetection.Report]>([])
            DeadlockDetection.mode = .report
            DeadlockDetection.reportHandler = { report in reports.update { $0.append(report) } }
            let lock = Lock()
            try! lock.acquire()  // main holds it
            let worker = SpindleThread(name: "worker", daemon: true) { try lock.acquire() }
            try! worker.start()
            sleepSeconds(0.2)
            // The main thread joins the worker, which waits for the main thread's lock.
            let reporter = SpindleThread(name: "watch", daemon: true) {
                if waitUntil(timeout: 20, { !reports.value.isEmpty }),
                    case .deadlock(let error) = reports.value[0],
                    error.cycle.contains(where: { $0.waitsFor.contains("thread \"worker\" to finish") })
                {
                    exit(0)
                }
                exit(1)
            }
            try! reporter.start()
            _ = try? worker.join()
            exit(2)
        }
    }

    @Test func threadDumpShowsWhatThreadsWaitFor() async {
        await #expect(processExitsWith: .success) {
            DeadlockDetection.mode = .report
            let lock = Lock()
            let cond = Condition(lock: Lock())
            try! lock.acquire()
            let blocked = SpindleThread(name: "blocked-one", daemon: true) { try lock.acquire() }
            let waiting = SpindleThread(name: "waiting-one", daemon: true) { try cond.withLock { _ = try cond.wait() } }
            try! blocked.start()
            try! waiting.start()
            let ok = waitUntil(timeout: 20) {
                let dump = DeadlockDetection.dumpThreads()
                return dump.contains("\"blocked-one\"") && dump.contains("BLOCKED on Lock created at")
                    && dump.contains("(held by \"") && dump.contains("WAITING on Condition over Lock")
                    && dump.contains("\"MainThread\"") && dump.contains("\"waiting-one\"")
            }
            exit(ok ? 0 : 1)
        }
    }

    @Test func offModeTracksNothing() {
        // In this (shared) process the mode stays off: no owner is recorded.
        let lock = Lock()
        _ = try? lock.acquire()
        #expect(lock.owner.load(ordering: .relaxed) == 0 || DeadlockDetection.mode != .off)
        try? lock.release()
    }
}
