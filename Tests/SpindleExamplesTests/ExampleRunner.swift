import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// What a run of the spindle-examples binary produced.
struct ExampleRun: Sendable {
    /// The exit status, or the number of the signal that ended the process.
    let status: Int32
    /// Whether the process exited (rather than being killed by a signal).
    let exited: Bool
    /// Whether the run was cut short because it went past its time bound.
    let timedOut: Bool
    /// Standard output, as written.
    let stdout: String
    /// Standard error, as written.
    let stderr: String

    /// Standard output's lines, with ANSI escape sequences and carriage returns taken out.
    var lines: [String] {
        var text = plainText(stdout)
        if text.hasSuffix("\n") { text.removeLast() }
        return text.isEmpty ? [] : text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
    }

    /// The run in a few lines, for failure messages.
    var summary: String {
        let ending = timedOut ? "timed out and was killed" : exited ? "exited with status \(status)" : "killed by signal \(status)"
        return "spindle-examples \(ending)\n--- stdout:\n\(stdout)\n--- stderr:\n\(stderr)"
    }
}

/// `text` without ANSI escape sequences ("ESC [ ... letter") and carriage returns.
func plainText(_ text: String) -> String {
    var result = ""
    var iterator = text.unicodeScalars.makeIterator()
    while let scalar = iterator.next() {
        if scalar == "\u{1B}" {
            guard let next = iterator.next() else { break }
            if next == "[" {
                while let c = iterator.next(), !(("A"..."Z").contains(c) || ("a"..."z").contains(c)) {}
            }
            continue
        }
        if scalar == "\r" { continue }
        result.unicodeScalars.append(scalar)
    }
    return result
}

/// Where the child's standard input comes from.
enum ChildInput {
    /// /dev/null: at its end at once.
    case null
    /// A pipe the test keeps open until the child exits; `Running.send` writes to it.
    case pipe
    /// A descriptor the test owns (a terminal, for instance).
    case descriptor(Int32)
}

/// Output read from a child as it comes, shared between the reading thread and the test.
final class OutputBuffer: @unchecked Sendable {
    private let lock = NSLock()
    private var data = Data()
    private var finished = false

    func append(_ chunk: Data) { lock.withLock { data.append(chunk) } }
    func finish() { lock.withLock { finished = true } }
    var isFinished: Bool { lock.withLock { finished } }
    var text: String { lock.withLock { String(decoding: data, as: UTF8.self) } }

    /// Reads `handle` to its end on a thread of its own. (Not on a Dispatch queue: its few
    /// threads would be taken by blocking reads, holding up the other tests' readers.) The
    /// thread keeps `handle`, and so its descriptor, alive until it has read everything.
    func drain(_ handle: FileHandle) {
        Thread.detachNewThread { [self] in
            var buffer = [UInt8](repeating: 0, count: 65_536)
            while true {
                let count = read(handle.fileDescriptor, &buffer, buffer.count)
                if count > 0 {
                    append(Data(buffer[0..<count]))
                } else if count < 0, errno == EINTR {
                    continue
                } else {
                    break
                }
            }
            finish()
        }
    }
}

/// Set by the child's termination handler.
final class ExitFlag: @unchecked Sendable {
    private let lock = NSLock()
    private var value = false
    func set() { lock.withLock { value = true } }
    var isSet: Bool { lock.withLock { value } }
}

/// A child that is running, for tests that act on it before it ends.
struct Running: Sendable {
    let pid: Int32
    let stdout: OutputBuffer
    let input: FileHandle?

    /// Writes `text` to the child's standard input pipe.
    func send(_ text: String) throws {
        try input?.write(contentsOf: Data(text.utf8))
    }

    /// Sends `signal` to the child.
    func signal(_ signal: Int32) { kill(pid, signal) }

    /// Waits until standard output contains `text`.
    /// - Returns: Whether it did within `timeout` seconds.
    func waitForOutput(containing text: String, timeout: Double = 20) async -> Bool {
        await waitUntil(timeout: timeout) { stdout.text.contains(text) }
    }
}

