import Foundation
import Glibc
import SpindleSubprocess
@testable import SpindleSupervisor
import SpindleSystem
import Testing

/// The process-tree bookkeeping behind `killtree` (without a cgroup: the cookie, the session and
/// descent) and the new options' parsing.
@Suite("process trees", .serialized, .timeLimit(.minutes(2)))
struct ProcessTreeTests {
    static func waitFor(_ seconds: Double, _ condition: () -> Bool) -> Bool {
        let end = Date().addingTimeInterval(seconds)
        while Date() < end {
            if condition() { return true }
            usleep(20_000)
        }
        return condition()
    }

    static func gone(_ pid: Int32) -> Bool { ProcessTable.entry(pid).map(\.isZombie) ?? true }

    /// Without a cgroup the tree is found by its cookie, even across setsid, and by descent from
    /// a member whose environment was scrubbed; ending it signals every member.
    @Test func theCookieFindsADoubleForkedSetsidGrandchildAndItsScrubbedChild() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("spindle-tree-\(getpid())").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let cookie = "\(ProcessTree.cookieName)=test.\(getpid()).\(Int.random(in: 1...1_000_000))"
        let tree = ProcessTree(name: "tree", cgroup: nil, cookie: cookie)
        var environment = ProcessInfo.processInfo.environment
        let equals = cookie.firstIndex(of: "=")!
        environment[String(cookie[..<equals])] = String(cookie[cookie.index(after: equals)...])
        let script = """
            ( setsid sh -c 'env -i /bin/sleep 300 & echo $! > \(directory)/scrubbed; exec /bin/sleep 300' </dev/null >/dev/null 2>&1 & echo $! > \(directory)/grandchild )
            exec /bin/sleep 300
            """
        let popen = try Popen(["/bin/sh", "-c", script], stdin: .devnull, stdout: .devnull, env: environment, options: SpawnOptions(startNewSession: true))
        tree.spawned(popen.pid)
        var pids: [Int32] = []
        #expect(ProcessTreeTests.waitFor(10) {
            pids = ["grandchild", "scrubbed"].compactMap { name in
                (try? String(contentsOfFile: "\(directory)/\(name)", encoding: .utf8)).flatMap { Int32($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
            }
            return pids.count == 2
        })
        guard pids.count == 2 else { return }
        defer { for pid in pids { kill(pid, SIGKILL) } }
        let (grandchild, scrubbed) = (pids[0], pids[1])
        #expect(ProcessTreeTests.waitFor(10) { ProcessTable.entry(grandchild)?.session == grandchild }, "in a session of its own")
        #expect(ProcessTreeTests.waitFor(10) { !ProcessTable.environment(of: scrubbed, contains: cookie) }, "env -i dropped the cookie")
        #expect(ProcessTreeTests.waitFor(10) { Set(tree.members()).isSuperset(of: [popen.pid, grandchild, scrubbed]) }, "\(tree.members())")
        // Not this process, nor anything older than the spawn.
        #expect(!tree.members().contains(getpid()))

        popen.kill()
        _ = try popen.wait(timeout: 10)
        TreeReaper.shared.end(tree, signal: SIGTERM, wait: 10)
        #expect(Supervisor.waitForProcessTrees(timeout: 30))
        #expect(ProcessTreeTests.gone(grandchild) && ProcessTreeTests.gone(scrubbed))
        #expect(tree.members().isEmpty)
    }

    /// The `/proc/PID/stat` parser survives a name with spaces and parentheses.
    @Test func statParsingCountsFieldsFromTheLastParenthesis() {
        let line = "4242 (a (b) c) S 17 4242 4242 0 -1 4194560 0 0 0 0 0 0 0 0 20 0 1 0 987654 0 0"
        let entry = ProcessTable.parse(Array(line.utf8))
        #expect(entry == ProcessTable.Entry(pid: 4242, state: UInt8(ascii: "S"), ppid: 17, session: 4242, startTime: 987654))
        #expect(ProcessTable.parse(Array("garbage".utf8)) == nil)
    }

    /// `killtree` defaults to true, `*_logfile_compress` to false; both parse as booleans and a
    /// bad value names the option.
    @Test func killtreeAndCompressOptions() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("spindle-tree-conf-\(getpid())").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = directory + "/supervisord.conf"
        func load(_ program: String) throws -> ProcessConfig? {
            try "[supervisord]\nchildlogdir=\(directory)\n[program:p]\ncommand=/bin/true\n\(program)".write(toFile: path, atomically: true, encoding: .utf8)
            return try SupervisorConfig.load(path: path).groups.first?.processes.first
        }
        let plain = try load("")
        #expect(plain?.killtree == true && plain?.stdout.compress == false && plain?.stderr.compress == false)
        let set = try load("killtree=false\nstdout_logfile_compress=true\nstderr_logfile_compress=yes\n")
        #expect(set?.killtree == false && set?.stdout.compress == true && set?.stderr.compress == true)
        #expect(throws: ConfigError.self) { try load("killtree=sometimes\n") }
        do {
            _ = try load("stdout_logfile_compress=maybe\n")
        } catch {
            #expect("\(error)".contains("stdout_logfile_compress"), "\(error)")
        }
    }
}
