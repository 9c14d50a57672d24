// Section "futures": Spindle's ThreadPoolExecutor (submit + result of trivial work, and a CPU-bound
// map over two cores) against Dispatch, OperationQueue and CPython's ThreadPoolExecutor.
import Dispatch
import Foundation
import Spindle
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

let futuresSection = Section(
    name: "futures",
    summary: "ThreadPoolExecutor submit+result vs Dispatch/OperationQueue/CPython; CPU-bound map on 1 and 2 workers"
) { bench in
    let tasks = bench.options.scaled(100_000)
    let trivial = futuresTrivial(bench, tasks)
    futuresAllocations(bench, bench.options.scaled(20_000))
    futuresMap(bench, items: 40, rounds: bench.options.scaled(4_000_000))
    if bench.options.python {
        futuresCPython(bench, spindle: trivial)
    }
}

/// Where the peers' work items put their results, one slot each, so that every library does the
/// same work: compute a value, and hand it back to the submitter, who sums them.
private final class Slots: @unchecked Sendable {
    let values: UnsafeMutableBufferPointer<Int>
    init(_ count: Int) { values = .allocate(capacity: count); values.initialize(repeating: 0) }
    deinit { values.deallocate() }
    var sum: Int { values.reduce(0, &+) }
}

private func triangle(_ n: Int) -> Int { n * (n - 1) / 2 }

// MARK: - 1. Trivial tasks: submit, then result

@inline(never)
func spindleSubmitAndCollect(_ n: Int, workers: Int) -> Int {
    let pool = ThreadPoolExecutor(maxWorkers: workers)
    var futures: [Future<Int>] = []
    futures.reserveCapacity(n)
    for i in 0..<n { futures.append(try! pool.submit { i }) }
    var sum = 0
    for future in futures { sum &+= try! future.result() }
    pool.shutdown()
    return sum
}

@inline(never)
private func dispatchSubmitAndCollect(_ n: Int) -> Int {
    let queue = DispatchQueue(label: "spindle-bench.concurrent", attributes: .concurrent)
    let group = DispatchGroup()
    let slots = Slots(n)
    for i in 0..<n { queue.async(group: group) { slots.values[i] = i } }
    group.wait()
    return slots.sum
}

@inline(never)
private func operationQueueSubmitAndCollect(_ n: Int) -> Int {
    let queue = OperationQueue()
    queue.maxConcurrentOperationCount = 4
    let slots = Slots(n)
    for i in 0..<n { queue.addOperation { slots.values[i] = i } }
    queue.waitUntilAllOperationsAreFinished()
    return slots.sum
}

private func futuresTrivial(_ bench: Bench, _ n: Int) -> Sample {
    bench.group(
        "F1",
        "\(n) trivial work items: submit all, then collect every result; 4 workers; executor made and shut down inside the timing (per item)"
    )
    func run(_ body: () -> Int) -> UInt64 {
        var sum = 0
        let elapsed = timed { sum = body() }
        check(sum == triangle(n), "results lost: \(sum)")
        blackHole(sum)
        return elapsed
    }
    let dispatch = bench.measure("DispatchQueue.concurrent async + DispatchGroup", operations: n) {
        run { dispatchSubmitAndCollect(n) }
    }
    let operations = bench.measure("OperationQueue(4) addOperation + wait", operations: n) {
        run { operationQueueSubmitAndCollect(n) }
    }
    let spindle = bench.measure("Spindle ThreadPoolExecutor(4) submit + result", operations: n) {
        run { spindleSubmitAndCollect(n, workers: 4) }
    }
    bench.compare(spindle, with: dispatch, maxRatio: 1.0)
    bench.compare(spindle, with: operations, maxRatio: 0.5)
    return spindle
}

private func futuresAllocations(_ bench: Bench, _ n: Int) {
    bench.group("F2", "allocations per work item (malloc calls of 2n items − of n items) / n, n = \(n)")
    func perItem(_ run: (Int) -> Void) -> Double {
        run(n)
        let once = countMallocs { run(n) }
        let twice = countMallocs { run(2 * n) }
        return Double(twice - once) / Double(n)
    }
    let cases: [(String, (Int) -> Void)] = [
        ("DispatchQueue.concurrent async + DispatchGroup", { blackHole(dispatchSubmitAndCollect($0)) }),
        ("OperationQueue(4) addOperation + wait", { blackHole(operationQueueSubmitAndCollect($0)) }),
        ("Spindle ThreadPoolExecutor(4) submit + result", { blackHole(spindleSubmitAndCollect($0, workers: 4)) }),
    ]
    for (name, run) in cases {
        if let only = bench.options.only, !name.contains(only) { continue }
        bench.fact("\(name): mallocs per item", format(perItem(run), decimals: 2))
    }
}

// MARK: - 2. CPU-bound map on one and two workers

