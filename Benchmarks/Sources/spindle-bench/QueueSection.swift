// Section "queue": Spindle's Queue<Int> (blocking put/get between threads, and await put/get
// between tasks) against the NSCondition queue a Swift program would write, AsyncChannel from
// swift-async-algorithms, and CPython's queue.Queue; plus memory and allocations per item.
import AsyncAlgorithms
import CBenchSupport
import Dispatch
import Foundation
import Spindle
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

let queueSection = Section(
    name: "queue",
    summary: "Queue put/get: 1→1 and 4→4 threads, task→task, allocations and memory per item, CPython's figures"
) { bench in
    let items = bench.options.scaled(1_000_000)
    let asyncItems = bench.options.scaled(200_000)
    let spsc = queueOneToOne(bench, items)
    let mpmc = queueFourToFour(bench, items)
    let tasks = queueTaskToTask(bench, asyncItems)
    queueAllocations(bench, bench.options.scaled(200_000))
    queueMemory(bench)
    if bench.options.python {
        queueCPython(bench, spsc: spsc, mpmc: mpmc, tasks: tasks)
    }
}

let queueProbes = [
    Probe(name: "queue-memory") { probeQueueMemory(fill: 1_000_000) },
    Probe(name: "array-memory") { probeArrayMemory(fill: 1_000_000) },
]

// MARK: - Loops

// One loop per library and side, never inlined, so each shows up under its own symbol in a
// profile. Producers put `range`; consumers take `count` items and return their sum.

@inline(never)
func spindleProduce(_ queue: Queue<Int>, _ range: Range<Int>) {
    for i in range { try! queue.put(i) }
}

@inline(never)
func spindleConsume(_ queue: Queue<Int>, _ count: Int) -> Int {
    var sum = 0
    for _ in 0..<count { sum &+= try! queue.get() }
    return sum
}

@inline(never)
func condProduce(_ queue: CondQueue, _ range: Range<Int>) {
    for i in range { queue.put(i) }
}

@inline(never)
func condConsume(_ queue: CondQueue, _ count: Int) -> Int {
    var sum = 0
    for _ in 0..<count { sum &+= queue.get() }
    return sum
}

@inline(never)
func spindleProduceAsync(_ queue: Queue<Int>, _ range: Range<Int>) async {
    for i in range { try! await queue.put(i) }
}

@inline(never)
func spindleConsumeAsync(_ queue: Queue<Int>, _ count: Int) async -> Int {
    var sum = 0
    for _ in 0..<count { sum &+= try! await queue.get() }
    return sum
}

@inline(never)
func channelProduce(_ channel: AsyncChannel<Int>, _ range: Range<Int>) async {
    for i in range { await channel.send(i) }
    channel.finish()
}

@inline(never)
func channelConsume(_ channel: AsyncChannel<Int>) async -> Int {
    var sum = 0
    for await x in channel { sum &+= x }
    return sum
}

/// 0 + 1 + … + (n - 1).
private func triangle(_ n: Int) -> Int { n * (n - 1) / 2 }

/// `producers` threads put `n` items in all, `consumers` threads take them; checks that every
/// item arrived once. Returns the wall time from the threads' release to the last one's end.
private func threadsRun(
    _ n: Int, producers: Int, consumers: Int,
    produce: @escaping @Sendable (Range<Int>) -> Void, consume: @escaping @Sendable (Int) -> Int
) -> UInt64 {
    let total = Atomic<Int>(0)
    let elapsed = runOnThreads(producers + consumers) { index in
        if index < producers {
            let share = n / producers
            produce((index * share)..<(index == producers - 1 ? n : (index + 1) * share))
        } else {
            let c = index - producers
            let share = n / consumers
            let sum = consume(c == consumers - 1 ? n - share * (consumers - 1) : share)
            total.wrappingAdd(sum, ordering: .relaxed)
        }
    }
    check(total.load(ordering: .relaxed) == triangle(n), "queue lost or duplicated items")
    blackHole(total.load(ordering: .relaxed))
    return elapsed
}

// MARK: - 1. One producer thread, one consumer thread

