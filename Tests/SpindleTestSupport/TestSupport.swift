// Helpers every Spindle test target uses: shared state, threads that fail loudly instead of
// hanging, polling with a generous bound, and process-level counts for leak tests.
import Glibc
import SpindleSystem
import SpindleThreading
import Synchronization

/// A value shared between threads, guarded by its own lock.
public final class Shared<Value: Sendable>: Sendable {
    let guarded: Locked<Value>
    public init(_ value: Value) { guarded = Locked(value) }
    public var value: Value { guarded.withLock { $0 } }
    @discardableResult
    public func update<R: Sendable>(_ body: (inout Value) -> R) -> R { guarded.withLock { body(&$0) } }
}

/// A counter threads can bump.
public final class Counter: Sendable {
    let storage = Atomic<Int>(0)
    public init() {}
    public func increment() { storage.wrappingAdd(1, ordering: .relaxed) }
    public func add(_ n: Int) { storage.wrappingAdd(n, ordering: .relaxed) }
    public var value: Int { storage.load(ordering: .relaxed) }
}

/// Starts a daemon thread running `body`.
@discardableResult
public func spawn(_ body: @escaping @Sendable () throws -> Void) throws -> SpindleThread {
    let thread = SpindleThread(daemon: true, target: body)
    try thread.start()
    return thread
}

/// Joins `thread`, failing loudly instead of hanging.
public func finish(_ thread: SpindleThread, timeout: Double = 60) throws {
    let done = try thread.join(timeout: timeout)
    precondition(done, "a test thread did not finish within \(timeout) s")
}

/// Sleeps the calling thread.
public func sleepSeconds(_ seconds: Double) { usleep(UInt32(seconds * 1_000_000)) }

/// Seconds on the monotonic clock.
public func monotonicSeconds() -> Double { Double(Deadline.now.nanoseconds) / 1e9 }

/// Polls `condition` until it holds or `timeout` passes (for "wait until N threads are blocked").
public func waitUntil(timeout: Double = 30, _ condition: () -> Bool) -> Bool {
    let deadline = Deadline.after(seconds: timeout)
    while !condition() {
        if deadline.hasPassed { return false }
        usleep(1_000)
    }
    return true
}

/// Polls `condition` from a task without blocking a thread of the cooperative pool.
public func waitUntilAsync(timeout: Double = 300, _ condition: () -> Bool) async -> Bool {
    let deadline = Deadline.after(seconds: timeout)
    while !condition() {
        if deadline.hasPassed { return false }
        try? await Task.sleep(nanoseconds: 1_000_000)
    }
    return true
}

/// Bytes as UTF-8 text.
public func text(_ bytes: [UInt8]?) -> String? { bytes.map { String(decoding: $0, as: UTF8.self) } }

/// The names in a directory, without "." and "..".
func directoryEntries(_ path: String) -> [String] {
    guard let dir = opendir(path) else { return [] }
    defer { closedir(dir) }
    var names: [String] = []
    while let entry = readdir(dir) {
        let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        if name != "." && name != ".." { names.append(name) }
    }
    return names
}

/// The first `limit` bytes of a file as text, or `nil`.
func readSmallFile(_ path: String, limit: Int = 65536) -> String? {
    guard let file = fopen(path, "r") else { return nil }
    defer { fclose(file) }
    var buffer = [CChar](repeating: 0, count: limit)
    let n = fread(&buffer, 1, buffer.count - 1, file)
    return String(decoding: buffer.prefix(n).map { UInt8(bitPattern: $0) }, as: UTF8.self)
}

/// The number of OS threads in this process.
public func osThreadCount() -> Int { directoryEntries("/proc/self/task").count }

/// The kernel thread ids among `tids` that still exist in this process.
///
/// A leak test checks the threads it made, not the process's count: other suites run beside it.
public func livingThreads(_ tids: [Int]) -> [Int] {
    let living = Set(directoryEntries("/proc/self/task").compactMap { Int($0) })
    return tids.filter { living.contains($0) }
}

/// The number of open descriptors of this process.
public func openDescriptorCount() -> Int { directoryEntries("/proc/self/fd").count - 1 }  // less opendir's own

/// The pids of this process's children (of every thread).
public func childPids() -> [Int32] {
    directoryEntries("/proc/self/task").flatMap { task in
        (readSmallFile("/proc/self/task/\(task)/children") ?? "").split(separator: " ").compactMap { Int32($0) }
    }
}

/// Whether process `pid` exists (and is not a zombie).
public func processAlive(_ pid: Int32) -> Bool {
    guard let stat = readSmallFile("/proc/\(pid)/stat", limit: 1024), let close = stat.lastIndex(of: ")") else {
        return false
    }
    let state = stat[stat.index(close, offsetBy: 2)]
    return state != "Z" && state != "X"
}

/// The number of open descriptors of the kinds Spindle opens for children: pipes, pidfds,
/// sockets and /dev/null above 2. (Counting every descriptor would also count those the Swift
/// runtime opens lazily, such as Dispatch's epoll and timer descriptors.)
public func childRelatedDescriptorCount() -> Int {
    directoryEntries("/proc/self/fd").filter { name in
        guard let fd = Int(name), fd > 2 else { return false }
        var buffer = [CChar](repeating: 0, count: 256)
        let n = readlink("/proc/self/fd/\(fd)", &buffer, 255)
        guard n > 0 else { return false }
        let target = String(decoding: buffer.prefix(n).map { UInt8(bitPattern: $0) }, as: UTF8.self)
        return target.hasPrefix("pipe:") || target.hasPrefix("socket:") || target == "anon_inode:[pidfd]"
            || target == "/dev/null"
    }.count
}
