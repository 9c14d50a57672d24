import SpindleTestSupport
import Foundation
import Glibc
@testable import SpindleEnvoy
import SpindleSubprocess
import Testing

// Behaviours of kennethreitz/envoy's test_envoy.py, and streaming pipelines.
@Suite("envoy: run and connect", .timeLimit(.minutes(3)))
struct EnvoyTests {
    @Test func input() throws {
        let r = try Envoy.run("sed s/i/I/g", data: "Hi")
        #expect(r.stdoutText == "HI")
        #expect(r.statusCode == 0)
    }

    @Test func pipe() throws {
        let r = try Envoy.run("echo 'test'|wc -l")
        #expect(r.stdoutText.trimmingCharacters(in: .whitespacesAndNewlines) == "1")
        #expect(r.command == ["wc", "-l"])
        #expect(r.history.count == 1)
        #expect(r.history[0].command == ["echo", "test"])
        #expect(r.history[0].statusCode == 0)
        #expect(r.history[0].stdout == [])  // it went straight into wc
    }

    @Test func quotedArgs() throws {
        let sentence = "sentence with \"quote\""
        let r = try Envoy.run("echo '\(sentence)'")
        #expect(r.stdoutText == sentence + "\n")
    }

    @Test func statusCodes() throws {
        #expect(try Envoy.run("true").statusCode == 0)
        #expect(try Envoy.run("sh -c 'exit 3'").statusCode == 3)
    }

    @Test func nonExistingCommandIsNamedAndNothingRuns() throws {
        do {
            _ = try Envoy.run("echo hi | no-such-program-xyz | cat")
            Issue.record("expected SpawnError")
        } catch let error as SpawnError {
            #expect(error.step == "exec")
            #expect(error.description.contains("no-such-program-xyz"))
        }
    }

    @Test func stderrOfEveryStage() throws {
        let r = try Envoy.run("sh -c 'echo one >&2; echo data' | sh -c 'cat; echo two >&2'")
        #expect(r.stdoutText == "data\n")
        #expect(r.stderrText == "two\n")
        #expect(r.history[0].stderrText == "one\n")
    }

    @Test func stageFailingMidPipeline() throws {
        let r = try Envoy.run("echo hi | sh -c 'cat >/dev/null; exit 4' | cat")
        #expect(r.statusCode == 0)
        #expect(r.history[1].statusCode == 4)
        #expect(r.stdout == [])
    }

    @Test func stageClosingItsInputEarly() throws {
        // As in a shell, the upstream `yes` is ended by SIGPIPE once `head` stops reading.
        let r = try Envoy.run("yes | head -n 3")
        #expect(r.stdoutText == "y\ny\ny\n")
        #expect(r.statusCode == 0)
        #expect(r.history[0].statusCode == -SIGPIPE)
    }

    @Test func timeoutEndsEveryStage() throws {
        let marker = "/tmp/spindle-envoy-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        defer { unlink(marker) }
        let t0 = monotonicSeconds()
        let r = try Envoy.run("sh -c 'echo $$ > \(marker); exec sleep 30' | sh -c 'trap \"\" TERM; exec sleep 30'", timeout: 0.5, killTimeout: 0.3)
        #expect(r.timedOut)
        #expect(monotonicSeconds() - t0 < 20)
        #expect(r.history[0].statusCode == -SIGTERM)
        #expect(r.statusCode == -SIGKILL)  // it ignored SIGTERM
        let pid = Int32(try String(contentsOfFile: marker, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines))!
        #expect(!processAlive(pid))
    }

    @Test func unicodeAndBinaryData() throws {
        let bytes = (0..<4096).map { UInt8($0 % 256) }
        #expect(try Envoy.run("cat | cat", data: bytes).stdout == bytes)
        let text = try Envoy.run("tr a-z A-Z", data: "h\u{E9}llo \u{2713}")
        #expect(text.stdoutText == "H\u{E9}LLO \u{2713}")
    }

    @Test func streamingHandlerSeesEverything() throws {
        final class Count: @unchecked Sendable { var bytes = 0 }
        let count = Count()
        let r = try Envoy.run("head -c 5000000 /dev/zero | cat", stdoutHandler: { count.bytes += $0.count })
        #expect(count.bytes == 5_000_000)
        #expect(r.stdout == [])
    }

    @Test func connect() throws {
        let sleeper = try Envoy.connect("sleep 0")
        #expect(try sleeper.block(timeout: 30) == 0)
        #expect(sleeper.statusCode == 0)

        let sed = try Envoy.connect("sed s/i/I/g")
        try sed.send("hi")
        sed.closeInput()
        #expect(try sed.stdout.readAll() == Array("hI\n".utf8))
        #expect(try sed.block(timeout: 30) == 0)

        let cat = try Envoy.connect("cat")
        #expect(cat.pid > 0)
        cat.kill()
        #expect(try cat.block(timeout: 30) == -SIGKILL)
        #expect(throws: SpawnError.self) { try Envoy.connect("a | b") }
    }
}

@Suite("envoy: bounded memory", .serialized, .timeLimit(.minutes(5)))
struct EnvoyMemoryTests {
    /// 200 MB through a three-stage pipeline, its output streamed back: this process's peak RSS
    /// stays under 64 MB (measured in a process of its own).
    @Test func twoHundredMegabytesInBoundedMemory() async {
        await #expect(processExitsWith: .success) {
            final class Count: @unchecked Sendable { var bytes = 0 }
            let count = Count()
            let response = try? Envoy.run(
                "head -c 200000000 /dev/zero | tr '\\0' x | cat", stdoutHandler: { count.bytes += $0.count })
            guard count.bytes == 200_000_000, response?.statusCode == 0 else { exit(2) }
            let status = (try? String(contentsOfFile: "/proc/self/status", encoding: .utf8)) ?? ""
            let peak = status.split(separator: "\n").first { $0.hasPrefix("VmHWM:") }
            let kilobytes = peak.flatMap { Int($0.split(separator: " ").dropFirst().first ?? "") } ?? .max
            exit(kilobytes < 64 * 1024 ? 0 : 1)
        }
    }
}
