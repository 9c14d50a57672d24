import Glibc
import SpindleMultiprocessing
import SpindleSystem
import SpindleThreading
import Testing

/// The worker program of these tests (Tests/Fixtures/spindle-mp-fixture), built next to the
/// test bundle; `use()` makes it the program worker processes run.
enum Fixture {
    static let path: String = {
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        let n = readlink("/proc/self/exe", &buffer, buffer.count - 1)
        let exe = String(decoding: buffer.prefix(max(0, n)).map { UInt8(bitPattern: $0) }, as: UTF8.self)
        let directory = exe.split(separator: "/", omittingEmptySubsequences: false).dropLast().joined(separator: "/")
        return directory + "/spindle-mp-fixture"
    }()

    /// Points worker processes at the fixture (every test calls it first).
    static func use() {
        precondition(access(path, X_OK) == 0, "the fixture \(path) is missing: build it with the tests")
        Multiprocessing.setExecutable(path)
    }
}

/// The fixture's worker functions, as the parent knows them: names and types, no bodies.
enum Fx {
    static let square = WorkerFunction<Int, Int>.remote("square")
    static let add = WorkerFunction<ArgumentTuple<Int, Int>, Int>.remote("add")
    static let sum = WorkerFunction<[Int], Int>.remote("sum")
    static let pid = WorkerFunction<Int, Int32>.remote("pid")
    static let fail = WorkerFunction<String, Int>.remote("fail")
    static let failOdd = WorkerFunction<Int, Int>.remote("failOdd")
    static let killSelf = WorkerFunction<Int32, Int>.remote("killSelf")
    static let exitWith = WorkerFunction<Int32, Int>.remote("exitWith")
    static let sleep = WorkerFunction<Double, Int32>.remote("sleep")
    static let hang = WorkerFunction<Int, Int>.remote("hang")
    static let recordPidAndSleep = WorkerFunction<ArgumentTuple<String, Double>, NoResult>.remote("recordPidAndSleep")
    static let touchOnce = WorkerFunction<ArgumentTuple<String, Int>, Int>.remote("touchOnce")
    static let echo = WorkerFunction<Connection, NoResult>.remote("echo")
    static let doubleIDs = WorkerFunction<Connection, NoResult>.remote("doubleIDs")
    static let whoAmI = WorkerFunction<Connection, NoResult>.remote("whoAmI")
    static let roundTrip = WorkerFunction<Sample, Sample>.remote("roundTrip")
    static let setGlobal = WorkerFunction<String, NoResult>.remote("setGlobal")
    static let readGlobal = WorkerFunction<Int, String>.remote("readGlobal")
    static let failInit = WorkerFunction<Int, NoResult>.remote("failInit")
    static let sharedIncrement = WorkerFunction<ArgumentTuple<String, Int>, NoResult>.remote("sharedIncrement")
    static let writeShared = WorkerFunction<ArgumentTuple<String, String>, Int>.remote("writeShared")
    /// Not registered in the fixture.
    static let missing = WorkerFunction<Int, Int>.remote("noSuchFunction")
    /// Registered in the fixture, but as (Int -> Int).
    static let squareOfStrings = WorkerFunction<String, String>.remote("square")
}

/// The fixture's Sample (the same name and shape, so the signatures match).
struct Sample: Codable, Equatable, Sendable {
    var id: Int
    var name: String
    var ratio: Double
    var tags: [String]
    var nested: [String: [Int]]
    var optional: Int?
    var blob: [UInt8]

    static func make(_ id: Int) -> Sample {
        Sample(
            id: id, name: "sample \(id) ✓", ratio: Double(id) / 3, tags: ["a", "b\(id)"],
            nested: ["x": [id, -id], "y": []], optional: id % 2 == 0 ? nil : id, blob: [0, 255, UInt8(id % 256)])
    }
}

func monotonicSeconds() -> Double { Double(Deadline.now.nanoseconds) / 1e9 }

func sleepSeconds(_ seconds: Double) { usleep(UInt32(seconds * 1_000_000)) }

/// Polls `condition` until it holds or `timeout` passes.
func waitUntil(timeout: Double = 30, _ condition: () -> Bool) -> Bool {
    let deadline = Deadline.after(seconds: timeout)
    while !condition() {
        if deadline.hasPassed { return false }
        usleep(2_000)
    }
    return true
}

/// Starts a daemon thread running `body`.
@discardableResult
func spawn(_ body: @escaping @Sendable () throws -> Void) throws -> SpindleThread {
    let thread = SpindleThread(daemon: true, target: body)
    try thread.start()
    return thread
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

/// Whether process `pid` exists and is not a zombie.
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

/// The parent pid of process `pid`, from /proc.
func parentOf(_ pid: Int32) -> Int32? {
    guard let file = fopen("/proc/\(pid)/stat", "r") else { return nil }
    defer { fclose(file) }
    var buffer = [CChar](repeating: 0, count: 1024)
    let n = fread(&buffer, 1, buffer.count - 1, file)
    let stat = String(decoding: buffer.prefix(n).map { UInt8(bitPattern: $0) }, as: UTF8.self)
    guard let close = stat.lastIndex(of: ")") else { return nil }
    let fields = stat[stat.index(close, offsetBy: 2)...].split(separator: " ")
    return fields.count > 1 ? Int32(fields[1]) : nil
}

/// A fresh empty directory under /tmp.
func makeTemporaryDirectory() -> String {
    var template = Array("/tmp/spindle-mp-XXXXXX".utf8CString)
    let result = template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }
    precondition(result != nil, "mkdtemp failed")
    return String(decoding: template.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
}

/// Removes a directory made by `makeTemporaryDirectory` and the files in it.
func removeDirectory(_ path: String) {
    if let dir = opendir(path) {
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            if name != "." && name != ".." { unlink("\(path)/\(name)") }
        }
        closedir(dir)
    }
    rmdir(path)
}

/// The number of entries in a directory (without "." and "..").
func entryCount(_ path: String) -> Int {
    guard let dir = opendir(path) else { return -1 }
    defer { closedir(dir) }
    var count = 0
    while readdir(dir) != nil { count += 1 }
    return count - 2
}
