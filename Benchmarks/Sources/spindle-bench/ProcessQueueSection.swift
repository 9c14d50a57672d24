// The mpqueue section: ProcessQueue between processes against CPython's multiprocessing.Queue,
// the same shape on both sides: P producer processes and C consumer processes move N Ints
// through a queue of maxsize 1000. Every process says it is ready on a control queue and waits
// for a go; the clock runs from the go to the last consumer's "done".
#if canImport(Glibc)
import Glibc
#endif
import Spindle

/// The worker functions of this section; `main` registers them before anything else.
enum ProcessQueueWorkers {
    typealias Arguments = ArgumentTuple<ProcessQueue<Int>, ProcessQueue<Int>, ProcessQueue<Int>, Int>

    /// (items, control, go, count): ready, wait for go, put 0 ..< count.
    static let produce = WorkerFunction<Arguments, NoResult>("bench.processQueue.produce") { items, control, go, count in
        try control.put(0)
        _ = try go.get()
        for item in 0..<count { try items.put(item) }
    }

    /// (items, control, go, count): ready, wait for go, get `count` items, say done with their sum.
    static let consume = WorkerFunction<Arguments, NoResult>("bench.processQueue.consume") { items, control, go, count in
        try control.put(0)
        _ = try go.get()
        var sum = 0
        for _ in 0..<count { sum &+= try items.get() }
        try control.put(sum + 1)
    }

    static let all: [any WorkerEntryPoint] = [produce, consume]
}

let processQueueSection = Section(
    name: "mpqueue",
    summary: "ProcessQueue<Int>(maxsize: 1000) between processes, 1→1 and 4→4, against CPython's multiprocessing.Queue"
) { bench in
    let items = bench.options.scaled(200_000)
    bench.group("MQ1", "ProcessQueue<Int>(maxsize: 1000), producer and consumer processes (\(items) items, go → last done)")
    let one = bench.measure("Spindle ProcessQueue(1000) 1→1 processes", operations: items) {
        processQueueRun(producers: 1, consumers: 1, items: items)
    }
    let four = bench.measure("Spindle ProcessQueue(1000) 4→4 processes", operations: items) {
        processQueueRun(producers: 4, consumers: 4, items: items)
    }
    guard bench.options.python else { return }
    let n = bench.options.scaled(100_000)
    let repeats = min(bench.options.repeats, 3)
    let version = CPython.version().map { "CPython \($0)" } ?? "CPython"
    bench.group("MQ2", "\(version) multiprocessing.Queue(1000), the same shape (\(n) items, best of \(repeats))")
    let figures = CPython.run(script: cpythonProcessQueueScript, arguments: [String(repeats), String(n)])
    let pyOne = CPython.sample(figures, "1to1", name: "CPython multiprocessing.Queue(1000) 1→1 processes", operations: n)
        .map { bench.add($0) }
    let pyFour = CPython.sample(figures, "4to4", name: "CPython multiprocessing.Queue(1000) 4→4 processes", operations: n)
        .map { bench.add($0) }
    for (spindle, python) in [(one, pyOne), (four, pyFour)] where !spindle.nanosecondsPerOp.isEmpty {
        bench.compare(bench.add(spindle), with: python, maxRatio: nil)
    }
}

/// One run: starts the processes, waits until all are ready, and times go → every consumer done.
private func processQueueRun(producers: Int, consumers: Int, items: Int) -> UInt64 {
    do {
        let queue = try ProcessQueue<Int>(maxsize: 1000)
        let control = try ProcessQueue<Int>()
        let go = try ProcessQueue<Int>()
        let perProducer = items / producers
        let perConsumer = items / consumers
        check(perProducer * producers == items && perConsumer * consumers == items, "items must divide evenly")
        let processes =
            (0..<producers).map { _ in
                WorkerProcess(target: ProcessQueueWorkers.produce, argument: ArgumentTuple(queue, control, go, perProducer))
            }
            + (0..<consumers).map { _ in
                WorkerProcess(target: ProcessQueueWorkers.consume, argument: ArgumentTuple(queue, control, go, perConsumer))
            }
        for process in processes { try process.start() }
        for _ in processes { check(try control.get(timeout: 60) == 0, "a worker was not ready") }
        let start = monotonicNanoseconds()
        for _ in processes { try go.put(0) }
        var sums = 0
        for _ in 0..<consumers { sums &+= try control.get(timeout: 600) - 1 }
        let elapsed = monotonicNanoseconds() &- start
        for process in processes {
            check(try process.join(timeout: 60) && process.exitcode == 0, "a worker failed: \(process)")
        }
        check(sums == producers * (perProducer * (perProducer - 1) / 2), "items were lost or doubled")
        return elapsed
    } catch {
        check(false, "process queue run failed: \(error)")
        return 0
    }
}

private let cpythonProcessQueueScript = """
    import multiprocessing as mp, sys, time
    repeats, N = (int(a) for a in sys.argv[1:3])
    # fork: the script runs with -c, so there is no module for spawn or forkserver to import.
    ctx = mp.get_context("fork")

    def produce(q, control, go, n):
        control.put(0); go.get()
        for i in range(n): q.put(i)

    def consume(q, control, go, n):
        control.put(0); go.get()
        s = 0
        for _ in range(n): s += q.get()
        control.put(s + 1)

    def run(p, c, n):
        q, control, go = ctx.Queue(1000), ctx.Queue(), ctx.Queue()
        procs = [ctx.Process(target=produce, args=(q, control, go, n // p)) for _ in range(p)]
        procs += [ctx.Process(target=consume, args=(q, control, go, n // c)) for _ in range(c)]
        for proc in procs: proc.start()
        for _ in procs: control.get()
        t0 = time.perf_counter_ns()
        for _ in procs: go.put(0)
        for _ in range(c): control.get()
        dt = time.perf_counter_ns() - t0
        for proc in procs: proc.join()
        return dt / n

    if __name__ == "__main__":
        for name, p, c in (("1to1", 1, 1), ("4to4", 4, 4)):
            runs = [run(p, c, N) for _ in range(repeats)]
            print(name + "\\t" + ",".join(repr(r) for r in runs), flush=True)
    """
