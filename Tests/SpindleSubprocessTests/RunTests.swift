import SpindleTestSupport
import Foundation
import Glibc
@testable import SpindleSubprocess
import SpindleSystem
import Testing

// Behaviours of CPython's Lib/test/test_subprocess.py (ProcessTestCase, RunFuncTestCase,
// POSIXProcessTestCase) that apply.
@Suite("subprocess: run and friends", .timeLimit(.minutes(3)))
struct RunTests {
    @Test func runCapturesOutput() throws {
        let result = try Subprocess.run(["/bin/sh", "-c", "echo out; echo err >&2; exit 3"], captureOutput: true)
        #expect(result.returncode == 3)
        #expect(result.stdoutText == "out\n")
        #expect(result.stderrText == "err\n")
        #expect(result.args == ["/bin/sh", "-c", "echo out; echo err >&2; exit 3"])
    }

    @Test func checkThrowsCalledProcessError() throws {
        do {
            try Subprocess.run(["/bin/sh", "-c", "echo oops; exit 7"], stdout: .pipe, check: true)
            Issue.record("expected CalledProcessError")
        } catch let error as CalledProcessError {
            #expect(error.returncode == 7)
            #expect(text(error.output) == "oops\n")
            #expect(error.description.contains("returned non-zero exit status 7"))
        }
        #expect(throws: CalledProcessError.self) { try Subprocess.checkCall(["false"]) }
        try Subprocess.checkCall(["true"])
    }

    @Test func callAndCheckOutput() throws {
        #expect(try Subprocess.call(["/bin/sh", "-c", "exit 47"]) == 47)
        #expect(try Subprocess.checkOutput(["echo", "BDFL"]) == Array("BDFL\n".utf8))
        #expect(try Subprocess.checkOutput(["/bin/sh", "-c", "echo err >&2"], stderr: .stdout) == Array("err\n".utf8))
        #expect(throws: CalledProcessError.self) { try Subprocess.checkOutput(["/bin/sh", "-c", "exit 5"]) }
    }

    @Test func inputGoesToStdin() throws {
        let result = try Subprocess.run(["tr", "a-z", "A-Z"], input: "pear", captureOutput: true)
        #expect(result.stdoutText == "PEAR")
        #expect(throws: SpawnError.self) { try Subprocess.run(["cat"], input: [1], stdin: .devnull) }
    }

    @Test func getoutputAndStatus() throws {
        #expect(try Subprocess.getoutput("echo xyzzy") == "xyzzy")
        let (status, output) = try Subprocess.getstatusoutput("echo to-stderr >&2; exit 3")
        #expect(status == 3)
        #expect(output == "to-stderr")
    }

    @Test func shellRunsTheCommandLine() throws {
        // As in Python: the items after the command line become the shell's $0, $1, ...
        let result = try Subprocess.run(["echo $0 $1", "zero", "one"], captureOutput: true, shell: true)
        #expect(result.stdoutText == "zero one\n")
    }

    @Test func mergeStderrIntoStdoutAndDevnull() throws {
        let merged = try Subprocess.run(["/bin/sh", "-c", "echo a; echo b >&2"], stdout: .pipe, stderr: .stdout)
        #expect(merged.stdoutText == "a\nb\n")
        #expect(merged.stderr == nil)
        let quiet = try Subprocess.run(["/bin/sh", "-c", "echo a; echo b >&2"], stdout: .devnull, stderr: .pipe)
        #expect(quiet.stdout == nil)
        #expect(quiet.stderrText == "b\n")
        let empty = try Subprocess.run(["cat"], stdin: .devnull, stdout: .pipe)
        #expect(empty.stdout == [])
    }

    @Test func redirectToPathsAndDescriptors() throws {
        let path = "/tmp/spindle-redirect-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        defer { unlink(path) }
        try Subprocess.run(["echo", "first"], stdout: .path(path))
        try Subprocess.run(["echo", "second"], stdout: .path(path, append: true))
        let back = try Subprocess.run(["cat"], stdin: .path(path), stdout: .pipe)
        #expect(back.stdoutText == "first\nsecond\n")
        var ends: [Int32] = [0, 0]
        #expect(pipe(&ends) == 0)
        try Subprocess.run(["echo", "via fd"], stdout: .fileDescriptor(ends[1]))
        close(ends[1])
        var buffer = [UInt8](repeating: 0, count: 64)
        let n = read(ends[0], &buffer, 64)
        close(ends[0])
        #expect(String(decoding: buffer.prefix(max(0, n)), as: UTF8.self) == "via fd\n")
        #expect(throws: SpawnError.self) { try Subprocess.run(["cat"], stdin: .path("/nonexistent/file")) }
    }

