// Section "multiprocessing": Spindle's Pool (many small tasks, the start of a pool, a CPU-bound
// map over 1 and 2 workers) and Connection round trips, against CPython's multiprocessing and a
// raw socketpair. spindle-bench is a worker program itself: main.swift bootstraps with
// `multiprocessingWorkerFunctions` first.
import Foundation
import Spindle
#if canImport(Glibc)
import Glibc
#endif

let multiprocessingSection = Section(
    name: "multiprocessing",
    summary: "Pool.map of 10k small tasks and a pool's start vs CPython multiprocessing; CPU-bound map on 1 and 2 workers; Connection round trip vs a raw socketpair"
) { bench in
    let tasks = bench.options.scaled(10_000)
    let map = multiprocessingSmallTasks(bench, tasks)
    let start = multiprocessingStart(bench, bench.options.scaled(10))
    multiprocessingScaling(bench, items: 24, rounds: bench.options.scaled(6_000_000))
    multiprocessingRoundTrip(bench, bench.options.scaled(20_000))
    if bench.options.python {
        multiprocessingCPython(bench, tasks: tasks, starts: bench.options.scaled(10), map: map, start: start)
    }
}

/// The worker functions of this section, registered by main.swift's bootstrap.
let multiprocessingWorkerFunctions: [any WorkerEntryPoint] = [benchSquare, benchHeavy, benchEcho, benchRawEcho]

/// python_multiprocessing_peers.py's sq.
let benchSquare = WorkerFunction<Int, Int>("bench.square") { $0 * $0 }

/// The futures section's CPU-bound item, in a worker.
let benchHeavy = WorkerFunction<ArgumentTuple<Int, Int>, Int>("bench.heavy") { seed, rounds in heavy(seed, rounds: rounds) }

/// Answers every message of the connection with the same bytes, until the other end closes.
let benchEcho = WorkerFunction<Connection, NoResult>("bench.echo") { connection in
    while let bytes = try? connection.recvBytes() {
        try connection.sendBytes(bytes)
    }
}

/// As `benchEcho`, with read and write on the connection's descriptor: 8-byte messages.
let benchRawEcho = WorkerFunction<Connection, NoResult>("bench.rawEcho") { connection in
    let fd = try connection.fileno()
    var message: UInt64 = 0
    while rawExchange(fd, &message, send: false), rawExchange(fd, &message, send: true) {}
}

/// Sends or receives exactly 8 bytes; `false` at the end of the stream or on an error.
func rawExchange(_ fd: Int32, _ message: inout UInt64, send: Bool) -> Bool {
    withUnsafeMutableBytes(of: &message) { raw in
        var done = 0
        while done < 8 {
            let n = send ? write(fd, raw.baseAddress! + done, 8 - done) : read(fd, raw.baseAddress! + done, 8 - done)
            if n < 0, errno == EINTR { continue }
            if n <= 0 { return false }
            done += n
        }
        return true
    }
}

// MARK: - 1. Many small tasks

@inline(never)
private func spindleMapSquares(_ pool: Pool, _ items: [Int]) -> Int {
    let results = try! pool.map(benchSquare, items, chunksize: 1)
    return results.reduce(0, &+)
}

private func multiprocessingSmallTasks(_ bench: Bench, _ n: Int) -> Sample {
    bench.group(
        "M1",
        "Pool(2).map(sq, range(\(n)), chunksize=1), as python_multiprocessing_peers.py; the pool is started and warmed outside the timing (per task)"
    )
    let items = Array(0..<n)
    let expected = items.reduce(0) { $0 &+ $1 * $1 }
    return bench.measure("Spindle Pool(processes: 2).map(chunksize: 1)", operations: n) {
        // A pool per run: its workers are reaped at the end, so their CPU time counts as this
        // process's (not as "others").
        let pool = try! Pool(processes: 2)
        check(try! pool.apply(benchSquare, 3) == 9, "apply failed")
        var sum = 0
        let elapsed = timed { sum = spindleMapSquares(pool, items) }
        pool.terminate()
        check(sum == expected, "map results differ")
        return elapsed
    }
}

// MARK: - 2. Start to first result

private func multiprocessingStart(_ bench: Bench, _ n: Int) -> Sample {
    bench.group("M2", "start a Pool(2) and get its first result, apply(sq, 3), \(n) times (per pool; the terminate is not timed)")
    return bench.measure("Spindle Pool(processes: 2) + apply", operations: n) {
        var total: UInt64 = 0
        for _ in 0..<n {
            var pool: Pool?
            total += timed {
                pool = try! Pool(processes: 2)
                check(try! pool!.apply(benchSquare, 3) == 9, "apply failed")
            }
            pool!.terminate()
        }
        return total
    }
}

