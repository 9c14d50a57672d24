import Foundation
import SpindleSubprocess
import SpindleTestSupport
import Testing

/// `spindle run`, used from a shell as a person would.
@Suite("spindle run", .timeLimit(.minutes(2)))
struct RunCommandTests {
    /// The built `spindle` executable, next to the test bundle.
    static var spindle: String {
        get throws {
            let directory = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().deletingLastPathComponent()
            let path = directory.appendingPathComponent("spindle").path
            try #require(FileManager.default.isExecutableFile(atPath: path), "build the spindle executable first: \(path)")
            return path
        }
    }

    /// Runs `line` through /bin/sh, with `spindle` meaning the built executable.
    func shell(_ line: String) throws -> CompletedProcess {
        try Subprocess.run([line], captureOutput: true, timeout: 60, env: ["SPINDLE": try Self.spindle, "PATH": "/usr/bin:/bin"], shell: true)
    }

    @Test func printsTheLastStageAndExitsWithItsStatus() throws {
        let ok = try shell(#""$SPINDLE" run "printf 'pear\napple\n' | sort""#)
        #expect(ok.returncode == 0)
        #expect(ok.stdoutText == "apple\npear\n")
        let failed = try shell(#""$SPINDLE" run "echo x | sh -c 'cat; exit 3'""#)
        #expect(failed.returncode == 3)
        #expect(failed.stdoutText == "x\n")
    }

    @Test func printsEveryStagesStderr() throws {
        let result = try shell(#""$SPINDLE" run "sh -c 'echo one >&2; echo data' | sh -c 'cat >/dev/null; echo two >&2'""#)
        #expect(result.returncode == 0)
        #expect(result.stderrText == "one\ntwo\n")
    }

    @Test func badInputGetsAClearErrorAndStatus() throws {
        let quote = try shell(#""$SPINDLE" run "echo 'unclosed""#)
        #expect(quote.returncode == 2)
        #expect(quote.stderrText == "spindle run: unclosed quote (') opened at column 6\n")
        let empty = try shell(#""$SPINDLE" run "a || b""#)
        #expect(empty.returncode == 2)
        #expect(empty.stderrText?.contains("empty command") == true)
        let missing = try shell(#""$SPINDLE" run "echo hi | no-such-program-xyz""#)
        #expect(missing.returncode == 127)
        #expect(missing.stderrText?.contains("'no-such-program-xyz'") == true)
    }

    @Test func timeoutEndsThePipeline() throws {
        let result = try shell(#""$SPINDLE" run --timeout 0.3 "sleep 30 | cat""#)
        #expect(result.returncode == 124)
        #expect(result.stderrText?.contains("timed out after 0.3 s") == true)
    }

    @Test func jsonHasTheHistory() throws {
        let result = try shell(#""$SPINDLE" run --json "echo hi | tr a-z A-Z""#)
        #expect(result.returncode == 0)
        let object = try JSONSerialization.jsonObject(with: Data(result.stdout ?? [])) as? [String: Any]
        #expect(object?["std_out"] as? String == "HI\n")
        #expect(object?["command"] as? [String] == ["tr", "a-z", "A-Z"])
        let history = object?["history"] as? [[String: Any]]
        #expect(history?.count == 1)
        #expect(history?.first?["command"] as? [String] == ["echo", "hi"])
    }

    @Test func dataFileFeedsTheFirstStage() throws {
        let path = "/tmp/spindle-run-data-\(getpid())"
        _ = FileManager.default.createFile(atPath: path, contents: Data("b\nc\na\n".utf8))
        defer { try? FileManager.default.removeItem(atPath: path) }
        let result = try shell(#""$SPINDLE" run --data-file "# + path + #" "sort | head -n 1""#)
        #expect(result.stdoutText == "a\n")
    }
}
