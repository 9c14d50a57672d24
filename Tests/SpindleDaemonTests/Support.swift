import Foundation
import SpindleDaemon
import Testing
#if canImport(Glibc)
import Glibc
#endif

// MARK: - Sandboxes

/// A private temporary directory for one test, and the marker that finds every process the
/// test started: the environment variable `SPINDLE_DAEMON_TEST=<directory>`, which daemons
/// inherit. Cleaning up kills every process that carries the marker and removes the directory.
struct Sandbox: Sendable {
    /// The directory (absolute, no trailing slash).
    let directory: String

    /// The marker variable's name.
    static let markerName = "SPINDLE_DAEMON_TEST"

    /// The marker as it appears in /proc/PID/environ.
    var marker: String { "\(Self.markerName)=\(directory)" }

    /// `name` inside the directory.
    func path(_ name: String) -> String { directory + "/" + name }

    /// Creates the directory.
    static func make() throws -> Sandbox {
        var template = Array("/tmp/spindle-daemon-test.XXXXXX".utf8CString)
        guard mkdtemp(&template) != nil else { throw TestFailure("mkdtemp failed: \(String(cString: strerror(errno)))") }
        return Sandbox(directory: template.withUnsafeBufferPointer { String(cString: $0.baseAddress!) })
    }

    /// The pids of the live processes carrying this sandbox's marker.
    func markedProcesses() -> [pid_t] {
        guard let entries = try? FileManager.default.contentsOfDirectory(atPath: "/proc") else { return [] }
        let me = getpid()
        return entries.compactMap { pid_t($0) }.filter { pid in
            guard pid != me, let environ = FileManager.default.contents(atPath: "/proc/\(pid)/environ") else { return false }
            return environ.split(separator: 0).contains { String(decoding: $0, as: UTF8.self) == marker }
        }.filter(isAlive)
    }

    /// Kills every process with the marker and removes the directory.
    func cleanUp() {
        for _ in 0..<3 {
            let pids = markedProcesses()
            if pids.isEmpty { break }
            for pid in pids { kill(pid, SIGKILL) }
            usleep(50_000)
        }
        try? FileManager.default.removeItem(atPath: directory)
    }
}

/// Runs `body` with a fresh sandbox, cleaning up whatever happens.
func withSandbox(_ body: (Sandbox) async throws -> Void) async throws {
    let sandbox = try Sandbox.make()
    do {
        try await body(sandbox)
    } catch {
        sandbox.cleanUp()
        throw error
    }
    sandbox.cleanUp()
}

struct TestFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

// MARK: - Processes

/// Whether `pid` runs (exists and is not a zombie).
func isAlive(_ pid: pid_t) -> Bool {
    if kill(pid, 0) == -1, errno != EPERM { return false }
    guard let stat = procStat(pid) else { return false }
    return stat.state != "Z" && stat.state != "X"
}

/// The fields of /proc/PID/stat the tests look at.
struct ProcStat {
    var state: Character
    var ppid: pid_t
    var pgrp: pid_t
    var session: pid_t
    var ttyNumber: Int32
}

/// Reads /proc/PID/stat.
func procStat(_ pid: pid_t) -> ProcStat? {
    guard let data = FileManager.default.contents(atPath: "/proc/\(pid)/stat") else { return nil }
    let text = String(decoding: data, as: UTF8.self)
    guard let close = text.lastIndex(of: ")") else { return nil }
    let fields = text[text.index(after: close)...].split(separator: " ")
    guard fields.count >= 5, let state = fields[0].first, let ppid = pid_t(fields[1]), let pgrp = pid_t(fields[2]),
        let session = pid_t(fields[3]), let tty = Int32(fields[4])
    else { return nil }
    return ProcStat(state: state, ppid: ppid, pgrp: pgrp, session: session, ttyNumber: tty)
}

/// The pids from this process up to pid 1.
func ancestors(of pid: pid_t) -> [pid_t] {
    var chain: [pid_t] = []
    var current = pid
    while current > 1, let stat = procStat(current), !chain.contains(stat.ppid) {
        chain.append(stat.ppid)
        current = stat.ppid
    }
    return chain
}

/// The target of /proc/PID/fd/N for every open descriptor of `pid`.
func openDescriptors(of pid: pid_t) -> [Int32: String] {
    let directory = "/proc/\(pid)/fd"
    guard let entries = try? FileManager.default.contentsOfDirectory(atPath: directory) else { return [:] }
    var result: [Int32: String] = [:]
    for entry in entries {
        guard let fd = Int32(entry) else { continue }
        result[fd] = (try? FileManager.default.destinationOfSymbolicLink(atPath: directory + "/" + entry)) ?? "?"
    }
    return result
}

