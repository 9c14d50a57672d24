import Foundation
import Glibc
import SpindleSystem

/// A fresh temporary directory, removed by `remove()`.
struct TemporaryDirectory {
    let path: String

    init() {
        var template = Array("/tmp/spindle-supervisor-XXXXXX".utf8CString)
        let made = template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }
        precondition(made != nil, "mkdtemp failed")
        path = String(decoding: template.dropLast().map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// Writes `text` to `name` inside the directory (creating subdirectories).
    @discardableResult
    func write(_ name: String, _ text: String) -> String {
        let full = path + "/" + name
        let dir = (full as NSString).deletingLastPathComponent
        try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        _ = FileManager.default.createFile(atPath: full, contents: Data(text.utf8))
        return full
    }

    func file(_ name: String) -> String { path + "/" + name }

    func remove() { try? FileManager.default.removeItem(atPath: path) }
}

func monotonicSeconds() -> Double { Double(Deadline.now.nanoseconds) / 1e9 }

/// Polls `condition` every 10 ms until it holds or `timeout` passes (test-side only).
func eventually(timeout: Double = 20, _ condition: () -> Bool) -> Bool {
    let deadline = Deadline.after(seconds: timeout)
    while !condition() {
        if deadline.hasPassed { return false }
        usleep(10_000)
    }
    return true
}

/// Whether a process with `pid` exists (and is not a zombie).
func processAlive(_ pid: Int32) -> Bool {
    guard pid > 0 else { return false }
    guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8) else { return false }
    guard let close = stat.lastIndex(of: ")") else { return false }
    let rest = stat[stat.index(close, offsetBy: 2)...]
    return !rest.hasPrefix("Z")
}