/// A pure function that keeps one core busy: `rounds` steps of xorshift64.
@inline(never)
func heavy(_ seed: Int, rounds: Int) -> Int {
    var x = UInt64(truncatingIfNeeded: seed) &* 0x9E37_79B9_7F4A_7C15 | 1
    for _ in 0..<rounds {
        x ^= x << 13
        x ^= x >> 7
        x ^= x << 17
    }
    return Int(truncatingIfNeeded: x)
}

private func futuresMap(_ bench: Bench, items count: Int, rounds: Int) {
    bench.group(
        "F3", "CPU-bound map: \(count) items × \(rounds) xorshift steps each, on a pool of 1 and of 2 workers (per item)")
    let items = Array(0..<count)
    let expected = items.reduce(0) { $0 &+ heavy($1, rounds: rounds) }
    func pooled(_ workers: Int) -> UInt64 {
        var sum = 0
        let elapsed = timed {
            let pool = ThreadPoolExecutor(maxWorkers: workers)
            sum = try! pool.map(items) { heavy($0, rounds: rounds) }.results().reduce(0, &+)
            pool.shutdown()
        }
        check(sum == expected, "map results differ")
        blackHole(sum)
        return elapsed
    }
    let serial = bench.measure("plain loop on this thread", operations: count) {
        var sum = 0
        let elapsed = timed { sum = items.reduce(0) { $0 &+ heavy($1, rounds: rounds) } }
        check(sum == expected, "serial results differ")
        blackHole(sum)
        return elapsed
    }
    let ideal = bench.measure("2 raw threads, half the items each", operations: count) {
        let sums = Slots(2)
        let elapsed = runOnThreads(2) { t in
            var sum = 0
            for i in stride(from: t, to: count, by: 2) { sum &+= heavy(items[i], rounds: rounds) }
            sums.values[t] = sum
        }
        check(sums.sum == expected, "threaded results differ")
        return elapsed
    }
    let concurrentPerform = bench.measure("DispatchQueue.concurrentPerform", operations: count) {
        let slots = Slots(count)
        let elapsed = timed {
            DispatchQueue.concurrentPerform(iterations: count) { i in slots.values[i] = heavy(items[i], rounds: rounds) }
        }
        check(slots.sum == expected, "concurrentPerform results differ")
        return elapsed
    }
    let one = bench.measure("Spindle pool.map, maxWorkers 1", operations: count) { pooled(1) }
    let two = bench.measure("Spindle pool.map, maxWorkers 2", operations: count) { pooled(2) }
    bench.compare(one, with: serial, maxRatio: nil)
    bench.compare(two, with: one, maxRatio: nil)
    bench.compare(ideal, with: serial, maxRatio: nil)
    bench.compare(concurrentPerform, with: serial, maxRatio: nil)
    if !one.nanosecondsPerOp.isEmpty, !two.nanosecondsPerOp.isEmpty {
        let speedup = one.best / two.best
        bench.fact(
            "Spindle pool.map speed-up, 2 workers over 1", format(speedup, decimals: 2) + "x", target: "≥ 1.80x",
            passed: speedup >= 1.8)
        if !ideal.nanosecondsPerOp.isEmpty, !serial.nanosecondsPerOp.isEmpty {
            bench.fact("2 raw threads' speed-up over the plain loop (this machine's ceiling)", format(serial.best / ideal.best, decimals: 2) + "x")
        }
    }
}

// MARK: - 3. CPython

/// python_peers.py's tpe: ThreadPoolExecutor(max_workers=4), submit(int, 1) n times, then result().
private let cpythonFuturesScript = """
    import sys, time, concurrent.futures as cf
    repeats, N = (int(a) for a in sys.argv[1:3])

    def tpe(n=N):
        with cf.ThreadPoolExecutor(max_workers=4) as ex:
            fs = [ex.submit(int, 1) for _ in range(n)]
            for f in fs: f.result()

    runs = []
    for _ in range(repeats):
        t0 = time.perf_counter(); tpe(); dt = time.perf_counter() - t0
        runs.append(dt * 1e9 / N)
    print("tpe\\t" + ",".join(repr(r) for r in runs), flush=True)
    """

private func futuresCPython(_ bench: Bench, spindle: Sample) {
    let n = bench.options.scaled(100_000)
    let repeats = min(bench.options.repeats, 3)
    let version = CPython.version().map { "CPython \($0)" } ?? "CPython"
    bench.group("F4", "\(version), python_peers.py's tpe (\(n) items, best of \(repeats))")
    let figures = CPython.run(script: cpythonFuturesScript, arguments: [String(repeats), String(n)])
    var python: Sample?
    if let sample = CPython.sample(figures, "tpe", name: "CPython ThreadPoolExecutor(4) submit + result", operations: n) {
        python = bench.add(sample)
    }
    if !spindle.nanosecondsPerOp.isEmpty {
        bench.compare(bench.add(spindle), with: python, maxRatio: 0.05)
    }
}
