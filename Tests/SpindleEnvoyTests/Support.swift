import Glibc
import SpindleSystem

import Synchronization

/// A value shared between threads, guarded by its own Mutex.
final class Shared<Value: Sendable>: Sendable {
    let mutex: Locked<Value>
    init(_ value: Value) { mutex = Locked(value) }
    var value: Value { mutex.withLock { $0 } }
    func update<R: Sendable>(_ body: (inout Value) -> R) -> R { mutex.withLock { body(&$0) } }
}

func sleepSeconds(_ seconds: Double) { usleep(UInt32(seconds * 1_000_000)) }
func monotonicSeconds() -> Double { Double(Deadline.now.nanoseconds) / 1e9 }

/// Polls `condition` until it holds or `timeout` passes.
func waitUntil(timeout: Double = 30, _ condition: () -> Bool) -> Bool {
    let deadline = Deadline.after(seconds: timeout)
    while !condition() {
        if deadline.hasPassed { return false }
        usleep(1_000)
    }
    return true
}

/// Polls `condition` from a task without blocking a thread of the cooperative pool.
func waitUntilAsync(timeout: Double = 30, _ condition: () -> Bool) async -> Bool {
    let deadline = Deadline.after(seconds: timeout)
    while !condition() {
        if deadline.hasPassed { return false }
        try? await Task.sleep(nanoseconds: 1_000_000)
    }
    return true
}

func text(_ bytes: [UInt8]?) -> String? { bytes.map { String(decoding: $0, as: UTF8.self) } }

/// The number of open descriptors of this process.
func openDescriptorCount() -> Int {
    guard let dir = opendir("/proc/self/fd") else { return -1 }
    defer { closedir(dir) }
    var count = 0
    while readdir(dir) != nil { count += 1 }
    return count - 3  // ".", ".." and the directory's own descriptor
}

/// The pids of this process's children (of every thread).
func childPids() -> [Int32] {
    var pids: [Int32] = []
    guard let dir = opendir("/proc/self/task") else { return [] }
    defer { closedir(dir) }
    while let entry = readdir(dir) {
        let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        guard name.first?.isNumber == true, let file = fopen("/proc/self/task/\(name)/children", "r") else { continue }
        var buffer = [CChar](repeating: 0, count: 65536)
        let n = fread(&buffer, 1, buffer.count - 1, file)
        fclose(file)
        let line = String(decoding: buffer.prefix(n).map { UInt8(bitPattern: $0) }, as: UTF8.self)
        pids += line.split(separator: " ").compactMap { Int32($0) }
    }
    return pids
}

/// Whether process `pid` exists (and is not a zombie).
func processAlive(_ pid: Int32) -> Bool {
    guard let file = fopen("/proc/\(pid)/stat", "r") else { return false }
    defer { fclose(file) }
    var buffer = [CChar](repeating: 0, count: 1024)
    let n = fread(&buffer, 1, buffer.count - 1, file)
    let stat = String(decoding: buffer.prefix(n).map { UInt8(bitPattern: $0) }, as: UTF8.self)
    guard let close = stat.lastIndex(of: ")") else { return false }
    let state = stat[stat.index(close, offsetBy: 2)]
    return state != "Z" && state != "X"
}
