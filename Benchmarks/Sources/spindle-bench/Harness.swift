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

    /// `count` scaled, and at least 1.
    func scaled(_ count: Int) -> Int { max(1, Int((Double(count) * scale).rounded())) }
}

// MARK: - Measurements and comparisons

/// One measured figure: the time of each run, per operation.
struct Sample: Sendable {
    let name: String
    let operations: Int
    let nanosecondsPerOp: [Double]
    /// Which table row shows it (set by `Bench.add`); the same figure may be shown twice.
    var row = -1

    var best: Double { nanosecondsPerOp.min() ?? .nan }
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
        let times = (0..<(repeats ?? options.repeats)).map { _ in
            Double(run()) / Double(operations)
        }
        return add(Sample(name: name, operations: operations, nanosecondsPerOp: times))
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
        progress("   \(pad(sample.name, 44)) best \(format(sample.best, decimals: 2)) ns/op  [\(runs)]")
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

    /// Every comparison that has a target.
    var targets: [Comparison] {
        groups.flatMap { $0.rows.compactMap(\.comparison) }.filter { $0.maxRatio != nil }
    }

    /// Prints the table of everything measured.
    func printTable(title: String) {
        let rule = String(repeating: "-", count: 128)
        print("")
        print("\(title) — best of \(options.repeats) runs, ns per operation (lower is better)")
        print("ratio = the Spindle figure's time / the peer's (below 1: Spindle is faster); target = the largest ratio allowed")
        print(rule)
        print(
            pad("benchmark", 44) + lpad("best", 10) + lpad("median", 10) + "   " + pad("peer", 40)
                + lpad("ratio", 7) + lpad("target", 8) + "  result")
        print(rule)
        for group in groups {
            if !group.title.isEmpty { print("\(group.tag). \(group.title)") }
            for row in group.rows {
                var line = "  " + pad(row.sample.name, 42) + lpad(format(row.sample.best, decimals: 1), 10)
                    + lpad(format(row.sample.median, decimals: 1), 10)
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
                print("  " + pad(c.group, 4) + pad(c.subject, 40) + " vs " + pad(c.peer, 38) + lpad(ratioText(c.ratio), 8))
            }
        }
        let checked = targets
        if !checked.isEmpty {
            let passed = checked.filter { $0.verdict == "PASS" }.count
            print("Targets: \(passed) of \(checked.count) passed")
            for c in checked where c.verdict != "PASS" {
                print("  \(c.verdict) [\(c.group)]: \(c.subject) takes \(ratioText(c.ratio)) the time of \(c.peer) (target ≤\(ratioText(c.maxRatio!)))")
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
