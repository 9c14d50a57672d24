import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// The names, in the guide's order.
let exampleNames = [
    "mthreads", "gui", "localdata", "lock", "deadlock", "reentrant_lock", "producers_and_customers", "queue",
    "multiprocessing", "subprocess", "concurrent", "envoy",
]
let alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"

/// The first captures of `regex` in `line`, or nil when the whole line does not match.
func captures(_ pattern: String, _ line: String) throws -> [String]? {
    let regex = try Regex(pattern)
    guard let match = try regex.wholeMatch(in: line) else { return nil }
    return match.output.dropFirst().map { $0.substring.map(String.init) ?? "" }
}

@Suite("spindle-examples")
struct ExamplesTests {
    // MARK: - Command line

    @Test("--list lists the examples in the guide's order")
    func list() async throws {
        let run = try await ExampleRunner.run(["--list"])
        #expect(run.exited && run.status == 0, "\(run.summary)")
        #expect(run.lines == exampleNames, "\(run.summary)")
    }

    @Test("--help shows the usage and every name")
    func help() async throws {
        let run = try await ExampleRunner.run(["--help"])
        #expect(run.exited && run.status == 0, "\(run.summary)")
        #expect(run.stdout.hasPrefix("usage: spindle-examples"), "\(run.summary)")
        for name in exampleNames { #expect(run.stdout.contains(name), "\(run.summary)") }
    }

    @Test("an unknown name is an error that names it and the valid names, status 2")
    func unknownName() async throws {
        let run = try await ExampleRunner.run(["no_such_example"])
        #expect(run.exited && run.status == 2, "\(run.summary)")
        #expect(run.stdout.isEmpty, "\(run.summary)")
        #expect(run.stderr.contains("unknown example 'no_such_example'"), "\(run.summary)")
        for name in exampleNames { #expect(run.stderr.contains(name), "\(run.summary)") }
    }

    @Test("more than one argument is an error, status 2")
    func tooManyArguments() async throws {
        let run = try await ExampleRunner.run(["lock", "deadlock"])
        #expect(run.exited && run.status == 2, "\(run.summary)")
        #expect(run.stderr.contains("usage:"), "\(run.summary)")
    }

    @Test("no argument runs every example in order, each under a heading")
    func tour() async throws {
        let run = try await ExampleRunner.run([], timeout: 60)
        #expect(run.exited && run.status == 0, "\(run.summary)")
        let lines = run.lines
        let headings = lines.filter { $0.hasPrefix("==================== ") }
        #expect(headings == exampleNames.map { "==================== \($0)" }, "\(run.summary)")
        #expect(lines.first == "==================== mthreads", "\(run.summary)")
        // Each example's output is under its own heading.
        let markers = [
            ("mthreads", "Thread-"), ("gui", "done: joined 4 workers"), ("localdata", "Main: x =  ["),
            ("lock", "-------------------- neat"), ("deadlock", "2 children are dead locked"),
            ("reentrant_lock", "-------------------- RLock"), ("producers_and_customers", "produced 40, consumed 40, count: 00"),
            ("queue", "all 8 jobs done"), ("multiprocessing", "Process received: [42, None, 'hello']"), ("subprocess", "spawn failed in the parent"),
            ("concurrent", "as_completed yielded 3 futures"), ("envoy", "connected sed answered: hI there"),
        ]
        for (name, marker) in markers {
            guard let start = lines.firstIndex(of: "==================== \(name)") else { continue }
            let end = lines[(start + 1)...].firstIndex { $0.hasPrefix("==================== ") } ?? lines.endIndex
            #expect(lines[start..<end].contains { $0.contains(marker) }, "\(name) section lacks \(marker)\n\(run.summary)")
        }
        let children = try lines.compactMap { try captures(#"Child\((Thread-\d+)\): x =  \[\d+\] mydata\.x =  \d+"#, $0) }
        #expect(children.count == 6, "\(run.summary)")
    }

    // MARK: - the other sections

    @Test("queue: jobs through a bounded Queue, join, shutdown, Lifo and Priority order")
    func queueExample() async throws {
        let run = try await ExampleRunner.run(["queue"])
        #expect(run.exited && run.status == 0 && run.stderr.isEmpty, "\(run.summary)")
        let lines = run.lines
        #expect(lines.first == "all 8 jobs done; unfinished tasks: 0", "\(run.summary)")
        let squared = lines.filter { (try? captures(#"consumer[12] squared (\d): (\d+)"#, $0)) != nil }
        #expect(squared.count == 8, "\(run.summary)")
        #expect(lines.contains("LifoQueue gives: third, second, first"), "\(run.summary)")
        #expect(lines.contains("PriorityQueue gives: 1, 2, 3, 4, 5"), "\(run.summary)")
        #expect(lines.last == "get after shutdown: queue is shut down", "\(run.summary)")
    }

    @Test("subprocess: run, check, pipeline, timeout, missing program")
    func subprocessExample() async throws {
        let run = try await ExampleRunner.run(["subprocess"])
        #expect(run.exited && run.status == 0 && run.stderr.isEmpty, "\(run.summary)")
        #expect(
            run.lines == [
                "returncode 0, stdout: hello from a child",
                "Command '/bin/sh -c echo oops >&2; exit 3' returned non-zero exit status 3. stderr: oops",
                "printf | sort | tr: APPLE FIG PEAR",
                "Command 'sleep 10' timed out after 0.2 seconds",
                "spawn failed in the parent: [Errno 2] No such file or directory: 'no-such-program' (exec)",
            ], "\(run.summary)")
    }

    @Test("concurrent: map keeps order, errors travel through futures")
    func concurrentExample() async throws {
        let run = try await ExampleRunner.run(["concurrent"])
        #expect(run.exited && run.status == 0 && run.stderr.isEmpty, "\(run.summary)")
        let lines = run.lines
        #expect(lines.count == 8, "\(run.summary)")
        #expect(lines.first == "112272535095293 is prime: true", "\(run.summary)")
        #expect(lines.contains("1099726899285419 is prime: false"), "\(run.summary)")
        #expect(lines.contains("submitted 7, 8, 9: 7; error: 8 is not a prime; error: 9 is not a prime"), "\(run.summary)")
        #expect(lines.last == "as_completed yielded 3 futures", "\(run.summary)")
    }

    @Test("multiprocessing: a Pool's map, imap_unordered, apply_async and a RemoteError; a Process over a Pipe")
    func multiprocessingExample() async throws {
        let run = try await ExampleRunner.run(["multiprocessing"])
        #expect(run.exited && run.status == 0 && run.stderr.isEmpty, "\(run.summary)")
        #expect(
            run.lines == [
                "[1, 4, 9]",
                "map(f, range(10)): [0, 1, 4, 9, 16, 25, 36, 49, 64, 81]",
                "imap_unordered(f, range(10)), sorted: [0, 1, 4, 9, 16, 25, 36, 49, 64, 81]",
                "apply_async(f, (20,)).get(timeout=1): 400",
                "100 tasks ran in at most 4 worker processes, none of them this one: true",
                "apply(refuse, (7,)) raised spindle_examples.MultiprocessingDemo.Refused: 7 refused",
                "Process received: [42, None, 'hello']",
                "Process-1 exit code: 0",
            ], "\(run.summary)")
    }

    @Test("envoy: a pipeline's response and history, a connected command, a bad line")
    func envoyExample() async throws {
        let run = try await ExampleRunner.run(["envoy"])
        #expect(run.exited && run.status == 0 && run.stderr.isEmpty, "\(run.summary)")
        #expect(
            run.lines == [
                "status 0, stdout: a b",
                "  earlier stage printf b\\na\\nc\\n: status 0",
                "  earlier stage sort: status 0",
                "connected sed answered: hI there",
                "bad command line: unclosed quote (') opened at column 6",
            ], "\(run.summary)")
    }

    // MARK: - mthreads

    @Test("mthreads shows start(), join(), ident, isAlive and daemon")
    func mthreads() async throws {
        let run = try await ExampleRunner.run(["mthreads"])
        #expect(run.exited && run.status == 0 && run.stderr.isEmpty, "\(run.summary)")
        let lines = run.lines
        #expect(try captures(#"MainThread: ident=\d+, alive=true, daemon=false"#, lines.first ?? "") != nil, "\(run.summary)")

        let started = try lines.compactMap {
            try captures(#"(Thread-\d+) started, ident=(\d+), nativeID=(\d+), alive=true, daemon=(true|false)"#, $0)
        }
        #expect(started.map { $0[0] } == ["Thread-1", "Thread-2", "Thread-3"], "\(run.summary)")
        #expect(Set(started.map { $0[1] }).count == 3, "idents differ\n\(run.summary)")
        #expect(started.map { $0[3] } == ["false", "false", "true"], "\(run.summary)")
        for name in ["Thread-1", "Thread-2", "Thread-3"] {
            #expect(lines.contains("\(name) created, ident=nil, alive=false, daemon=false"), "\(run.summary)")
        }
        #expect(lines.contains("Thread-3.setDaemon(true) before start: daemon=true"), "\(run.summary)")
        #expect(lines.contains("activeCount=4: MainThread, Thread-1, Thread-2, Thread-3"), "\(run.summary)")
        #expect(
            lines.contains("Thread-1.setDaemon(true) after start: cannot set daemon status of active thread"),
            "\(run.summary)")

        for name in ["Thread-1", "Thread-2"] {
            let running = lines.firstIndex(of: "\(name) running: current=\(name), ident matches=true")
            let finished = lines.firstIndex(of: "\(name) finished")
            let joined = lines.firstIndex(of: "\(name) joined, alive=false")
            #expect(running != nil && finished != nil && joined != nil, "\(name)\n\(run.summary)")
            if let running, let finished, let joined {
                #expect(running < finished && finished < joined, "\(name) out of order\n\(run.summary)")
            }
        }
        #expect(lines.contains("Thread-3 join(timeout: 0.2) -> false, alive=true"), "\(run.summary)")
        #expect(lines.last == "Thread-3 is a daemon: the program exits without waiting for it", "\(run.summary)")
    }

    // MARK: - gui

    /// Checks the bars the gui drew: every bar line is well formed, and it redrew in place.
    private func checkFrames(_ run: ExampleRun) throws {
        #expect(run.stdout.contains("\u{1B}[5A"), "no redraw in place\n\(run.summary)")
        let lines = run.lines
        #expect(lines.first?.hasPrefix("gui: 4 workers") == true, "\(run.summary)")
        let bars = lines.filter { $0.hasPrefix("worker") }
        #expect(bars.count >= 8 && bars.count % 4 == 0, "\(run.summary)")
        for bar in bars {
            #expect(try captures(#"worker[1-4] \[[#.]{40}\] +\d{1,3}%"#, bar) != nil, "bad bar: \(bar)\n\(run.summary)")
        }
    }

    @Test("gui quits on q from a pipe, joining its workers")
    func guiQuitsOnQ() async throws {
        // Steps slow enough that a loaded machine cannot finish the run before the signal arrives.
        let run = try await ExampleRunner.run(["gui"], input: .pipe, environment: ["SPINDLE_GUI_STEP_SECONDS": "5"], whileRunning: { running in
            try await Task.sleep(nanoseconds: 500_000_000)
            // A failed write (the program already gone) is reported through the checks below.
            try? running.send("q")
        })
        #expect(run.exited && run.status == 0, "\(run.summary)")
        #expect(run.lines.last == "quit: joined 4 workers", "\(run.summary)")
        #expect(!run.stdout.contains("done: joined"), "\(run.summary)")
        try checkFrames(run)
    }

    @Test("gui with stdin at its end runs until the workers are done")
    func guiRunsToTheEnd() async throws {
        let run = try await ExampleRunner.run(["gui"], input: .null)
        #expect(run.exited && run.status == 0, "\(run.summary)")
        let lines = run.lines
        #expect(lines.last == "done: joined 4 workers", "\(run.summary)")
        try checkFrames(run)
        // The last frame: four full bars, then the status line.
        if lines.count >= 6 {
            for bar in lines[(lines.count - 6)..<(lines.count - 2)] {
                #expect(bar.hasSuffix("[" + String(repeating: "#", count: 40) + "] 100%"), "\(run.summary)")
            }
            #expect(lines[lines.count - 2].contains("no more keys"), "\(run.summary)")
        }
    }

    @Test("gui stops on SIGINT, joins its workers and exits with 130")
    func guiInterrupted() async throws {
        // Steps slow enough that a loaded machine cannot finish the run before the signal arrives.
        let run = try await ExampleRunner.run(["gui"], input: .pipe, environment: ["SPINDLE_GUI_STEP_SECONDS": "5"], whileRunning: { running in
            // The handler is in place once the first line is out.
            #expect(await running.waitForOutput(containing: "gui: 4 workers"))
            running.signal(SIGINT)
        })
        #expect(run.exited && run.status == 130, "\(run.summary)")
        #expect(run.lines.last == "interrupted: joined 4 workers", "\(run.summary)")
    }

    /// A pseudo-terminal pair. Glibc's module does not export the pty functions (they need
    /// _XOPEN_SOURCE), so they are looked up in the C library at run time.
    struct PseudoTerminal {
        let master: Int32
        let terminal: Int32

        private typealias FDFunction = @convention(c) (Int32) -> Int32
        private typealias NameFunction = @convention(c) (Int32, UnsafeMutablePointer<CChar>, Int) -> Int32

        private static func function<T>(_ name: String, as type: T.Type) -> T? {
            dlsym(nil, name).map { unsafeBitCast($0, to: type) }
        }

        static func open() -> PseudoTerminal? {
            guard let openpt = function("posix_openpt", as: FDFunction.self),
                let grantpt = function("grantpt", as: FDFunction.self),
                let unlockpt = function("unlockpt", as: FDFunction.self),
                let ptsname = function("ptsname_r", as: NameFunction.self)
            else { return nil }
            let master = openpt(O_RDWR | O_NOCTTY)
            guard master >= 0 else { return nil }
            var name = [CChar](repeating: 0, count: 128)
            guard grantpt(master) == 0, unlockpt(master) == 0, ptsname(master, &name, name.count) == 0 else {
                Glibc.close(master)
                return nil
            }
            let path = String(decoding: name.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            let terminal = Glibc.open(path, O_RDWR | O_NOCTTY)
            guard terminal >= 0 else {
                Glibc.close(master)
                return nil
            }
            return PseudoTerminal(master: master, terminal: terminal)
        }

        func close() {
            Glibc.close(terminal)
            Glibc.close(master)
        }
    }

    @Test("gui on a terminal: keys without Enter or echo, and the terminal restored")
    func guiOnATerminal() async throws {
        let pty = try #require(PseudoTerminal.open(), "cannot open a pseudo-terminal")
        defer { pty.close() }
        let (master, terminal) = (pty.master, pty.terminal)
        var before = termios()
        try #require(tcgetattr(terminal, &before) == 0)
        let canonicalAndEcho = tcflag_t(ICANON | ECHO)
        try #require(before.c_lflag & canonicalAndEcho == canonicalAndEcho)

        let run = try await ExampleRunner.run(["gui"], input: .descriptor(terminal), environment: ["SPINDLE_GUI_STEP_SECONDS": "0.5"], whileRunning: { running in
            let raw = await waitUntil(timeout: 20) {
                var mode = termios()
                return tcgetattr(terminal, &mode) == 0 && mode.c_lflag & canonicalAndEcho == 0
            }
            #expect(raw, "the terminal was not put in non-canonical, no-echo mode")
            var q = UInt8(ascii: "q")
            _ = write(master, &q, 1)  // no newline: non-canonical mode hands it over at once
        })
        #expect(run.exited && run.status == 0, "\(run.summary)")
        #expect(run.lines.last == "quit: joined 4 workers", "\(run.summary)")
        var after = termios()
        try #require(tcgetattr(terminal, &after) == 0)
        #expect(after.c_lflag == before.c_lflag, "the terminal mode was not restored")
    }

    // MARK: - localdata

    @Test("localdata: three blocks; shared x follows the child, mydata.x stays 0 in main")
    func localdata() async throws {
        let run = try await ExampleRunner.run(["localdata"])
        #expect(run.exited && run.status == 0 && run.stderr.isEmpty, "\(run.summary)")
        let lines = run.lines
        try #require(lines.count == 11, "\(run.summary)")
        #expect(lines[3] == "" && lines[7] == "", "\(run.summary)")
        var previous = "0"
        for (block, first) in [0, 4, 8].enumerated() {
            let child = #"Child\((Thread-\d+)\): x =  \[(\d+)\] mydata\.x =  (\d+)"#
            let one = try #require(try captures(child, lines[first]), "\(run.summary)")
            let two = try #require(try captures(child, lines[first + 1]), "\(run.summary)")
            let main = try #require(try captures(#"Main: x =  \[(\d+)\] mydata\.x =  (\d+)"#, lines[first + 2]), "\(run.summary)")
            #expect(one[0] == "Thread-\(block + 1)" && two[0] == one[0], "\(run.summary)")
            let value = one[2]
            #expect((0...100).contains(Int(value) ?? -1), "\(run.summary)")
            #expect(one[1] == previous, "x before the child writes it\n\(run.summary)")
            #expect(two[1] == value && two[2] == value, "\(run.summary)")
            #expect(main[0] == value && main[1] == "0", "\(run.summary)")
            previous = value
        }
    }

    // MARK: - lock

    @Test("lock: five mixed-up alphabets without the lock, five whole ones with it")
    func lock() async throws {
        let run = try await ExampleRunner.run(["lock"])
        #expect(run.exited && run.status == 0 && run.stderr.isEmpty, "\(run.summary)")
        let lines = run.lines
        try #require(lines.first == "-------------------- mess", "\(run.summary)")
        let neat = try #require(lines.firstIndex(of: "-------------------- neat"), "\(run.summary)")
        let mess = Array(lines[1..<neat])
        #expect(mess.count == 5, "one newline per thread\n\(run.summary)")
        #expect(
            mess.joined().sorted() == String(repeating: alphabet, count: 5).sorted(),
            "every thread printed every letter once\n\(run.summary)")
        #expect(mess != Array(repeating: alphabet, count: 5), "the threads' letters did not interleave\n\(run.summary)")
        #expect(Array(lines[(neat + 1)...]) == Array(repeating: alphabet, count: 5), "\(run.summary)")
    }

    // MARK: - deadlock

    @Test("deadlock: both children stuck, the program still ends with 0")
    func deadlock() async throws {
        let run = try await ExampleRunner.run(["deadlock"])
        #expect(run.exited && run.status == 0 && run.stderr.isEmpty, "\(run.summary)")
        #expect(
            Array(run.lines.prefix(3)) == [
                "thread1 got the lock1. It will try to get lock2 one second later.",
                "thread2 got the lock2. It will try to get lock1 one second later.",
                "2 children are dead locked",
            ], "\(run.summary)")
        // Then the cycle Spindle detected: both threads, each holding one lock and waiting for the other.
        let cycle = Array(run.lines.dropFirst(3))
        #expect(cycle.first == "deadlock: 2 threads wait for each other in a cycle:", "\(run.summary)")
        #expect(cycle.count == 3, "\(run.summary)")
        for name in ["thread1", "thread2"] {
            #expect(
                cycle.contains { $0.contains("thread \"\(name)\"") && $0.contains("holds Lock created at")
                    && $0.contains("and waits for Lock created at") },
                "\(run.summary)")
        }
    }

    // MARK: - reentrant_lock

    @Test("reentrant_lock: the Lock's second acquire times out, the RLock's succeeds")
    func reentrantLock() async throws {
        let run = try await ExampleRunner.run(["reentrant_lock"])
        #expect(run.exited && run.status == 0 && run.stderr.isEmpty, "\(run.summary)")
        let lines = run.lines
        try #require(lines.count == 8, "\(run.summary)")
        #expect(lines[0] == "-------------------- Lock" && lines[5] == "-------------------- RLock", "\(run.summary)")
        let messages = try [1, 2, 3, 4, 6, 7].map { index in
            try captures(#"[0-2]\d:[0-5]\d:[0-6]\d (.+)"#, lines[index])?.first ?? "unstamped: \(lines[index])"
        }
        #expect(
            messages == [
                "Got a lock for the first time.",
                "It will block self if acquire the same lock again.",
                "False",
                "Fail to acquire the same lock in 3 seconds, so thisline will appear 3 seconds later.",
                "Got a lock for the first time.",
                "Got the same lock for the second time.",
            ], "\(run.summary)")
    }

    // MARK: - producers_and_customers

    @Test("producers_and_customers: a consistent running count that ends at 00")
    func producersAndCustomers() async throws {
        let run = try await ExampleRunner.run(["producers_and_customers"])
        #expect(run.exited && run.status == 0 && run.stderr.isEmpty, "\(run.summary)")
        var lines = run.lines
        let last = lines.popLast()
        let closing = try #require(last, "\(run.summary)")
        #expect(closing == "-------------------- produced 40, consumed 40, count: 00", "\(run.summary)")
        #expect(lines.count == 80, "\(run.summary)")
        var count = 0
        var perThread: [String: Int] = [:]
        for line in lines {
            let parts = try #require(
                try captures(#"(producer|customer)([1-8]) ([+-]) : (\d\d)( \.+)?"#, line), "bad line: \(line)\n\(run.summary)")
            let (role, sign, shown, dots) = (parts[0], parts[2], Int(parts[3]) ?? -1, parts[4])
            #expect(sign == (role == "producer" ? "+" : "-"), "\(line)")
            count += sign == "+" ? 1 : -1
            #expect(shown == count && (0...10).contains(count), "\(line) after count \(count)\n\(run.summary)")
            #expect(dots == (count == 0 ? "" : " " + String(repeating: ".", count: count)), "\(line)")
            perThread[role + parts[1], default: 0] += 1
        }
        #expect(count == 0, "\(run.summary)")
        #expect(lines.last?.hasSuffix(": 00") == true, "\(run.summary)")
        #expect(perThread.count == 16 && perThread.values.allSatisfy { $0 == 5 }, "\(perThread)")
    }
}
