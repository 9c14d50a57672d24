import SpindleTestSupport
import Glibc
@testable import SpindleThreading
import Testing

// Behaviours of CPython's Lib/test/test_threading.py ThreadTests that apply.
@Suite("SpindleThread", .timeLimit(.minutes(2)))
struct ThreadTests {
    @Test func variousOperations() throws {
        let n = 10
        let running = Counter()
        let gate = Event()
        var threads: [SpindleThread] = []
        for i in 0..<n {
            let t = SpindleThread(name: "<thread \(i)>", daemon: true) {
                running.increment()
                gate.wait()
            }
            #expect(t.ident == nil)
            #expect(!t.isAlive)
            #expect(t.name == "<thread \(i)>")
            try t.start()
            #expect(t.ident != nil)
            #expect(t.nativeID != nil)
            #expect(t.isAlive)
            threads.append(t)
        }
        #expect(Set(threads.compactMap(\.ident)).count == n)
        let listed = Set(SpindleThread.enumerate().map { ObjectIdentifier($0) })
        for t in threads { #expect(listed.contains(ObjectIdentifier(t))) }
        #expect(SpindleThread.activeCount >= n + 1)
        gate.set()
        for t in threads { #expect(try t.join(timeout: 30)) }
        for t in threads { #expect(!t.isAlive) }
        let after = Set(SpindleThread.enumerate().map { ObjectIdentifier($0) })
        for t in threads { #expect(!after.contains(ObjectIdentifier(t))) }
        #expect(running.value == n)
    }

    @Test func defaultNamesCount() throws {
        let a = SpindleThread {}
        let b = SpindleThread {}
        let number = { (t: SpindleThread) -> Int in Int(t.name.dropFirst("Thread-".count))! }
        #expect(a.name.hasPrefix("Thread-"))
        #expect(number(b) == number(a) + 1)
        b.name = "renamed"
        #expect(b.name == "renamed")
    }

    @Test func identsAndCurrent() throws {
        let seen = Shared<[String]>([])
        let t = SpindleThread(name: "worker") {
            let me = SpindleThread.current
            seen.update {
                $0 = [me.name, String(me.ident == SpindleThread.currentIdent),
                      String(me.nativeID == SpindleThread.currentNativeID)]
            }
        }
        try t.start()
        try t.join()
        #expect(seen.value == ["worker", "true", "true"])
        #expect(SpindleThread.main.name == "MainThread")
        #expect(SpindleThread.main.isAlive)
        #expect(!SpindleThread.main.daemon)
    }

    @Test func foreignThreadsGetADummy() throws {
        // A thread started by other code (here: raw pthread) gets a daemon stand-in, which is
        // unregistered when that thread ends.
        final class Box: @unchecked Sendable { var name = ""; var daemon = false; var listed = false }
        let box = Box()
        var handle = pthread_t()
        let context = Unmanaged.passRetained(box).toOpaque()
        pthread_create(&handle, nil, { context in
            let box = Unmanaged<Box>.fromOpaque(context!).takeRetainedValue()
            let me = SpindleThread.current
            box.name = me.name
            box.daemon = me.daemon
            box.listed = SpindleThread.enumerate().contains { $0 === me }
            return nil
        }, context)
        pthread_join(handle, nil)
        #expect(box.name.hasPrefix("Dummy-"))
        #expect(box.daemon)
        #expect(box.listed)
        #expect(!SpindleThread.enumerate().contains { $0.name == box.name })
    }

    @Test func daemonInheritanceAndRules() throws {
        // A new thread inherits the creating thread's daemon status (as in Python, where threads
        // not started by Spindle count as daemons, like the test runner's own threads).
        let inherited = Shared<[Bool]>([])
        for flag in [true, false] {
            let parent = SpindleThread(daemon: flag) {
                let child = SpindleThread(target: {}).daemon
                inherited.update { $0.append(child) }
            }
            try parent.start()
            try parent.join()
        }
        #expect(inherited.value == [true, false])

        let t = SpindleThread(daemon: false) {}
        try t.setDaemon(true)
        #expect(t.daemon)
        try t.start()
        #expect(throws: ThreadingError(.daemonOfActiveThread, "cannot set daemon status of active thread")) {
            try t.setDaemon(false)
        }
        try t.join()
    }

    @Test func startTwiceAndJoinRules() throws {
        let t = SpindleThread {}
        #expect(throws: ThreadingError(.notStarted, "cannot join thread before it is started")) { try t.join() }
        try t.start()
        #expect(throws: ThreadingError(.alreadyStarted, "threads can only be started once")) { try t.start() }
        try t.join()
        try t.join()  // joining twice is fine
        let selfJoin = Shared<ThreadingError?>(nil)
        let s = SpindleThread {
            do { try SpindleThread.current.join() } catch let error as ThreadingError { selfJoin.update { $0 = error } }
        }
        try s.start()
        try s.join()
        #expect(selfJoin.value?.kind == .joinCurrentThread)
        #expect(throws: ThreadingError.self) { try SpindleThread.main.start() }
    }

    @Test func joinTimeout() throws {
        let gate = Event()
        let t = SpindleThread(daemon: true) { gate.wait() }
        try t.start()
        let t0 = monotonicSeconds()
        #expect(try !t.join(timeout: 0.1))
        #expect(monotonicSeconds() - t0 >= 0.09)
        #expect(t.isAlive)
        gate.set()
        #expect(try t.join(timeout: 30))
        #expect(!t.isAlive)
    }

    @Test func subclassOverridesRun() throws {
        final class Worker: SpindleThread, @unchecked Sendable {
            let result = Shared(0)
            override func run() throws { result.update { $0 = 42 } }
        }
        let w = Worker()
        try w.start()
        try w.join()
        #expect(w.result.value == 42)
    }

    @Test func errorsGoToExcepthook() throws {
        struct Boom: Error, CustomStringConvertible { var description: String { "boom!" } }
        let reports = Shared<[String]>([])
        let previous = SpindleThread.excepthook
        SpindleThread.excepthook = { args in reports.update { $0.append("\(args.thread.name): \(args.error)") } }
        defer { SpindleThread.excepthook = previous }
        let t = SpindleThread(name: "failing") { throw Boom() }
        try t.start()
        try t.join()
        #expect(reports.value == ["failing: boom!"])
        #expect(!t.isAlive)
    }

    @Test func stackSize() throws {
        #expect(throws: ThreadingError.self) { try SpindleThread.stackSize(1024) }
        let previous = try SpindleThread.stackSize(256 * 1024)
        defer { _ = try? SpindleThread.stackSize(previous) }
        #expect(try SpindleThread.stackSize() == 256 * 1024)
        let ran = Counter()
        let t = SpindleThread { ran.increment() }
        try t.start()
        try t.join()
        #expect(ran.value == 1)
    }

    @Test func noOSThreadsLeak() throws {
        var tids: [Int] = []
        for _ in 0..<50 {
            let t = SpindleThread {}
            try t.start()
            tids.append(try #require(t.nativeID))
            try t.join()
        }
        #expect(waitUntil { livingThreads(tids).isEmpty })
    }
}
