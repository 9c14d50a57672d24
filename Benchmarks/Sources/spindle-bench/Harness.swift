// The measuring harness every section uses: timing, repeats, a sink the optimizer cannot see
// through, and the result table with ratios and targets.
#if canImport(Glibc)
import Glibc
#endif
import Synchronization

// MARK: - Time and the optimizer

/// Nanoseconds of CLOCK_MONOTONIC.
@inline(__always)
func monotonicNanoseconds() -> UInt64 {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return UInt64(ts.tv_sec) &* 1_000_000_000 &+ UInt64(ts.tv_nsec)
}

/// Runs `body` and returns how long it took, in nanoseconds.
@inline(__always)
func timed(_ body: () throws -> Void) rethrows -> UInt64 {
    let start = monotonicNanoseconds()
    try body()
    return monotonicNanoseconds() &- start
}

/// Runs async `body` and returns how long it took, in nanoseconds.
@inline(__always)
func timed(_ body: () async throws -> Void) async rethrows -> UInt64 {
    let start = monotonicNanoseconds()
    try await body()
    return monotonicNanoseconds() &- start
}

private let sink = Atomic<Int>(0)

/// Publishes `value` where the optimizer must assume someone reads it, so the work that
/// produced it cannot be deleted.
@inline(never)
func blackHole(_ value: Int) {
    sink.store(value, ordering: .relaxed)
}

/// Stops the run when a benchmark's own result is wrong (a lost increment means a broken lock,
/// and a figure from a broken run is worthless).
func check(_ condition: Bool, _ message: @autoclosure () -> String) {
    if !condition {
        writeStandardError("spindle-bench: check failed: \(message())\n")
        exit(2)
    }
}

/// A heap counter reached through a pointer, so every lock flavour increments memory the same
/// way (a class property would add exclusivity checks that differ from loop to loop).
final class Counter: @unchecked Sendable {
    let pointer: UnsafeMutablePointer<Int>

    init() {
        pointer = .allocate(capacity: 1)
        pointer.initialize(to: 0)
    }

    deinit { pointer.deallocate() }

    @inline(__always)
    func increment() { pointer.pointee &+= 1 }

    var value: Int { pointer.pointee }
}

// MARK: - Options

/// What the command line asked for.
struct Options: Sendable {
    /// How many times each figure is measured; the best run is reported.
    var repeats = 5
    /// Scales every iteration count (0.1 for a quick smoke run).
    var scale = 1.0
    /// Whether the CPython peers run (they need `python3`).
    var python = true
    /// When set, only the figures whose name contains it are measured (for profiling one).
    var only: String?
    /// Before each run, wait up to this many seconds for other processes to leave the CPUs idle
    /// (0: do not wait). This is a shared machine; see `Sample.othersBusy`.
    var quietWait = 0.0

    /// `count` scaled, and at least 1.
    func scaled(_ count: Int) -> Int { max(1, Int((Double(count) * scale).rounded())) }
}

// MARK: - Measurements and comparisons

/// One measured figure: the time of each run, per operation.
struct Sample: Sendable {
    let name: String
    let operations: Int
    let nanosecondsPerOp: [Double]
    /// For each run, the share of the machine's CPU time that other processes used meanwhile
    /// (this is a shared machine: a figure taken while others compile is worth less).
    var othersBusy: [Double] = []
    /// Which table row shows it (set by `Bench.add`); the same figure may be shown twice.
    var row = -1

    var best: Double { nanosecondsPerOp.min() ?? .nan }
    /// `othersBusy` of the best run, or NaN when not known.
    var othersBusyOfBest: Double {
        guard let index = nanosecondsPerOp.indices.min(by: { nanosecondsPerOp[$0] < nanosecondsPerOp[$1] }),
            index < othersBusy.count
        else { return .nan }
        return othersBusy[index]
    }
    var median: Double {
        let sorted = nanosecondsPerOp.sorted()
        guard !sorted.isEmpty else { return .nan }
        let mid = sorted.count / 2
        return sorted.count % 2 == 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2
    }
}