// MARK: - 3. A CPU-bound map over 1 and 2 workers

private func multiprocessingScaling(_ bench: Bench, items count: Int, rounds: Int) {
    bench.group(
        "M3", "CPU-bound map: \(count) items × \(rounds) xorshift steps each, chunksize 1, on a Pool of 1 and of 2 workers (per item)")
    let items = (0..<count).map { ArgumentTuple($0, rounds) }
    if let only = bench.options.only, !["plain loop in this process", "Spindle Pool(processes: 1).map", "Spindle Pool(processes: 2).map"].contains(where: { $0.contains(only) }) {
        return
    }
    let expected = (0..<count).reduce(0) { $0 &+ heavy($1, rounds: rounds) }
    func pooled(_ workers: Int) -> UInt64 {
        let pool = try! Pool(processes: workers)
        check(try! pool.apply(benchSquare, 3) == 9, "apply failed")
        var sum = 0
        let elapsed = timed { sum = try! pool.map(benchHeavy, items, chunksize: 1).reduce(0, &+) }
        pool.terminate()
        check(sum == expected, "map results differ")
        return elapsed
    }
    let serial = bench.measure("plain loop in this process", operations: count) {
        var sum = 0
        let elapsed = timed { sum = (0..<count).reduce(0) { $0 &+ heavy($1, rounds: rounds) } }
        check(sum == expected, "serial results differ")
        blackHole(sum)
        return elapsed
    }
    let one = bench.measure("Spindle Pool(processes: 1).map", operations: count) { pooled(1) }
    let two = bench.measure("Spindle Pool(processes: 2).map", operations: count) { pooled(2) }
    bench.compare(one, with: serial, maxRatio: nil)
    bench.compare(two, with: one, maxRatio: nil)
    if !one.nanosecondsPerOp.isEmpty, !two.nanosecondsPerOp.isEmpty {
        let speedup = one.best / two.best
        bench.fact(
            "Spindle Pool.map speed-up, 2 workers over 1", format(speedup, decimals: 2) + "x", target: "≥ 1.80x",
            passed: speedup >= 1.8)
    }
}

// MARK: - 4. Connection round trips

private func multiprocessingRoundTrip(_ bench: Bench, _ n: Int) {
    bench.group("M4", "ping-pong of a small message with a child process over a socketpair, \(n) round trips (per round trip)")
    /// Runs `body` against a child running `function` on the other end of a fresh pipe.
    func withChild(_ function: WorkerFunction<Connection, NoResult>, _ body: (Connection) -> UInt64) -> UInt64 {
        let (mine, theirs) = try! Multiprocessing.pipe()
        let child = WorkerProcess(target: function, argument: theirs)
        try! child.start()
        theirs.close()
        let elapsed = body(mine)
        mine.close()
        try! child.join()
        check(child.exitcode == 0, "the echo child failed: \(String(describing: child.exitcode))")
        return elapsed
    }
    let raw = bench.measure("raw write + read of 8 bytes (both ends)", operations: n) {
        withChild(benchRawEcho) { connection in
            let fd = try! connection.fileno()
            var message: UInt64 = 0
            return timed {
                for i in 0..<UInt64(n) {
                    message = i
                    check(rawExchange(fd, &message, send: true) && rawExchange(fd, &message, send: false), "raw echo failed")
                    check(message == i, "raw echo answered \(message)")
                }
            }
        }
    }
    let bytes = bench.measure("Spindle Connection sendBytes + recvBytes (8 B)", operations: n) {
        withChild(benchEcho) { connection in
            let message: [UInt8] = [1, 2, 3, 4, 5, 6, 7, 8]
            return timed {
                for _ in 0..<n {
                    try! connection.sendBytes(message)
                    check(try! connection.recvBytes().count == 8, "echo answered another length")
                }
            }
        }
    }
    let values = bench.measure("Spindle Connection send + recv of an Int", operations: n) {
        withChild(benchEcho) { connection in
            timed {
                for i in 0..<n {
                    try! connection.send(i)
                    check(try! connection.recv(Int.self) == i, "echo answered another value")
                }
            }
        }
    }
    bench.compare(bytes, with: raw, maxRatio: 2.0)
    bench.compare(values, with: raw, maxRatio: 2.0)
}