/// A field such as "Uid" from /proc/PID/status.
func procStatus(_ pid: pid_t, _ field: String) -> String? {
    guard let data = FileManager.default.contents(atPath: "/proc/\(pid)/status") else { return nil }
    for line in String(decoding: data, as: UTF8.self).split(separator: "\n") where line.hasPrefix(field + ":") {
        return line.dropFirst(field.count + 1).trimmingCharacters(in: .whitespaces)
    }
    return nil
}

/// A pid that belonged to a process that has exited and been reaped.
func deadPID() throws -> pid_t {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/bin/true")
    try process.run()
    process.waitUntilExit()
    let pid = process.processIdentifier
    #expect(!isAlive(pid))
    return pid
}

/// Polls `condition` every 10 ms until it holds or `timeout` seconds pass.
/// - Returns: Whether it held.
func eventually(timeout: Double = 10, _ condition: () -> Bool) async -> Bool {
    let deadline = Date().addingTimeInterval(timeout)
    while !condition() {
        if Date() >= deadline { return false }
        try? await Task.sleep(nanoseconds: 10_000_000)
    }
    return true
}

// MARK: - Files

/// The file's text, or "" when it cannot be read.
func contents(_ path: String) -> String {
    guard let data = FileManager.default.contents(atPath: path) else { return "" }
    return String(decoding: data, as: UTF8.self)
}

/// Writes `text` to `path`, replacing it.
func write(_ text: String, to path: String) throws {
    try Data(text.utf8).write(to: URL(fileURLWithPath: path))
}

func fileExists(_ path: String) -> Bool { access(path, F_OK) == 0 }

/// Whether some process holds a flock on `path`: an exclusive non-blocking lock fails.
func isFlockHeld(_ path: String) -> Bool {
    let fd = open(path, O_RDONLY | O_CLOEXEC)
    guard fd >= 0 else { return false }
    defer { close(fd) }
    if flock(fd, LOCK_EX | LOCK_NB) == 0 {
        flock(fd, LOCK_UN)
        return false
    }
    return errno == EWOULDBLOCK
}

/// The "key=value" lines of a report written by a child, as a dictionary.
func report(_ path: String) -> [String: String] {
    var result: [String: String] = [:]
    for line in contents(path).split(separator: "\n") {
        guard let equals = line.firstIndex(of: "=") else { continue }
        result[String(line[..<equals])] = String(line[line.index(after: equals)...])
    }
    return result
}

// MARK: - Forked children

/// How a forked child ended.
struct ChildExit: Equatable, CustomStringConvertible {
    /// The exit status, or the signal number when `signaled`.
    var code: Int32
    var signaled: Bool
    /// The child outlived the test's patience and was killed.
    var timedOut: Bool

    static func exited(_ code: Int32) -> ChildExit { ChildExit(code: code, signaled: false, timedOut: false) }
    static func killed(by signal: Int32) -> ChildExit { ChildExit(code: signal, signaled: true, timedOut: false) }

    var description: String {
        timedOut ? "timed out" : signaled ? "killed by signal \(code)" : "exited with status \(code)"
    }
}

/// A child forked from the test process.
///
/// The child starts with one thread (only the forking thread is copied), which is what
/// `DaemonContext.open()` needs. It must only run synchronous code and end with `_exit`
/// (`body`'s return value), never return into the test runner.
struct ForkedChild: Sendable {
    let pid: pid_t

    /// Forks; the child sets the sandbox marker, runs `body` and exits with its result.
    static func start(in sandbox: Sandbox, _ body: () -> Int32) -> ForkedChild {
        fflush(nil)
        let pid = fork()
        if pid == 0 {
            // Start as a program's main thread does: no signal blocked (the forking thread may
            // be a Dispatch worker, which blocks most of them).
            var none = sigset_t()
            sigemptyset(&none)
            sigprocmask(SIG_SETMASK, &none, nil)
            setenv(Sandbox.markerName, sandbox.directory, 1)
            _exit(body())
        }
        precondition(pid > 0, "fork failed: \(String(cString: strerror(errno)))")
        return ForkedChild(pid: pid)
    }

    /// Waits for the child to end, killing it after `timeout` seconds.
    func wait(timeout: Double = 20) async -> ChildExit {
        let deadline = Date().addingTimeInterval(timeout)
        var status: Int32 = 0
        while true {
            let result = waitpid(pid, &status, WNOHANG)
            if result == pid { break }
            if result == -1, errno != EINTR { return ChildExit(code: -1, signaled: false, timedOut: false) }
            if Date() >= deadline {
                kill(pid, SIGKILL)
                _ = waitpid(pid, &status, 0)
                return ChildExit(code: -1, signaled: false, timedOut: true)
            }
            try? await Task.sleep(nanoseconds: 5_000_000)
        }
        let signal = status & 0x7f
        if signal == 0 { return .exited((status >> 8) & 0xff) }
        return .killed(by: signal)
    }
}

