import Foundation
import Glibc
import SpindleSubprocess
import SpindleSupervisor
import SpindleSupervisorServer
import SpindleSystem
import SpindleTestSupport

/// A fresh temporary directory, removed (with every process still running from it) by `remove()`.
final class TestDirectory: Sendable {
    let path: String

    init(_ prefix: String = "spindled") {
        var template = Array("/tmp/\(prefix)-XXXXXX".utf8CString)
        let made = template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }
        precondition(made != nil, "mkdtemp failed")
        path = String(decoding: template.dropLast().map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// Writes `text` to `name` inside the directory.
    @discardableResult
    func write(_ name: String, _ text: String, mode: mode_t = 0o644) -> String {
        let full = file(name)
        _ = FileManager.default.createFile(atPath: full, contents: Data(text.utf8))
        chmod(full, mode)
        return full
    }

    func file(_ name: String) -> String { path + "/" + name }

    func read(_ name: String) -> String { (try? String(contentsOfFile: file(name), encoding: .utf8)) ?? "" }

    func exists(_ name: String) -> Bool { access(file(name), F_OK) == 0 }

    /// Kills every process whose command line mentions the directory, then removes it.
    func remove() {
        ProcessSweeper.kill(mentioning: path)
        try? FileManager.default.removeItem(atPath: path)
    }
}

/// Finds processes by their command line, for cleanup that no path can escape.
enum ProcessSweeper {
    /// The pids (other than this process) whose command line contains `text`.
    static func pids(mentioning text: String) -> [Int32] {
        let me = getpid()
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return entries.compactMap { Int32($0) }.filter { pid in
            guard pid != me, let data = FileManager.default.contents(atPath: "/proc/\(pid)/cmdline") else { return false }
            let line = String(decoding: data.map { $0 == 0 ? 32 : $0 }, as: UTF8.self)
            return line.contains(text)
        }
    }

    /// SIGKILLs them, and waits (up to 5 s) for them to be gone.
    static func kill(mentioning text: String) {
        for _ in 0..<3 {
            let found = pids(mentioning: text)
            if found.isEmpty { return }
            for pid in found { Glibc.kill(pid, SIGKILL) }
            _ = waitUntil(timeout: 5) { found.allSatisfy { !processAlive($0) } }
        }
    }
}

/// What a finished command printed.
struct CommandOutput: Sendable, CustomStringConvertible {
    var stdout: String
    var stderr: String
    var status: Int32

    var description: String { "status \(status)\n--- stdout:\n\(stdout)--- stderr:\n\(stderr)" }
}

/// Runs a command to completion (killed after `timeout`).
func runCommand(_ args: [String], input: String? = nil, timeout: Double = 60, cwd: String? = nil) -> CommandOutput {
    do {
        let done = try Subprocess.run(
            args, input: input.map { Array($0.utf8) } ?? [], captureOutput: true, timeout: timeout, cwd: cwd)
        return CommandOutput(stdout: done.stdoutText ?? "", stderr: done.stderrText ?? "", status: done.returncode)
    } catch let error as TimeoutExpired {
        return CommandOutput(
            stdout: text(error.output) ?? "", stderr: (text(error.stderr) ?? "") + "\n[timed out after \(timeout) s]", status: -1)
    } catch {
        return CommandOutput(stdout: "", stderr: "\(error)", status: -1)
    }
}

/// The built executables next to the test bundle.
enum Binaries {
    static var directory: String {
        let me = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? ""
        return (me as NSString).deletingLastPathComponent
    }

    static var spindled: String { directory + "/spindled" }
    static var spindlectl: String { directory + "/spindlectl" }
}

/// supervisor 4.3.0 from PyPI, installed once per test run.
enum ReferenceSupervisor {
    /// Whether it could be installed (pip is reachable); the reason when not.
    static let installation: (ok: Bool, why: String) = {
        let install = runCommand(["python3", "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "supervisor==4.3.0"], timeout: 300)
        let check = runCommand(["python3", "-c", "import importlib.metadata as m; print(m.version('supervisor'))"])
        if check.status == 0, check.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "4.3.0" { return (true, "") }
        return (false, "supervisor 4.3.0 could not be installed from PyPI (pip unreachable?): \(install.stderr.suffix(300))")
    }()

    static var available: Bool { installation.ok }

    static let supervisord = ["python3", "-m", "supervisor.supervisord"]
    static let supervisorctl = ["python3", "-m", "supervisor.supervisorctl"]
}

/// A supervisor daemon run in the foreground (`-n`) as a child of the test: supervisord or spindled.
final class DaemonProcess: @unchecked Sendable {
    let popen: Popen
    let directory: TestDirectory
    let socket: String

    /// Starts `command -n -c config`, its output into `daemon.out` in the directory.
    init(_ command: [String], config: String, directory: TestDirectory, socket: String) throws {
        popen = try Popen(
            command + ["-n", "-c", config], stdin: .devnull, stdout: .path(directory.file("daemon.out")), stderr: .stdout,
            cwd: directory.path)
        self.directory = directory
        self.socket = socket
    }

    /// The XML-RPC client of its UNIX socket.
    var client: SupervisorClient { SupervisorClient(serverURL: "unix://" + socket) }

    /// Waits until it answers.
    func waitUntilServing(timeout: Double = 30) -> Bool {
        waitUntil(timeout: timeout) {
            if popen.poll() != nil { return true }
            return (try? client.call("supervisor.getState")) != nil
        } && popen.poll() == nil
    }

    /// Waits until every named process is in its state.
    func waitFor(_ states: [String: ProcessState], timeout: Double = 30) -> Bool {
        waitUntil(timeout: timeout) {
            guard let infos = try? client.call("supervisor.getAllProcessInfo").arrayValue else { return false }
            return states.allSatisfy { name, state in
                infos.contains { info in
                    let spec = Supervisor.makeName(group: info["group"]?.stringValue ?? "", process: info["name"]?.stringValue ?? "")
                    return spec == name && info["state"]?.intValue == state.rawValue
                }
            }
        }
    }

    /// SIGTERM, then SIGKILL after `timeout`; reaps it.
    func stop(timeout: Double = 20) {
        if popen.poll() == nil {
            popen.terminate()
            if (try? popen.wait(timeout: timeout)) == nil {
                popen.kill()
                _ = try? popen.wait(timeout: 5)
            }
        }
    }
}

/// A TCP port nothing listens on now.
func freePort() -> Int {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    defer { close(fd) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    address.sin_port = 0
    _ = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) } }
    return Int(UInt16(bigEndian: address.sin_port))
}