/// A Spindle figure set against a peer's: `ratio` is Spindle's time over the peer's, so below
/// 1 means Spindle is faster.
struct Comparison: Sendable {
    let group: String
    let subject: String
    let peer: String
    let ratio: Double
    /// The largest acceptable ratio, or `nil` when the comparison is only reported.
    let maxRatio: Double?

    var verdict: String {
        guard let maxRatio else { return "info" }
        guard ratio.isFinite else { return "n/a" }
        return ratio <= maxRatio ? "PASS" : "FAIL"
    }
}

/// A figure that is not a time per operation (memory, allocations, a speed-up), with its target
/// when it has one. Listed after the table; one with a target counts with the comparisons.
struct Fact: Sendable {
    let group: String
    let name: String
    let value: String
    /// The target in words ("≤ 2.0x the output"), or `nil` when it is only reported.
    let target: String?
    let passed: Bool?

    var verdict: String { passed.map { $0 ? "PASS" : "FAIL" } ?? "info" }
}

/// A table row: a figure, with its comparison when it is a Spindle figure.
struct Row: Sendable {
    var sample: Sample
    var comparison: Comparison?
}

/// A titled block of rows in the table.
struct Group: Sendable {
    /// A short name for it ("1a"), used where a comparison is listed outside the table.
    let tag: String
    let title: String
    var rows: [Row] = []
}

/// Collects figures while a section runs and prints them as one table at the end.
final class Bench {
    let options: Options
    private(set) var groups: [Group] = []
    /// Comparisons beyond each row's main one (a second peer), listed after the table.
    private(set) var extraComparisons: [Comparison] = []
    /// Figures other than times, listed after the table.
    private(set) var facts: [Fact] = []

    init(options: Options) { self.options = options }

    private var rowCount = 0

    /// Starts a new block of rows.
    func group(_ tag: String, _ title: String) {
        groups.append(Group(tag: tag, title: title))
        progress("\n== \(tag). \(title)")
    }

    /// Measures `run` `options.repeats` times; each call does `operations` operations and
    /// returns the nanoseconds its timed part took (setup and checks stay outside).
    @discardableResult
    func measure(_ name: String, operations: Int, repeats: Int? = nil, _ run: () -> UInt64) -> Sample {
        if let only = options.only, !name.contains(only) {
            return Sample(name: name, operations: operations, nanosecondsPerOp: [])
        }
        var times: [Double] = []
        var others: [Double] = []
        for _ in 0..<(repeats ?? options.repeats) {
            if options.quietWait > 0 { CPUClock.waitForQuiet(atMost: options.quietWait) }
            let before = CPUClock.now()
            times.append(Double(run()) / Double(operations))
            others.append(CPUClock.othersShare(from: before, to: .now()))
        }
        return add(Sample(name: name, operations: operations, nanosecondsPerOp: times, othersBusy: others))
    }

    /// Adds a row for `sample` (measured elsewhere, such as by CPython, or shown a second time)
    /// to the current group, and returns the sample bound to that row.
    @discardableResult
    func add(_ sample: Sample) -> Sample {
        if groups.isEmpty { group("", "") }
        var sample = sample
        sample.row = rowCount
        rowCount += 1
        groups[groups.count - 1].rows.append(Row(sample: sample))
        let runs = sample.nanosecondsPerOp.map { format($0, decimals: 1) }.joined(separator: " ")
        progress("   \(pad(sample.name, 48)) best \(format(sample.best, decimals: 2)) ns/op  [\(runs)]")
        return sample
    }

    /// Sets `subject` against `peer`, with a target ratio or none. The first comparison of a
    /// row goes into the table; later ones are listed under it.
    func compare(_ subject: Sample, with peer: Sample?, maxRatio: Double?) {
        let ratio = peer.map { subject.best / $0.best } ?? .nan
        for g in groups.indices {
            for r in groups[g].rows.indices where groups[g].rows[r].sample.row == subject.row {
                let comparison = Comparison(
                    group: groups[g].tag, subject: subject.name, peer: peer?.name ?? "(not measured)", ratio: ratio,
                    maxRatio: maxRatio)
                if groups[g].rows[r].comparison == nil {
                    groups[g].rows[r].comparison = comparison
                } else {
                    extraComparisons.append(comparison)
                }
                return
            }
        }
    }