/// Polls `condition` every 10 ms until it holds or `timeout` seconds pass.
/// - Returns: Whether it held.
func waitUntil(timeout: Double, _ condition: () -> Bool) async -> Bool {
    let deadline = Date().addingTimeInterval(timeout)
    while !condition() {
        if Date() >= deadline { return false }
        try? await Task.sleep(nanoseconds: 10_000_000)
    }
    return true
}

enum ExampleRunner {
    struct MissingBinary: Error, CustomStringConvertible {
        let path: String
        var description: String {
            "the spindle-examples binary is missing at \(path); build the package first "
                + "(swift build --scratch-path .build-examples)"
        }
    }

    /// The built binary, next to this test bundle.
    static func binary() throws -> URL {
        let me = try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")
        let path = URL(fileURLWithPath: me).deletingLastPathComponent().appendingPathComponent("spindle-examples").path
        guard FileManager.default.isExecutableFile(atPath: path) else { throw MissingBinary(path: path) }
        return URL(fileURLWithPath: path)
    }

    /// Runs spindle-examples with `arguments` and collects what it writes.
    /// - Parameters:
    ///   - arguments: The command-line arguments.
    ///   - input: Where standard input comes from.
    ///   - timeout: Seconds after which the child is taken to hang and is killed.
    ///   - environment: Variables added to the child's environment.
    ///   - whileRunning: What to do once the child has started (send keys, signals).
    /// - Returns: The run.
    static func run(
        _ arguments: [String],
        input: ChildInput = .null,
        timeout: Double = 30,
        environment: [String: String] = [:],
        whileRunning: (@Sendable (Running) async throws -> Void)? = nil
    ) async throws -> ExampleRun {
        signal(SIGPIPE, SIG_IGN)  // a child that is gone must not kill the test runner
        let process = Process()
        process.executableURL = try binary()
        process.arguments = arguments
        if !environment.isEmpty {
            process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        }
        let stdoutPipe = Pipe()
        let stderrPipe = Pipe()
        process.standardOutput = stdoutPipe
        process.standardError = stderrPipe
        var inputPipe: Pipe?
        switch input {
        case .null:
            process.standardInput = FileHandle.nullDevice
        case .pipe:
            let pipe = Pipe()
            inputPipe = pipe
            process.standardInput = pipe
        case .descriptor(let fd):
            process.standardInput = FileHandle(fileDescriptor: fd, closeOnDealloc: false)
        }
        let exitFlag = ExitFlag()
        process.terminationHandler = { _ in exitFlag.set() }

        try process.run()
        let stdout = OutputBuffer()
        let stderr = OutputBuffer()
        stdout.drain(stdoutPipe.fileHandleForReading)
        stderr.drain(stderrPipe.fileHandleForReading)
        try? stdoutPipe.fileHandleForWriting.close()
        try? stderrPipe.fileHandleForWriting.close()
        try? inputPipe?.fileHandleForReading.close()

        let running = Running(pid: process.processIdentifier, stdout: stdout, input: inputPipe?.fileHandleForWriting)
        var actionError: (any Error)?
        if let whileRunning {
            do { try await whileRunning(running) } catch { actionError = error }
        }
        var timedOut = false
        if !(await waitUntil(timeout: timeout, { exitFlag.isSet })) {
            timedOut = true
            kill(process.processIdentifier, SIGKILL)
            _ = await waitUntil(timeout: 10) { exitFlag.isSet }
        }
        try? inputPipe?.fileHandleForWriting.close()
        _ = await waitUntil(timeout: 10) { stdout.isFinished && stderr.isFinished }
        if let actionError { throw actionError }
        return ExampleRun(
            status: process.terminationStatus,
            exited: process.terminationReason == .exit,
            timedOut: timedOut,
            stdout: stdout.text,
            stderr: stderr.text)
    }
}
