import Foundation
import Glibc
import SpindleSystem
import Testing

@testable import SpindleSupervisor

@Suite("Process logs", .serialized, .timeLimit(.minutes(1)))
struct LogTests {
    /// Every file of a rotated log, oldest first: name.N ... name.1, name.
    func rotatedFiles(_ base: String, backups: Int) -> [String] {
        var files: [String] = []
        for i in stride(from: backups, through: 1, by: -1) where FileManager.default.fileExists(atPath: "\(base).\(i)") {
            files.append("\(base).\(i)")
        }
        files.append(base)
        return files
    }

    @Test func rotationUnderAChattyProgramLosesAndSplitsNoLine() throws {
        let count = 3000
        let h = try Harness(
            """
            [program:chatty]
            command = /bin/sh -c 'i=0; while [ $i -lt \(count) ]; do printf "line %%05d " $i; printf "%%0*d\\n" $((i %% 97)) 0; i=$((i+1)); done'
            startsecs = 0
            autorestart = false
            stdout_logfile = %(here)s/chatty.log
            stdout_logfile_maxbytes = 4KB
            stdout_logfile_backups = 100
            """)
        defer { h.close() }
        #expect(h.waitFor("chatty", .exited, timeout: 40))
        let base = h.dir.file("chatty.log")
        let files = rotatedFiles(base, backups: 100)
        #expect(files.count > 10)
        var lines: [String] = []
        for file in files {
            let data = try Data(contentsOf: URL(fileURLWithPath: file))
            #expect(data.count <= 4096, "\(file) has \(data.count) bytes")
            if !data.isEmpty { #expect(data.last == UInt8(ascii: "\n"), "\(file) ends inside a line") }
            let text = String(decoding: data, as: UTF8.self)
            lines += text.split(separator: "\n", omittingEmptySubsequences: false).dropLast().map(String.init)
        }
        #expect(lines.count == count)
        for (i, line) in lines.enumerated() {
            let expected = String(format: "line %05d ", i) + String(repeating: "0", count: max(1, i % 97))
            if line != expected {
                Issue.record("line \(i) is '\(line)'")
                break
            }
        }
    }

    @Test func rotatingFileUnit() throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let path = dir.file("unit.log")
        let log = try RotatingLogFile(path: path, maxBytes: 10, backups: 2)
        log.write(Array("abcd\nef".utf8))
        log.write(Array("gh\n123456789012345\nxy".utf8))
        log.flush()
        log.close()
        func read(_ p: String) -> String { (try? String(contentsOfFile: p, encoding: .utf8)) ?? "<none>" }
        // The 16-byte line is cut into 10 + 6 bytes, each rotating the file; short lines are never cut.
        #expect(read(path) == "12345\nxy")
        #expect(read(path + ".1") == "1234567890")
        #expect(read(path + ".2") == "abcd\nefgh\n")
        let again = try RotatingLogFile(path: path, maxBytes: 10, backups: 2)
        again.write(Array("012345678\n".utf8))
        again.close()
        // Only two backups are kept: the oldest ("abcd\nefgh\n") is gone.
        #expect(read(path) == "012345678\n")
        #expect(read(path + ".1") == "12345\nxy")
        #expect(read(path + ".2") == "1234567890")
        #expect(read(path + ".3") == "<none>")
        let plain = try RotatingLogFile(path: dir.file("plain.log"), maxBytes: 0, backups: 5)
        plain.write(Array("partial".utf8))
        #expect(read(dir.file("plain.log")) == "partial")
        plain.close()
    }

    @Test func autoLogsRedirectAndStderr() throws {
        let h = try Harness(
            """
            [program:both]
            command = /bin/sh -c "echo out; echo err >&2"
            startsecs = 0
            autorestart = false
            [program:merged]
            command = /bin/sh -c "echo out; echo err >&2"
            startsecs = 0
            autorestart = false
            redirect_stderr = true
            """)
        defer { h.close() }
        #expect(h.waitFor("both", .exited) && h.waitFor("merged", .exited))
        let both = h.info("both")
        #expect(both.stdout_logfile.hasPrefix(h.dir.path + "/both-stdout---supervisor-"))
        #expect(both.stdout_logfile.hasSuffix(".log"))
        #expect(both.stdout_logfile.count == (h.dir.path + "/both-stdout---supervisor-XXXXXX.log").count)
        #expect(both.stderr_logfile.hasPrefix(h.dir.path + "/both-stderr---supervisor-"))
        #expect(both.logfile == both.stdout_logfile)
        #expect(try h.supervisor.readLog(name: "both", channel: .stdout, offset: 0, length: 0) == "out\n")
        #expect(try h.supervisor.readLog(name: "both", channel: .stderr, offset: 0, length: 0) == "err\n")
        let merged = h.info("merged")
        #expect(merged.stderr_logfile == "")
        let text = try h.supervisor.readLog(name: "merged", offset: 0, length: 0)
        #expect(text.contains("out\n") && text.contains("err\n"))
        #expect(throws: SupervisorFault.noFile(nil)) { try h.supervisor.readLog(name: "merged", channel: .stderr, offset: 0, length: 0) }
    }

