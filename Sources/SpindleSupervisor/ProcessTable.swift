#if canImport(Glibc)
import Glibc
#endif

/// What `/proc` says about processes: the few fields of `/proc/PID/stat` that process-tree
/// tracking needs, and a process's initial environment.
enum ProcessTable {
    /// One process, from `/proc/PID/stat`.
    struct Entry: Equatable {
        var pid: Int32
        /// The state letter: R, S, D, Z, T...
        var state: UInt8
        var ppid: Int32
        var session: Int32
        /// Clock ticks after boot when it started.
        var startTime: UInt64

        var isZombie: Bool { state == UInt8(ascii: "Z") || state == UInt8(ascii: "X") }
    }

    /// The whole of a small file (a `/proc` file has no size to stat), or nil.
    static func contents(_ path: String, limit: Int = 1 << 20) -> [UInt8]? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        if fd < 0 { return nil }
        defer { close(fd) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while bytes.count < limit {
            let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n < 0, errno == EINTR { continue }
            if n < 0 { return nil }
            if n == 0 { break }
            bytes += chunk[0..<n]
        }
        return bytes
    }

    /// One process's entry, or nil once it is gone (or its entry cannot be read).
    static func entry(_ pid: Int32) -> Entry? {
        guard let bytes = contents("/proc/\(pid)/stat", limit: 4096) else { return nil }
        return parse(bytes)
    }

    /// Parses `/proc/PID/stat`: the name in parentheses may hold anything, so the fields are
    /// counted from its last `)`.
    static func parse(_ bytes: [UInt8]) -> Entry? {
        guard let open = bytes.firstIndex(of: UInt8(ascii: "(")),
            let close = bytes.lastIndex(of: UInt8(ascii: ")")),
            let pid = Int32(String(decoding: bytes[..<open], as: UTF8.self).trimmingWhitespace())
        else { return nil }
        let fields = bytes[(close + 1)...].split(separator: UInt8(ascii: " ")).map { String(decoding: $0, as: UTF8.self) }
        // After the name: state(3) ppid(4) pgrp(5) session(6) ... starttime(22).
        guard fields.count >= 20, let state = fields[0].utf8.first, let ppid = Int32(fields[1]),
            let session = Int32(fields[3]), let start = UInt64(fields[19])
        else { return nil }
        return Entry(pid: pid, state: state, ppid: ppid, session: session, startTime: start)
    }

    /// The pids of this process's children, from each of its threads' `/proc` `children` list
    /// (a child is listed under the thread that forked it; an orphan adopted by a subreaper
    /// under one of its threads), or nil where the kernel has no such lists.
    static func ownChildren() -> [Int32]? {
        var pids: [Int32] = []
        var sawList = false
        for tid in numberedEntries(of: "/proc/self/task") {
            guard let bytes = contents("/proc/self/task/\(tid)/children") else { continue }
            sawList = true
            for field in bytes.split(whereSeparator: { $0 == UInt8(ascii: " ") || $0 == UInt8(ascii: "\n") }) {
                if let pid = Int32(String(decoding: field, as: UTF8.self)) { pids.append(pid) }
            }
        }
        return sawList ? pids : nil
    }

    /// Every process's entry.
    static func all() -> [Entry] {
        numberedEntries(of: "/proc").compactMap(entry)
    }

    /// The all-digit names in a `/proc` directory (pids, or a process's thread ids).
    static func numberedEntries(of path: String) -> [Int32] {
        guard let dir = opendir(path) else { return [] }
        defer { closedir(dir) }
        var numbers: [Int32] = []
        while let item = readdir(dir) {
            let number = withUnsafeBytes(of: item.pointee.d_name) { raw -> Int32? in
                let name = raw.prefix(while: { $0 != 0 })
                guard !name.isEmpty, name.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }) else { return nil }
                return Int32(String(decoding: name, as: UTF8.self))
            }
            if let number { numbers.append(number) }
        }
        return numbers
    }

    /// Whether a process's initial environment (`/proc/PID/environ`) holds `variable` exactly
    /// (`NAME=value`).
    static func environment(of pid: Int32, contains variable: String) -> Bool {
        guard let bytes = contents("/proc/\(pid)/environ") else { return false }
        let wanted = Array(variable.utf8)
        return bytes.split(separator: 0, omittingEmptySubsequences: true).contains { $0.elementsEqual(wanted) }
    }

    /// Clock ticks since boot now, as `startTime` counts them.
    static var ticksNow: UInt64 {
        var now = timespec()
        clock_gettime(CLOCK_BOOTTIME, &now)
        let hertz = UInt64(max(1, sysconf(Int32(_SC_CLK_TCK))))
        return UInt64(now.tv_sec) * hertz + UInt64(now.tv_nsec) * hertz / 1_000_000_000
    }
}