private func queueOneToOne(_ bench: Bench, _ n: Int) -> Sample {
    bench.group("Q1", "bounded(1000), 1 producer thread → 1 consumer thread, \(n) Ints (per item)")
    let cond = bench.measure("NSCondition queue(1000) 1→1", operations: n) {
        let queue = CondQueue(1000)
        return threadsRun(
            n, producers: 1, consumers: 1, produce: { condProduce(queue, $0) }, consume: { condConsume(queue, $0) })
    }
    let spindle = bench.measure("Spindle Queue(maxsize: 1000) 1→1", operations: n) {
        let queue = Queue<Int>(maxsize: 1000)
        return threadsRun(
            n, producers: 1, consumers: 1, produce: { spindleProduce(queue, $0) },
            consume: { spindleConsume(queue, $0) })
    }
    bench.compare(spindle, with: cond, maxRatio: 1.0 / 3.0)
    return spindle
}

// MARK: - 2. Four producers, four consumers

private func queueFourToFour(_ bench: Bench, _ n: Int) -> Sample {
    bench.group("Q2", "bounded(1000), 4 producer threads → 4 consumer threads, \(n) Ints in all (per item)")
    let cond = bench.measure("NSCondition queue(1000) 4→4", operations: n) {
        let queue = CondQueue(1000)
        return threadsRun(
            n, producers: 4, consumers: 4, produce: { condProduce(queue, $0) }, consume: { condConsume(queue, $0) })
    }
    let spindle = bench.measure("Spindle Queue(maxsize: 1000) 4→4", operations: n) {
        let queue = Queue<Int>(maxsize: 1000)
        return threadsRun(
            n, producers: 4, consumers: 4, produce: { spindleProduce(queue, $0) },
            consume: { spindleConsume(queue, $0) })
    }
    bench.compare(spindle, with: cond, maxRatio: 1.0 / 2.0)
    return spindle
}

// MARK: - 3. Task to task

private func queueTaskToTask(_ bench: Bench, _ n: Int) -> Sample {
    bench.group("Q3", "one producer task → one consumer task, \(n) Ints (per item)")
    let channel = bench.measure("AsyncChannel<Int> send / for await", operations: n) {
        blockingAsync {
            let channel = AsyncChannel<Int>()
            let start = monotonicNanoseconds()
            let producer = Task.detached { await channelProduce(channel, 0..<n) }
            let consumer = Task.detached { await channelConsume(channel) }
            await producer.value
            let sum = await consumer.value
            let elapsed = monotonicNanoseconds() &- start
            check(sum == triangle(n), "AsyncChannel lost items")
            return elapsed
        }
    }
    func spindleTasks(maxsize: Int) -> UInt64 {
        blockingAsync {
            let queue = Queue<Int>(maxsize: maxsize)
            let start = monotonicNanoseconds()
            let producer = Task.detached { await spindleProduceAsync(queue, 0..<n) }
            let consumer = Task.detached { await spindleConsumeAsync(queue, n) }
            await producer.value
            let sum = await consumer.value
            let elapsed = monotonicNanoseconds() &- start
            check(sum == triangle(n), "Spindle queue lost items between tasks")
            return elapsed
        }
    }
    let spindle = bench.measure("Spindle Queue(maxsize: 1000) await put/get", operations: n) {
        spindleTasks(maxsize: 1000)
    }
    let rendezvous = bench.measure("Spindle Queue(maxsize: 1) await put/get", operations: n) {
        spindleTasks(maxsize: 1)
    }
    bench.compare(spindle, with: channel, maxRatio: 1.0)
    bench.compare(rendezvous, with: channel, maxRatio: nil)
    return spindle
}

// MARK: - 4. Allocations per item