/// Runs `body` in a forked child and waits for it.
func runForked(in sandbox: Sandbox, timeout: Double = 20, _ body: () -> Int32) async -> ChildExit {
    await ForkedChild.start(in: sandbox, body).wait(timeout: timeout)
}

/// Writes `text` to `fd` in one call, for children reporting through a descriptor.
func emit(_ text: String, to fd: Int32 = 1) {
    var text = text
    text.withUTF8 { bytes in
        var offset = 0
        while offset < bytes.count {
            let n = Glibc.write(fd, bytes.baseAddress! + offset, bytes.count - offset)
            if n <= 0 { return }
            offset += n
        }
    }
}

/// The calling process's umask, from /proc/self/status (reading it with umask(2) would change
/// it for a moment, under every other thread).
func currentUmask() -> mode_t {
    guard let field = procStatus(getpid(), "Umask"), let mask = mode_t(field, radix: 8) else { return 0o7777 }
    return mask
}

/// The calling process's working directory.
func currentDirectory() -> String {
    guard let cwd = getcwd(nil, 0) else { return "?" }
    defer { free(cwd) }
    return String(cString: cwd)
}

// MARK: - The spindle binary

/// What a run of the spindle binary produced.
struct CommandRun: CustomStringConvertible {
    var status: Int32
    var exited: Bool
    var stdout: String
    var stderr: String
    /// Seconds from start to exit.
    var seconds: Double
    /// Whether standard output and error reached end of file soon after the command exited:
    /// false means a process it left behind (the daemon) still holds them.
    var pipesClosed: Bool

    var description: String {
        "spindle \(exited ? "exited with status \(status)" : "killed by signal \(status)") after "
            + "\(String(format: "%.2f", seconds)) s\n--- stdout:\n\(stdout)\n--- stderr:\n\(stderr)"
    }
}

/// Output read from a pipe on a thread of its own.
final class PipeReader: @unchecked Sendable {
    private let lock = NSLock()
    private var data = Data()
    private var finished = false

    init(_ handle: FileHandle) {
        Thread.detachNewThread { [self] in
            var buffer = [UInt8](repeating: 0, count: 4096)
            while true {
                let count = read(handle.fileDescriptor, &buffer, buffer.count)
                if count > 0 {
                    lock.withLock { data.append(contentsOf: buffer[0..<count]) }
                } else if count < 0, errno == EINTR {
                    continue
                } else {
                    break
                }
            }
            lock.withLock { finished = true }
            try? handle.close()
        }
    }

    var isFinished: Bool { lock.withLock { finished } }
    var text: String { lock.withLock { String(decoding: data, as: UTF8.self) } }
}

enum Spindle {
    struct MissingBinary: Error, CustomStringConvertible {
        let path: String
        var description: String {
            "the spindle binary is missing at \(path); build it first "
                + "(swift build --scratch-path .build-daemon --build-tests)"
        }
    }

    /// The spindle binary built next to this test bundle.
    static func binary() throws -> URL {
        let me = try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")
        let path = URL(fileURLWithPath: me).deletingLastPathComponent().appendingPathComponent("spindle").path
        guard FileManager.default.isExecutableFile(atPath: path) else { throw MissingBinary(path: path) }
        return URL(fileURLWithPath: path)
    }

    /// Runs `spindle` with `arguments` in `sandbox` (its directory is the working directory and
    /// its marker is in the environment) and collects what it writes.
    static func run(_ arguments: [String], in sandbox: Sandbox, timeout: Double = 30) async throws -> CommandRun {
        signal(SIGPIPE, SIG_IGN)
        let process = Process()
        process.executableURL = try binary()
        process.arguments = arguments
        process.currentDirectoryURL = URL(fileURLWithPath: sandbox.directory)
        var environment = ProcessInfo.processInfo.environment
        environment[Sandbox.markerName] = sandbox.directory
        process.environment = environment
        process.standardInput = FileHandle.nullDevice
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        let start = Date()
        try process.run()
        let stdout = PipeReader(out.fileHandleForReading)
        let stderr = PipeReader(err.fileHandleForReading)
        try? out.fileHandleForWriting.close()
        try? err.fileHandleForWriting.close()
        let exited = await eventually(timeout: timeout) { !process.isRunning }
        if !exited {
            kill(process.processIdentifier, SIGKILL)
            _ = await eventually(timeout: 5) { !process.isRunning }
        }
        let seconds = Date().timeIntervalSince(start)
        let pipesClosed = await eventually(timeout: 3) { stdout.isFinished && stderr.isFinished }
        return CommandRun(
            status: process.terminationStatus,
            exited: process.terminationReason == .exit,
            stdout: stdout.text,
            stderr: stderr.text,
            seconds: seconds,
            pipesClosed: pipesClosed)
    }
}
