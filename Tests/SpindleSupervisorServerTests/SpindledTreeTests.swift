import Foundation
import Glibc
import SpindleSubprocess
@testable import SpindleSupervisor
import SpindleSupervisorServer
import SpindleSystem
import SpindleTestSupport
import Testing

/// spindled's `*_logfile_compress`, child subreaper and `killtree`, with spindled run as a user
/// runs it (foreground, driven over its socket).
@Suite("spindled trees and compressed logs", .serialized, .timeLimit(.minutes(3)))
struct SpindledTreeTests {
    /// `/proc/PID/stat`'s state letter and ppid, or nil once the pid is gone (reaped).
    static func stat(_ pid: Int32) -> (state: Character, ppid: Int32, session: Int32)? {
        guard let data = FileManager.default.contents(atPath: "/proc/\(pid)/stat"),
            let text = String(data: data, encoding: .utf8), let close = text.lastIndex(of: ")")
        else { return nil }
        let fields = text[text.index(after: close)...].split(separator: " ")
        guard fields.count > 4, let state = fields[0].first, let ppid = Int32(fields[1]), let session = Int32(fields[3]) else { return nil }
        return (state, ppid, session)
    }

    /// The zombie children of `parent` (only the spindled this test started is asked about).
    static func zombieChildren(of parent: Int32) -> [Int32] {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return entries.compactMap { Int32($0) }.filter { pid in
            guard let entry = stat(pid) else { return false }
            return entry.ppid == parent && entry.state == "Z"
        }
    }

    /// Whether this machine lets spindled make cgroups (then it must use them).
    static var cgroupWritable: Bool {
        guard let mount = ProcessTree.cgroup2Mount(), let own = ProcessTree.ownCgroup() else { return false }
        return access(own == "/" ? mount : mount + own, W_OK) == 0
    }

    static func pid(in directory: TestDirectory, _ name: String) -> Int32? {
        Int32(directory.read(name).trimmingCharacters(in: .whitespacesAndNewlines))
    }

    static func lines(_ text: String) -> [Substring] { text.split(separator: "\n", omittingEmptySubsequences: false).dropLast() }