/// Mallocs per item in steady state: (mallocs of a run of 2n items − those of a run of n) / n,
/// so the queue's and the threads' set-up cancel out.
private func queueAllocations(_ bench: Bench, _ n: Int) {
    bench.group("Q4", "allocations per item in steady state (malloc calls of 2n items − of n items) / n, n = \(n)")
    func perItem(_ run: (Int) -> Void) -> Double {
        run(n)  // warm: thread stacks, parkers, lazily made globals
        let once = countMallocs { run(n) }
        let twice = countMallocs { run(2 * n) }
        return Double(twice - once) / Double(n)
    }
    let cases: [(String, (Int) -> Void)] = [
        ("NSCondition queue(1000) 1→1 threads", { n in
            let queue = CondQueue(1000)
            _ = threadsRun(n, producers: 1, consumers: 1, produce: { condProduce(queue, $0) }, consume: { condConsume(queue, $0) })
        }),
        ("Spindle Queue(maxsize: 1000) 1→1 threads", { n in
            let queue = Queue<Int>(maxsize: 1000)
            _ = threadsRun(n, producers: 1, consumers: 1, produce: { spindleProduce(queue, $0) }, consume: { spindleConsume(queue, $0) })
        }),
        ("Spindle Queue(maxsize: 1000) 4→4 threads", { n in
            let queue = Queue<Int>(maxsize: 1000)
            _ = threadsRun(n, producers: 4, consumers: 4, produce: { spindleProduce(queue, $0) }, consume: { spindleConsume(queue, $0) })
        }),
        ("Spindle Queue(maxsize: 1000) task→task", { n in
            _ = blockingAsync {
                let queue = Queue<Int>(maxsize: 1000)
                let producer = Task.detached { await spindleProduceAsync(queue, 0..<n) }
                let consumer = Task.detached { await spindleConsumeAsync(queue, n) }
                await producer.value
                blackHole(await consumer.value)
                return 0
            }
        }),
        ("Spindle Queue(maxsize: 1) task→task", { n in
            _ = blockingAsync {
                let queue = Queue<Int>(maxsize: 1)
                let producer = Task.detached { await spindleProduceAsync(queue, 0..<n) }
                let consumer = Task.detached { await spindleConsumeAsync(queue, n) }
                await producer.value
                blackHole(await consumer.value)
                return 0
            }
        }),
        ("AsyncChannel<Int> task→task", { n in
            _ = blockingAsync {
                let channel = AsyncChannel<Int>()
                let producer = Task.detached { await channelProduce(channel, 0..<n) }
                let consumer = Task.detached { await channelConsume(channel) }
                await producer.value
                blackHole(await consumer.value)
                return 0
            }
        }),
        ("Spindle Queue() put then get, one thread", { n in
            let queue = Queue<Int>()
            for i in 0..<n { try! queue.put(i) }
            var sum = 0
            for _ in 0..<n { sum &+= try! queue.get() }
            blackHole(sum)
        }),
    ]
    for (name, run) in cases {
        if let only = bench.options.only, !name.contains(only) { continue }
        let value = perItem(run)
        let judged = name.hasPrefix("Spindle") && !name.contains("maxsize: 1)")
        bench.fact(
            "\(name): mallocs per item", format(value, decimals: 4), target: judged ? "< 0.01" : nil,
            passed: judged ? value < 0.01 : nil)
    }
}

// MARK: - 5. Memory of 1,000,000 queued Ints

/// In a fresh process: fills an unbounded Queue<Int> with `count` Ints and prints the growth of
/// resident memory (now and at its peak) over the resident memory before.
func probeQueueMemory(fill count: Int) {
    let warm = Queue<Int>()
    try! warm.put(1)
    blackHole(try! warm.get())
    let before = memoryStatus().rss
    resetPeakMemory()
    let queue = Queue<Int>()
    for i in 0..<count { try! queue.put(i) }
    let after = memoryStatus()
    probeOutput("rss", Double(after.rss - before))
    probeOutput("peak", Double(after.peak - before))
    check(queue.qsize == count, "queue lost items")
}

/// The same for a plain [Int] that appends `count` Ints (the floor for a growable buffer).
func probeArrayMemory(fill count: Int) {
    let before = memoryStatus().rss
    resetPeakMemory()
    var array: [Int] = []
    for i in 0..<count { array.append(i) }
    let after = memoryStatus()
    probeOutput("rss", Double(after.rss - before))
    probeOutput("peak", Double(after.peak - before))
    blackHole(array.count)
}

private func megabytes(_ bytes: Double) -> String { format(bytes / 1_048_576, decimals: 1) + " MiB" }

private func queueMemory(_ bench: Bench) {
    bench.group("Q5", "memory for 1,000,000 queued Ints, in a fresh process (growth of VmRSS / VmHWM)")
    if let only = bench.options.only, !"memory".contains(only) { return }
    let count = 1_000_000.0
    for (probe, name) in [("queue-memory", "Spindle Queue<Int>() 1M puts"), ("array-memory", "[Int] 1M appends (reference)")] {
        guard let figures = runProbe(probe), let rss = figures["rss"], let peak = figures["peak"] else { continue }
        bench.fact(
            "\(name): resident / peak", "\(megabytes(rss)) / \(megabytes(peak)) (\(format(rss / count, decimals: 1)) / \(format(peak / count, decimals: 1)) bytes per item)")
    }
}

