// Figures taken in a fresh process: memory peaks (a process's VmHWM only grows, so a figure taken
// after other benchmarks would include theirs). spindle-bench runs itself again as
// `spindle-bench --probe NAME`; the probe prints "key<TAB>value" lines on standard output.
#if canImport(Glibc)
import Glibc
#endif
import CBenchSupport

/// A probe: a name (`--probe NAME`) and its body, which prints "key\tvalue" lines.
struct Probe: Sendable {
    let name: String
    let run: @Sendable () -> Void
}

/// Resident memory now and its peak (VmRSS and VmHWM of /proc/self/status), in bytes.
func memoryStatus() -> (rss: Int, peak: Int) {
    var rss = 0
    var peak = 0
    guard let file = fopen("/proc/self/status", "r") else { return (0, 0) }
    defer { fclose(file) }
    var line = [CChar](repeating: 0, count: 256)
    while fgets(&line, Int32(line.count), file) != nil {
        let text = line.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
        let kilobytes = Int(text.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first ?? "") ?? 0
        if text.hasPrefix("VmRSS:") { rss = kilobytes * 1024 }
        if text.hasPrefix("VmHWM:") { peak = kilobytes * 1024 }
    }
    return (rss, peak)
}

/// Resets VmHWM to the current VmRSS (writes 5 to /proc/self/clear_refs); returns whether it could.
@discardableResult
func resetPeakMemory() -> Bool {
    let fd = open("/proc/self/clear_refs", O_WRONLY)
    guard fd >= 0 else { return false }
    defer { close(fd) }
    return write(fd, "5", 1) == 1
}

/// Prints one probe result line.
func probeOutput(_ key: String, _ value: Double) {
    print("\(key)\t\(value)")
}

/// Runs `spindle-bench --probe name` in a new process and returns its figures, or `nil` (with a
/// note) when it failed.
func runProbe(_ name: String) -> [String: Double]? {
    var buffer = [CChar](repeating: 0, count: 4096)
    let length = readlink("/proc/self/exe", &buffer, buffer.count - 1)
    guard length > 0 else {
        progress("   probe \(name) not run: cannot read /proc/self/exe")
        return nil
    }
    let exe = String(decoding: buffer[0..<length].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    var output: [UInt8] = []
    let status = rawSpawnCapture(CArgv([exe, "--probe", name]), into: &output)
    guard status == 0 else {
        progress("   probe \(name) failed: wait status \(status)")
        return nil
    }
    var figures: [String: Double] = [:]
    for line in String(decoding: output, as: UTF8.self).split(separator: "\n") {
        let fields = line.split(separator: "\t")
        if fields.count == 2, let value = Double(fields[1]) { figures[String(fields[0])] = value }
    }
    return figures
}

/// Calls of malloc, calloc and realloc (from every thread) made while `body` runs.
func countMallocs(_ body: () -> Void) -> Int {
    bench_malloc_count_start()
    body()
    return Int(bench_malloc_count_stop())
}