// MARK: - 5. CPython

/// The map and start of python_multiprocessing_peers.py with the fork and spawn start methods,
/// and a Pipe round trip with a Process child. It is run from a file (spawn's children import
/// the main module by its path).
private let cpythonMultiprocessingScript = """
    import multiprocessing as mp, sys, time
    def sq(x): return x * x
    def echo(conn, other):
        other.close()  # the forked child inherited the parent's end: without this it never sees EOF
        while True:
            try: conn.send_bytes(conn.recv_bytes())
            except EOFError: return
    if __name__ == "__main__":
        repeats, N, STARTS, TRIPS = (int(a) for a in sys.argv[1:5])
        def emit(name, runs): print(name + "\\t" + ",".join(repr(r) for r in runs), flush=True)
        for method in ("fork", "spawn"):
            ctx = mp.get_context(method)
            maps, starts = [], []
            for _ in range(repeats):
                with ctx.Pool(2) as p:
                    p.apply(sq, (3,))
                    t0 = time.perf_counter(); r = p.map(sq, range(N), chunksize=1); dt = time.perf_counter() - t0
                    assert sum(r) == sum(x * x for x in range(N))
                maps.append(dt * 1e9 / N)
            emit("map-" + method, maps)
            for _ in range(repeats):
                total = 0.0
                for _ in range(STARTS):
                    t0 = time.perf_counter()
                    p = ctx.Pool(2); p.apply(sq, (3,))
                    total += time.perf_counter() - t0
                    p.terminate(); p.join()
                starts.append(total * 1e9 / STARTS)
            emit("start-" + method, starts)
        trips = []
        for _ in range(repeats):
            a, b = mp.Pipe()
            child = mp.get_context("fork").Process(target=echo, args=(b, a)); child.start(); b.close()
            message = b"12345678"
            t0 = time.perf_counter()
            for _ in range(TRIPS):
                a.send_bytes(message); a.recv_bytes()
            trips.append((time.perf_counter() - t0) * 1e9 / TRIPS)
            a.close(); child.join()
        emit("pipe", trips)
    """

private func multiprocessingCPython(_ bench: Bench, tasks: Int, starts: Int, map: Sample, start: Sample) {
    let repeats = min(bench.options.repeats, 3)
    let trips = bench.options.scaled(20_000)
    let version = CPython.version().map { "CPython \($0)" } ?? "CPython"
    bench.group("M5", "\(version) multiprocessing, the same work (best of \(repeats))")
    let path = NSTemporaryDirectory() + "spindle-bench-multiprocessing-\(getpid()).py"
    guard FileManager.default.createFile(atPath: path, contents: Data(cpythonMultiprocessingScript.utf8)) else {
        progress("   CPython not measured: cannot write \(path)")
        return
    }
    defer { try? FileManager.default.removeItem(atPath: path) }
    let runner = "import runpy, sys; sys.argv = sys.argv[1:]; runpy.run_path(sys.argv[0], run_name='__main__')"
    let figures = CPython.run(
        script: runner, arguments: [path, String(repeats), String(tasks), String(starts), String(trips)])
    func peer(_ key: String, _ name: String, _ operations: Int) -> Sample? {
        guard let sample = CPython.sample(figures, key, name: name, operations: operations) else { return nil }
        return bench.add(sample)
    }
    let mapFork = peer("map-fork", "CPython Pool(2).map(chunksize=1), fork", tasks)
    let mapSpawn = peer("map-spawn", "CPython Pool(2).map(chunksize=1), spawn", tasks)
    let startFork = peer("start-fork", "CPython Pool(2) + apply, fork", starts)
    let startSpawn = peer("start-spawn", "CPython Pool(2) + apply, spawn", starts)
    _ = peer("pipe", "CPython Pipe send_bytes + recv_bytes (8 B), fork", trips)
    if !map.nanosecondsPerOp.isEmpty {
        // The target: 5x CPython's throughput (its default start method, fork, is its fastest here).
        let shown = bench.add(map)
        bench.compare(shown, with: mapFork, maxRatio: 0.2)
        bench.compare(shown, with: mapSpawn, maxRatio: nil)
    }
    if !start.nanosecondsPerOp.isEmpty {
        let shown = bench.add(start)
        bench.compare(shown, with: startSpawn, maxRatio: 0.5)
        bench.compare(shown, with: startFork, maxRatio: nil)
    }
}