    /// Rotated backups are gzip files NAME.1.gz... shifted like the plain ones: with enough
    /// backups every line written is in them (whole, in order), and with 3 only the 3 newest
    /// stay; `gzip -dc` reads them, and nothing is left uncompressed once spindled has exited.
    @Test func rotatedLogsAreGzippedWithoutLosingOrSplittingALine() throws {
        let directory = TestDirectory()
        defer { directory.remove() }
        let dir = directory.path
        // 2000 numbered lines of 50 bytes (100 kB) in bursts, then a marker.
        directory.write(
            "chatty.sh",
            """
            i=1
            while [ $i -le 2000 ]; do printf 'line %06d abcdefghijklmnopqrstuvwxyz0123456789\\n' $i; i=$((i+1)); done
            touch \(dir)/$1.done
            exec sleep 1000

            """)
        var programs = ""
        for (name, backups) in [("all", 40), ("few", 3)] {
            programs += """
                [program:\(name)]
                command=/bin/sh \(dir)/chatty.sh \(name)
                startsecs=0
                stdout_logfile=\(dir)/\(name).log
                stdout_logfile_maxbytes=8KB
                stdout_logfile_backups=\(backups)
                stdout_logfile_compress=true

                """
        }
        let path = SpindledTests.config(directory, programs: programs)
        let daemon = try DaemonProcess([Binaries.spindled], config: path, directory: directory, socket: directory.file("sd.sock"))
        defer { daemon.stop() }
        #expect(daemon.waitUntilServing(), "\(directory.read("daemon.out"))")
        #expect(waitUntil(timeout: 60) { directory.exists("all.done") && directory.exists("few.done") })
        // SIGTERM: spindled stops the programs and waits for the compression before it exits.
        daemon.popen.sendSignal(SIGTERM)
        #expect((try? daemon.popen.wait(timeout: 60)) == 0, "\(directory.read("supervisord.log"))")

        let names = (try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []
        #expect(!names.contains { $0.hasSuffix(".rotated") || $0.hasSuffix(".part") }, "\(names)")
        #expect(!names.contains { $0.range(of: #"^(all|few)\.log\.[0-9]+$"#, options: .regularExpression) != nil }, "\(names)")
        func backups(_ name: String) -> [Int] {
            names.compactMap { file in
                guard file.hasPrefix("\(name).log."), file.hasSuffix(".gz") else { return nil }
                return Int(file.dropFirst(name.count + 5).dropLast(3))
            }.sorted()
        }
        func unzipped(_ file: String) -> String {
            let run = runCommand(["gzip", "-dc", directory.file(file)])
            #expect(run.status == 0, "gzip -dc \(file): \(run)")
            return run.stdout
        }
        let expected = (1...2000).map { String(format: "line %06d abcdefghijklmnopqrstuvwxyz0123456789", $0) }

        // Enough backups: every line, in order, each file at most maxbytes.
        let all = backups("all")
        #expect(all.count > 5 && all == Array(1...all.count), "\(all)")
        var text = ""
        for n in all.reversed() {
            let part = unzipped("all.log.\(n).gz")
            #expect(part.utf8.count <= 8 * 1024 && part.hasSuffix("\n"))
            text += part
        }
        text += directory.read("all.log")
        #expect(SpindledTreeTests.lines(text).map(String.init) == expected)

        // Three backups: exactly the newest three, then the live file, with nothing missing between.
        #expect(backups("few") == [1, 2, 3], "\(names)")
        var tail = ""
        for n in [3, 2, 1] { tail += unzipped("few.log.\(n).gz") }
        tail += directory.read("few.log")
        let kept = SpindledTreeTests.lines(tail).map(String.init)
        #expect(!kept.isEmpty && kept == Array(expected.suffix(kept.count)))
    }

    /// spindled is a child subreaper: a grandchild that double-forked and called setsid is
    /// re-parented to it. Stopping its program (killtree, the default) ends that grandchild and
    /// spindled reaps it; with killtree=false it survives the stop, as under supervisord, and is
    /// still reaped by spindled when it dies. An orphan that exits by itself leaves no zombie.
    @Test(arguments: [false, true])
    func stoppingAProgramEndsItsDoubleForkedGrandchildAndLeavesNoZombie(withoutCgroup: Bool) throws {
        let directory = TestDirectory()
        defer { directory.remove() }
        let dir = directory.path
        // The subshell forks the setsid'd sleeper in the background and exits at once (a double fork).
        directory.write(
            "forker.sh",
            """
            ( setsid sleep 1000 </dev/null >/dev/null 2>&1 & echo $! > \(dir)/$1.grandchild )
            ( sleep 0.3 </dev/null >/dev/null 2>&1 & echo $! > \(dir)/$1.brief )
            echo forked
            exec sleep 1000

            """)
        let programs = """
            [program:tree]
            command=/bin/sh \(dir)/forker.sh tree
            startsecs=0
            stopwaitsecs=5
            stdout_logfile=\(dir)/tree.out

            [program:keep]
            command=/bin/sh \(dir)/forker.sh keep
            startsecs=0
            killtree=false
            stdout_logfile=\(dir)/keep.out

            """
        let path = SpindledTests.config(directory, programs: programs)
        // What a spindled killed with SIGKILL left behind: removed by the next one.
        var stale: String?
        if !withoutCgroup, SpindledTreeTests.cgroupWritable, let mount = ProcessTree.cgroup2Mount(), let own = ProcessTree.ownCgroup() {
            let gone = try Popen(["/bin/true"])
            _ = try gone.wait(timeout: 10)
            let dir = (own == "/" ? mount : mount + own) + "/spindled.\(gone.pid)"
            if mkdir(dir, 0o755) == 0, mkdir(dir + "/old.1", 0o755) == 0 { stale = dir }
        }
        // SPINDLED_NO_CGROUP=1: the tree is tracked by the cookie and the session instead.
        let command = withoutCgroup ? ["/usr/bin/env", "SPINDLED_NO_CGROUP=1", Binaries.spindled] : [Binaries.spindled]
        let daemon = try DaemonProcess(command, config: path, directory: directory, socket: directory.file("sd.sock"))
        defer { daemon.stop() }
        let spindled = daemon.popen.pid
        #expect(daemon.waitUntilServing(), "\(directory.read("daemon.out"))")
        #expect(daemon.waitFor(["tree": .running, "keep": .running]))
        #expect(waitUntil { ["tree", "keep"].allSatisfy { directory.read("\($0).out").contains("forked") } })
        guard let grandchild = SpindledTreeTests.pid(in: directory, "tree.grandchild"),
            let kept = SpindledTreeTests.pid(in: directory, "keep.grandchild"),
            let brief = SpindledTreeTests.pid(in: directory, "tree.brief"),
            let main = (try? daemon.client.call("supervisor.getProcessInfo", [.string("tree")]))?["pid"]?.intValue
        else {
            Issue.record("no pids: \(directory.read("tree.out"))")
            return
        }
        // Re-parented to spindled (not init), in a session of its own.
        #expect(waitUntil(timeout: 10) { SpindledTreeTests.stat(grandchild)?.ppid == spindled }, "\(String(describing: SpindledTreeTests.stat(grandchild)))")
        #expect(waitUntil(timeout: 10) { SpindledTreeTests.stat(grandchild)?.session == grandchild })
        #expect(SpindledTreeTests.stat(kept)?.ppid == spindled)
        // Tracked: in the start's own cgroup when one is writable, else by the cookie.
        func tracked(_ pid: Int32, _ name: String) -> Bool {
            let cgroup = (try? String(contentsOfFile: "/proc/\(pid)/cgroup", encoding: .utf8)) ?? ""
            let environ = FileManager.default.contents(atPath: "/proc/\(pid)/environ").map { String(decoding: $0, as: UTF8.self) } ?? ""
            let cookie = environ.contains("SPINDLED_TREE=\(spindled).")
            return withoutCgroup ? cookie : cgroup.contains("/spindled.\(spindled)/\(name).") || (cookie && !SpindledTreeTests.cgroupWritable)
        }
        if let stale {
            #expect(access(stale, F_OK) != 0, "a dead spindled's empty cgroups are removed")
            _ = rmdir(stale + "/old.1")
            _ = rmdir(stale)
        }
        #expect(tracked(grandchild, "tree"), "\((try? String(contentsOfFile: "/proc/\(grandchild)/cgroup", encoding: .utf8)) ?? "")")
        #expect(!tracked(kept, "keep"), "killtree=false: no cgroup, no cookie")
        // The brief orphan exited by itself: spindled reaped it (no /proc entry, no zombie).
        #expect(waitUntil(timeout: 10) { SpindledTreeTests.stat(brief) == nil }, "\(String(describing: SpindledTreeTests.stat(brief)))")

        let stop = try daemon.client.call("supervisor.stopProcess", [.string("tree")])
        #expect(stop == .bool(true))
        #expect(SpindledTreeTests.stat(Int32(main)).map { $0.state == "Z" } ?? true, "the main process is gone")
        // The grandchild got SIGTERM and is gone, reaped by spindled.
        #expect(waitUntil(timeout: 20) { SpindledTreeTests.stat(grandchild) == nil }, "\(String(describing: SpindledTreeTests.stat(grandchild)))")

        // killtree=false: the grandchild outlives its program's stop...
        #expect(try daemon.client.call("supervisor.stopProcess", [.string("keep")]) == .bool(true))
        usleep(500_000)
        #expect(processAlive(kept), "killtree=false keeps supervisord's behaviour")
        // ...and when it dies, spindled reaps it.
        kill(kept, SIGKILL)
        #expect(waitUntil(timeout: 10) { SpindledTreeTests.stat(kept) == nil }, "\(String(describing: SpindledTreeTests.stat(kept)))")
        #expect(waitUntil(timeout: 10) { SpindledTreeTests.zombieChildren(of: spindled).isEmpty }, "\(SpindledTreeTests.zombieChildren(of: spindled))")
        #expect(try daemon.client.call("supervisor.getState")["statename"] == .string("RUNNING"))
    }

    /// A grandchild that ignores the stop signal is SIGKILLed `stopwaitsecs` after its program
    /// stopped, and spindled's shutdown waits for that.
    @Test func aGrandchildIgnoringTheStopSignalIsKilledAfterStopwaitsecs() throws {
        let directory = TestDirectory()
        defer { directory.remove() }
        let dir = directory.path
        directory.write(
            "stubborn.sh",
            """
            ( setsid sh -c 'trap "" TERM; echo $$ > \(dir)/stubborn.grandchild; while :; do sleep 1; done' </dev/null >/dev/null 2>&1 & )
            exec sleep 1000

            """)
        let programs = """
            [program:stubborn]
            command=/bin/sh \(dir)/stubborn.sh
            startsecs=0
            stopwaitsecs=2

            """
        let path = SpindledTests.config(directory, programs: programs)
        let daemon = try DaemonProcess([Binaries.spindled], config: path, directory: directory, socket: directory.file("sd.sock"))
        defer { daemon.stop() }
        #expect(daemon.waitUntilServing(), "\(directory.read("daemon.out"))")
        #expect(daemon.waitFor(["stubborn": .running]))
        #expect(waitUntil { SpindledTreeTests.pid(in: directory, "stubborn.grandchild") != nil })
        guard let grandchild = SpindledTreeTests.pid(in: directory, "stubborn.grandchild") else { return }
        #expect(waitUntil(timeout: 10) { SpindledTreeTests.stat(grandchild)?.ppid == daemon.popen.pid })
        // Shut down: the program stops at once (SIGTERM), its grandchild ignores SIGTERM and is
        // SIGKILLed 2 s later, before spindled exits.
        daemon.popen.sendSignal(SIGTERM)
        #expect((try? daemon.popen.wait(timeout: 30)) == 0, "\(directory.read("supervisord.log"))")
        #expect(!processAlive(grandchild), "\(String(describing: SpindledTreeTests.stat(grandchild)))")
    }
}