    @Test func readAndTailSemantics() throws {
        let h = try Harness(
            """
            [program:digits]
            command = /bin/sh -c "printf 0123456789"
            startsecs = 0
            autorestart = false
            stdout_logfile = %(here)s/digits.log
            """)
        defer { h.close() }
        #expect(h.waitFor("digits", .exited))
        let s = h.supervisor
        #expect(try s.readLog(name: "digits", offset: 0, length: 0) == "0123456789")
        #expect(try s.readLog(name: "digits", offset: 2, length: 3) == "234")
        #expect(try s.readLog(name: "digits", offset: -4, length: 0) == "6789")
        #expect(try s.readLog(name: "digits", offset: 8, length: 100) == "89")
        #expect(throws: SupervisorFault.badArguments()) { try s.readLog(name: "digits", offset: -4, length: 2) }
        #expect(throws: SupervisorFault.badArguments()) { try s.readLog(name: "digits", offset: 0, length: -2) }
        let tail1 = try s.tailLog(name: "digits", offset: 0, length: 4)
        #expect(tail1.text == "6789" && tail1.offset == 10 && tail1.overflow)
        // As supervisor's tailFile: asking for more than there is returns the whole log.
        let tail2 = try s.tailLog(name: "digits", offset: 7, length: 100)
        #expect(tail2.text == "0123456789" && tail2.offset == 10 && !tail2.overflow)
        let tail4 = try s.tailLog(name: "digits", offset: 7, length: 3)
        #expect(tail4.text == "789" && tail4.offset == 10 && !tail4.overflow)
        let tail3 = try s.tailLog(name: "digits", offset: 10, length: 100)
        #expect(tail3.text == "" && tail3.offset == 10 && !tail3.overflow)
        try s.clearLog(name: "digits")
        #expect(try s.readLog(name: "digits", offset: 0, length: 0) == "")
        #expect(try s.tailLog(name: "digits", offset: 0, length: 10).offset == 0)
    }

    @Test func oldAutoLogsAreClearedAtStart() throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let old = dir.write("x-stdout---supervisor-abc123.log", "old")
        let rotated = dir.write("x-stdout---supervisor-abc123.log.3", "old")
        let kept = dir.write("unrelated.log", "keep")
        let config = try SupervisorConfig.parse("[supervisord]\nchildlogdir=\(dir.path)\n", path: dir.file("s.conf"))
        let supervisor = Supervisor(config: config)
        #expect(throws: SupervisorFault.shutdownState()) { try supervisor.startAll() }
        try supervisor.run()
        #expect(throws: SupervisorFault.alreadyStarted("supervisor")) { try supervisor.run() }
        supervisor.shutdown(timeout: 5)
        #expect(!FileManager.default.fileExists(atPath: old))
        #expect(!FileManager.default.fileExists(atPath: rotated))
        #expect(FileManager.default.fileExists(atPath: kept))
    }

    @Test func descriptions() {
        #expect(SupervisedProcessInfo.uptime(62) == "0:01:02")
        #expect(SupervisedProcessInfo.uptime(86400 + 3723) == "1 day, 1:02:03")
        #expect(SupervisedProcessInfo.uptime(2 * 86400 + 5) == "2 days, 0:00:05")
        let backoff = SupervisedProcessInfo(
            name: "x", group: "x", start: 1, stop: 0, now: 2, state: .backoff, spawnerr: "", exitstatus: 0,
            stdoutLogfile: "", stderrLogfile: "", pid: 0)
        #expect(backoff.description == "unknown error (try \"tail x\")")
        #expect(ProcessOutput.stripEscapes(Array("a\u{1b}[31mred\u{1b}[0m b".utf8)) == Array("ared b".utf8))
    }
}