    /// Records a figure that is not a time (see `Fact`) in the current group.
    func fact(_ name: String, _ value: String, target: String? = nil, passed: Bool? = nil) {
        let fact = Fact(group: groups.last?.tag ?? "", name: name, value: value, target: target, passed: passed)
        facts.append(fact)
        progress("   \(pad(name, 48)) \(value)\(target.map { "  (target \($0): \(fact.verdict))" } ?? "")")
    }

    /// Every comparison that has a target, in the table or listed under it.
    var targets: [Comparison] {
        (groups.flatMap { $0.rows.compactMap(\.comparison) } + extraComparisons).filter { $0.maxRatio != nil }
    }

    /// Prints the table of everything measured.
    func printTable(title: String) {
        let rule = String(repeating: "-", count: 150)
        print("")
        print("\(title) — best of \(options.repeats) runs, ns per operation (lower is better)")
        print("ratio = the Spindle figure's time / the peer's (below 1: Spindle is faster); target = the largest ratio allowed")
        print("others = share of the machine's CPU time that other processes used during the best run (a shared machine)")
        print(rule)
        print(
            pad("benchmark", 50) + lpad("best", 13) + lpad("median", 13) + lpad("others", 7) + "   " + pad("peer", 40)
                + lpad("ratio", 7) + lpad("target", 8) + "  result")
        print(rule)
        for group in groups {
            if !group.title.isEmpty { print("\(group.tag). \(group.title)") }
            for row in group.rows {
                let others = row.sample.othersBusyOfBest
                var line = "  " + pad(row.sample.name, 48) + lpad(format(row.sample.best, decimals: 1), 13)
                    + lpad(format(row.sample.median, decimals: 1), 13)
                    + lpad(others.isFinite ? format(others * 100, decimals: 0) + "%" : "-", 7)
                if let c = row.comparison {
                    line += "   " + pad(c.peer, 40) + lpad(ratioText(c.ratio), 7)
                        + lpad(c.maxRatio.map { "≤" + ratioText($0) } ?? "-", 8) + "  " + c.verdict
                }
                print(line)
            }
        }
        print(rule)
        if !extraComparisons.isEmpty {
            print("Other comparisons (ratio = Spindle time / peer time):")
            for c in extraComparisons {
                print(
                    "  " + pad(c.group, 4) + pad(c.subject, 48) + " vs " + pad(c.peer, 48) + lpad(ratioText(c.ratio), 8)
                        + lpad(c.maxRatio.map { "≤" + ratioText($0) } ?? "-", 8) + "  " + c.verdict)
            }
        }
        if !facts.isEmpty {
            print("Other figures:")
            for f in facts {
                var line = "  " + pad(f.group, 4) + pad(f.name, 58) + " " + f.value
                if let target = f.target { line += "   target " + target + "  " + f.verdict }
                print(line)
            }
        }
        let checked = targets
        let judgedFacts = facts.filter { $0.passed != nil }
        if !checked.isEmpty || !judgedFacts.isEmpty {
            let passed = checked.filter { $0.verdict == "PASS" }.count + judgedFacts.filter { $0.passed == true }.count
            print("Targets: \(passed) of \(checked.count + judgedFacts.count) passed")
            for c in checked where c.verdict != "PASS" {
                print("  \(c.verdict) [\(c.group)]: \(c.subject) takes \(ratioText(c.ratio)) the time of \(c.peer) (target ≤\(ratioText(c.maxRatio!)))")
            }
            for f in judgedFacts where f.passed != true {
                print("  FAIL [\(f.group)]: \(f.name) is \(f.value) (target \(f.target ?? "?"))")
            }
        }
    }
}

// MARK: - Sections

/// A group of benchmarks that can be run by name from the command line.
struct Section: Sendable {
    let name: String
    let summary: String
    /// Whether a run that names no section includes this one.
    var runsByDefault = true
    let run: @Sendable (Bench) -> Void
}

// MARK: - Formatting

/// Progress lines go to standard error, so standard output carries the table alone.
func progress(_ text: String) {
    writeStandardError(text + "\n")
}