// MARK: - 6. CPython

/// python_peers.py's queue_spsc and queue_mpmc (300,000 items, maxsize 1000, None sentinels),
/// asyncio.Queue between two coroutines, and the memory of 1,000,000 queued ints.
private let cpythonQueueScript = """
    import asyncio, queue, sys, threading, time
    repeats, N = (int(a) for a in sys.argv[1:3])

    def status():
        fields = {}
        for line in open("/proc/self/status"):
            key, _, value = line.partition(":")
            fields[key] = value
        return int(fields["VmRSS"].split()[0]) * 1024, int(fields["VmHWM"].split()[0]) * 1024

    # Memory first, while the process is small.
    before = status()[0]
    open("/proc/self/clear_refs", "w").write("5")
    q = queue.Queue()
    for i in range(1_000_000): q.put(i)
    rss, peak = status()
    print("memory-rss\\t" + str(rss - before)); print("memory-peak\\t" + str(peak - before))
    del q

    def queue_spsc(n=N, maxsize=1000):
        q = queue.Queue(maxsize)
        def prod():
            for i in range(n): q.put(i)
            q.put(None)
        t = threading.Thread(target=prod); t.start()
        while q.get() is not None: pass
        t.join()

    def queue_mpmc(n=N, p=4, c=4, maxsize=1000):
        q = queue.Queue(maxsize)
        def prod():
            for i in range(n // p): q.put(i)
        def cons():
            while q.get() is not None: pass
        ps = [threading.Thread(target=prod) for _ in range(p)]
        cs = [threading.Thread(target=cons) for _ in range(c)]
        for t in ps + cs: t.start()
        for t in ps: t.join()
        for _ in cs: q.put(None)
        for t in cs: t.join()

    async def aqueue(n=N, maxsize=1000):
        q = asyncio.Queue(maxsize)
        async def prod():
            for i in range(n): await q.put(i)
            await q.put(None)
        async def cons():
            while (await q.get()) is not None: pass
        await asyncio.gather(prod(), cons())

    def measure(name, n, fn):
        runs = []
        for _ in range(repeats):
            t0 = time.perf_counter(); fn(); dt = time.perf_counter() - t0
            runs.append(dt * 1e9 / n)
        print(name + "\\t" + ",".join(repr(r) for r in runs), flush=True)

    measure("spsc", N, queue_spsc)
    measure("mpmc", N, queue_mpmc)
    measure("asyncio", N, lambda: asyncio.run(aqueue()))
    """

private func queueCPython(_ bench: Bench, spsc: Sample, mpmc: Sample, tasks: Sample) {
    let n = bench.options.scaled(300_000)
    let repeats = min(bench.options.repeats, 3)
    let version = CPython.version().map { "CPython \($0)" } ?? "CPython"
    bench.group("Q6", "\(version), python_peers.py's queue_spsc and queue_mpmc (\(n) items, best of \(repeats))")
    let figures = CPython.run(script: cpythonQueueScript, arguments: [String(repeats), String(n)])
    func peer(_ key: String, _ name: String) -> Sample? {
        guard let sample = CPython.sample(figures, key, name: name, operations: n) else { return nil }
        return bench.add(sample)
    }
    let pySpsc = peer("spsc", "CPython queue.Queue(1000) 1→1 threads")
    let pyMpmc = peer("mpmc", "CPython queue.Queue(1000) 4→4 threads")
    let pyAsync = peer("asyncio", "CPython asyncio.Queue(1000) task→task")
    let pairs: [(Sample, Sample?, Double?)] = [
        (spsc, pySpsc, 0.02), (mpmc, pyMpmc, 0.02), (tasks, pySpsc, 0.02), (tasks, pyAsync, nil),
    ]
    for (spindle, python, target) in pairs where !spindle.nanosecondsPerOp.isEmpty {
        bench.compare(bench.add(spindle), with: python, maxRatio: target)
    }
    if let rss = figures?["memory-rss"]?.first, let peak = figures?["memory-peak"]?.first {
        bench.fact(
            "CPython queue.Queue() 1M puts: resident / peak",
            "\(megabytes(rss)) / \(megabytes(peak)) (\(format(rss / 1e6, decimals: 1)) / \(format(peak / 1e6, decimals: 1)) bytes per item)")
    }
}