    @Test func environmentIsReplaced() throws {
        let result = try Subprocess.run(["/usr/bin/env"], stdout: .pipe, env: ["FRUIT": "orange", "EMPTY": ""])
        #expect(result.stdoutText?.split(separator: "\n").sorted() == ["EMPTY=", "FRUIT=orange"])
        // The child's PATH is where the program is looked up, as in Python.
        #expect(throws: SpawnError.self) { try Subprocess.run(["true"], env: ["PATH": "/nonexistent"]) }
        #expect(try Subprocess.run(["true"], env: ["PATH": "/nonexistent:/usr/bin:/bin"]).returncode == 0)
    }

    @Test func cwdIsHonoured() throws {
        let result = try Subprocess.run(["pwd"], stdout: .pipe, cwd: "/tmp")
        #expect(result.stdoutText == "/tmp\n")
    }

    @Test func spawnFailuresAreThrownInTheParent() throws {
        do {
            _ = try Popen(["/nonexistent/program"])
            Issue.record("expected SpawnError")
        } catch {
            #expect(error.step == "exec")
            #expect(error.errno == ENOENT)
            #expect(error.path == "/nonexistent/program")
        }
        do {
            _ = try Popen(["no-such-program-anywhere"])
            Issue.record("expected SpawnError")
        } catch {
            #expect(error.errno == ENOENT)
        }
        let plain = "/tmp/spindle-not-executable-\(getpid())"
        close(open(plain, O_CREAT | O_WRONLY, 0o644))
        defer { unlink(plain) }
        do {
            _ = try Popen([plain])  // exists, not executable
            Issue.record("expected SpawnError")
        } catch {
            #expect(error.step == "exec")
            #expect(error.errno == EACCES)
            #expect(error.path == plain)
        }
        do {
            _ = try Popen(["pwd"], cwd: "/nonexistent-dir")
            Issue.record("expected SpawnError")
        } catch {
            #expect(error.step == "chdir")
            #expect(error.errno == ENOENT)
            #expect(error.path == "/nonexistent-dir")
            #expect(error.description.contains("No such file or directory"))
        }
        #expect(throws: SpawnError.self) { _ = try Popen([]) }
    }

    @Test func executableReplacesTheProgram() throws {
        let result = try Subprocess.run(
            ["fancy-name", "-c", "echo $0"], stdout: .pipe, options: SpawnOptions(executable: "/bin/sh"))
        #expect(result.stdoutText == "fancy-name\n")
    }

    @Test func timeoutKillsTheChild() throws {
        let t0 = monotonicSeconds()
        do {
            try Subprocess.run(["/bin/sh", "-c", "echo partial; exec sleep 30"], captureOutput: true, timeout: 0.5)
            Issue.record("expected TimeoutExpired")
        } catch let error as TimeoutExpired {
            #expect(text(error.output) == "partial\n")
            #expect(error.timeout == 0.5)
        }
        #expect(monotonicSeconds() - t0 < 20)
    }

    @Test func timeoutKillsTheWholeNewSession() throws {
        // A grandchild in the child's new session dies with it, and holding the pipe open does
        // not make run() hang.
        let marker = "/tmp/spindle-grandchild-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        defer { unlink(marker) }
        do {
            try Subprocess.run(
                ["/bin/sh", "-c", "sleep 60 & echo $! > \(marker); wait"], captureOutput: true, timeout: 0.5,
                options: SpawnOptions(startNewSession: true))
            Issue.record("expected TimeoutExpired")
        } catch is TimeoutExpired {}
        let pidText = try Subprocess.run(["cat", marker], stdout: .pipe).stdoutText ?? ""
        let grandchild = Int32(pidText.trimmingCharacters(in: .whitespacesAndNewlines))!
        #expect(waitUntil { !processAlive(grandchild) })
    }
}