/// Writes `text` to file descriptor 2 (unbuffered, and without touching C's `stderr` global).
func writeStandardError(_ text: String) {
    var text = text
    text.withUTF8 { bytes in
        var offset = 0
        while offset < bytes.count {
            let written = write(2, bytes.baseAddress! + offset, bytes.count - offset)
            if written <= 0 { return }
            offset += written
        }
    }
}

func pad(_ text: String, _ width: Int) -> String {
    let count = text.count
    return count >= width ? text : text + String(repeating: " ", count: width - count)
}

func lpad(_ text: String, _ width: Int) -> String {
    let count = text.count
    return count >= width ? text : String(repeating: " ", count: width - count) + text
}

/// `value` with `decimals` digits after the point (no Foundation needed).
func format(_ value: Double, decimals: Int) -> String {
    guard value.isFinite else { return "n/a" }
    var scale = 1.0
    for _ in 0..<decimals { scale *= 10 }
    let scaled = (abs(value) * scale).rounded()
    let whole = Int(scaled / scale)
    let fraction = Int(scaled - Double(whole) * scale)
    var text = (value < 0 ? "-" : "") + String(whole)
    if decimals > 0 {
        let digits = String(fraction)
        text += "." + String(repeating: "0", count: decimals - digits.count) + digits
    }
    return text
}

func ratioText(_ ratio: Double) -> String {
    ratio.isFinite ? format(ratio, decimals: ratio < 0.1 ? 3 : 2) + "x" : "n/a"
}

// MARK: - Other processes

/// CPU time used by the whole machine and by this process with its waited-for children, so a
/// figure can say how much other processes ran meanwhile.
struct CPUClock {
    /// Busy and total CPU time of all CPUs, in clock ticks (/proc/stat's first line).
    var machineBusy: Double
    var machineTotal: Double
    /// This process's and its reaped children's user + system time, in seconds.
    var own: Double

    static func now() -> CPUClock {
        var busy = 0.0
        var total = 0.0
        if let file = fopen("/proc/stat", "r") {
            var line = [CChar](repeating: 0, count: 512)
            if fgets(&line, Int32(line.count), file) != nil {
                let text = line.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
                let fields = text.split(whereSeparator: { $0 == " " || $0 == "\n" }).dropFirst().compactMap { Double($0) }
                if fields.count >= 8 {
                    // user nice system idle iowait irq softirq steal
                    busy = fields[0] + fields[1] + fields[2] + fields[5] + fields[6] + fields[7]
                    total = busy + fields[3] + fields[4]
                }
            }
            fclose(file)
        }
        func seconds(_ who: Int32) -> Double {
            var usage = rusage()
            getrusage(who, &usage)
            return Double(usage.ru_utime.tv_sec) + Double(usage.ru_utime.tv_usec) / 1e6
                + Double(usage.ru_stime.tv_sec) + Double(usage.ru_stime.tv_usec) / 1e6
        }
        return CPUClock(
            machineBusy: busy, machineTotal: total, own: seconds(RUSAGE_SELF.rawValue) + seconds(RUSAGE_CHILDREN.rawValue))
    }

    /// Waits until other processes used under 5 % of the CPUs for 0.5 s, or `seconds` passed.
    static func waitForQuiet(atMost seconds: Double) {
        let giveUp = monotonicNanoseconds() &+ UInt64(seconds * 1e9)
        while monotonicNanoseconds() < giveUp {
            let before = CPUClock.now()
            usleep(500_000)
            if othersShare(from: before, to: .now()) < 0.05 { return }
        }
    }

    /// The share of the machine's CPU time between `a` and `b` that other processes used
    /// (ticks are 10 ms, so a short run's share is coarse).
    static func othersShare(from a: CPUClock, to b: CPUClock) -> Double {
        let ticksPerSecond = Double(sysconf(Int32(_SC_CLK_TCK)))
        let total = b.machineTotal - a.machineTotal
        guard total > 0 else { return 0 }
        let others = (b.machineBusy - a.machineBusy) - (b.own - a.own) * ticksPerSecond
        return min(1, max(0, others / total))
    }
}
