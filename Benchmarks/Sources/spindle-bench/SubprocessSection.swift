// Section "subprocess": starting and waiting for a child (and capturing its output) with Spindle,
// against posix_spawn called directly, swift-subprocess, Foundation.Process and CPython's
// subprocess; plus the peak memory of capturing 100 MB.
import CBenchSupport
import Foundation
import Spindle
#if canImport(Glibc)
import Glibc
#endif

let subprocessSection = Section(
    name: "subprocess",
    summary: "spawn+wait of /bin/true, capture of `echo hi`, memory of a 100 MB capture; vs posix_spawn, swift-subprocess, Foundation, CPython"
) { bench in
    let spawns = bench.options.scaled(500)
    // Foundation.Process takes ~45 ms a spawn here (see docs/PERFORMANCE.md), so it runs fewer.
    let foundationSpawns = bench.options.scaled(20)
    let spawn = subprocessSpawn(bench, spawns, foundation: foundationSpawns)
    let capture = subprocessCapture(bench, spawns, foundation: foundationSpawns)
    subprocessMemory(bench)
    if bench.options.python {
        subprocessCPython(bench, spawn: spawn, capture: capture)
    }
}

let subprocessProbes = [
    Probe(name: "capture-memory") { probeCaptureMemory(raw: false) },
    Probe(name: "capture-memory-raw") { probeCaptureMemory(raw: true) },
]

/// The size of the big capture: 100 MiB.
private let bigOutput = 104_857_600

// MARK: - 1. Spawn and wait

@inline(never)
func spindleRunTrue(_ count: Int) {
    for _ in 0..<count {
        let result = try! Subprocess.run(["/bin/true"])
        check(result.returncode == 0, "/bin/true failed")
    }
}

@inline(never)
func spindlePopenTrue(_ count: Int) {
    for _ in 0..<count {
        let process = try! Popen(["/bin/true"])
        check(try! process.wait() == 0, "/bin/true failed")
    }
}

@inline(never)
private func foundationProcessTrue(_ count: Int) {
    for _ in 0..<count {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/true")
        try! process.run()
        process.waitUntilExit()
        check(process.terminationStatus == 0, "/bin/true failed")
    }
}

@inline(never)
private func rawTrue(_ argv: CArgv, _ count: Int) {
    for _ in 0..<count { check(rawSpawnAndWait(argv) == 0, "/bin/true failed") }
}

private func subprocessSpawn(_ bench: Bench, _ n: Int, foundation f: Int) -> [Sample] {
    bench.group("S1", "spawn + wait of /bin/true, \(n) times one after the other (Foundation: \(f) times) (per spawn)")
    let argv = CArgv(["/bin/true"])
    let raw = bench.measure("posix_spawn + waitpid (raw)", operations: n) { timed { rawTrue(argv, n) } }
    let swiftSubprocess = bench.measure("swift-subprocess run(.path, output: .discarded)", operations: n) {
        blockingAsync { await timed { await swiftSubprocessSpawnTrue(n) } }
    }
    let foundation = bench.measure("Foundation.Process run + waitUntilExit", operations: f) {
        timed { foundationProcessTrue(f) }
    }
    let run = bench.measure("Spindle Subprocess.run([\"/bin/true\"])", operations: n) { timed { spindleRunTrue(n) } }
    let popen = bench.measure("Spindle Popen([\"/bin/true\"]) + wait()", operations: n) {
        timed { spindlePopenTrue(n) }
    }
    for spindle in [run, popen] {
        bench.compare(spindle, with: raw, maxRatio: 1.15)
        bench.compare(spindle, with: swiftSubprocess, maxRatio: 1 / 1.3)
        bench.compare(spindle, with: foundation, maxRatio: 1 / 30.0)
    }
    return [run, popen]
}

// MARK: - 2. Spawn and capture

private func subprocessCapture(_ bench: Bench, _ n: Int, foundation f: Int) -> Sample {
    bench.group("S2", "spawn + capture of `/bin/echo hi` (\"hi\\n\"), \(n) times (Foundation: \(f) times) (per spawn)")
    let argv = CArgv(["/bin/echo", "hi"])
    let raw = bench.measure("posix_spawn + pipe (adddup2) + read + waitpid", operations: n) {
        var bytes = 0
        let elapsed = timed {
            for _ in 0..<n {
                var output: [UInt8] = []
                check(rawSpawnCapture(argv, into: &output) == 0, "echo failed")
                bytes += output.count
            }
        }
        check(bytes == 3 * n, "raw capture read \(bytes) bytes")
        return elapsed
    }
    let swiftSubprocess = bench.measure("swift-subprocess run(output: .string(limit: 4096))", operations: n) {
        blockingAsync {
            var bytes = 0
            let elapsed = await timed { bytes = await swiftSubprocessCaptureEcho(n) }
            check(bytes == 3 * n, "swift-subprocess captured \(bytes) bytes")
            return elapsed
        }
    }
    let foundation = bench.measure("Foundation.Process + Pipe, readDataToEndOfFile", operations: f) {
        var bytes = 0
        let elapsed = timed {
            for _ in 0..<f {
                let process = Process()
                process.executableURL = URL(fileURLWithPath: "/bin/echo")
                process.arguments = ["hi"]
                let pipe = Pipe()
                process.standardOutput = pipe
                try! process.run()
                bytes += pipe.fileHandleForReading.readDataToEndOfFile().count
                process.waitUntilExit()
            }
        }
        check(bytes == 3 * f, "Foundation captured \(bytes) bytes")
        return elapsed
    }
    let spindle = bench.measure("Spindle Subprocess.run(captureOutput: true)", operations: n) {
        var bytes = 0
        let elapsed = timed {
            for _ in 0..<n {
                let result = try! Subprocess.run(["/bin/echo", "hi"], captureOutput: true)
                bytes += result.stdout?.count ?? 0
            }
        }
        check(bytes == 3 * n, "Spindle captured \(bytes) bytes")
        return elapsed
    }
    bench.compare(spindle, with: raw, maxRatio: 1.2)
    bench.compare(spindle, with: swiftSubprocess, maxRatio: nil)
    bench.compare(spindle, with: foundation, maxRatio: nil)
    return spindle
}

// MARK: - 3. Memory of a 100 MB capture

/// In a fresh process: captures `head -c 104857600 /dev/zero` and prints the peak growth of
/// resident memory over the resident memory before (`raw`: posix_spawn + read into a [UInt8]).
func probeCaptureMemory(raw: Bool) {
    // Warm: load and run every code path once, so the baseline includes them.
    if raw {
        var small: [UInt8] = []
        _ = rawSpawnCapture(CArgv(["/bin/echo", "hi"]), into: &small)
    } else {
        _ = try! Subprocess.run(["/bin/echo", "hi"], captureOutput: true)
    }
    let before = memoryStatus().rss
    resetPeakMemory()
    var captured = 0
    if raw {
        var output: [UInt8] = []
        _ = rawSpawnCapture(CArgv(["/usr/bin/head", "-c", String(bigOutput), "/dev/zero"]), into: &output)
        captured = output.count
    } else {
        let result = try! Subprocess.run(["head", "-c", String(bigOutput), "/dev/zero"], captureOutput: true)
        captured = result.stdout?.count ?? 0
    }
    let after = memoryStatus()
    probeOutput("captured", Double(captured))
    probeOutput("peak", Double(after.peak - before))
    probeOutput("rss", Double(after.rss - before))
}

private func subprocessMemory(_ bench: Bench) {
    bench.group("S3", "peak memory while capturing 100 MiB (head -c 104857600 /dev/zero), each in a fresh process, 3 times")
    if let only = bench.options.only, !"memory".contains(only) { return }
    for (probe, name, judged) in [
        ("capture-memory", "Spindle Subprocess.run(captureOutput: true)", true),
        ("capture-memory-raw", "posix_spawn + read into [UInt8] (reference)", false),
    ] {
        // The peak depends on where the output buffer's doubling lands, which varies from run to
        // run with the sizes of the reads: the worst of three is judged.
        var peaks: [Double] = []
        for _ in 0..<3 {
            guard let figures = runProbe(probe), let peak = figures["peak"], let captured = figures["captured"] else { continue }
            check(captured == Double(bigOutput), "\(name) captured \(captured) bytes")
            peaks.append(peak / Double(bigOutput))
        }
        guard let worst = peaks.max(), let least = peaks.min() else { continue }
        bench.fact(
            "\(name): peak VmHWM − baseline, worst (least) of 3",
            format(worst, decimals: 2) + "x (" + format(least, decimals: 2) + "x) the output",
            target: judged ? "< 2.00x" : nil, passed: judged ? worst < 2 : nil)
    }
}

// MARK: - 4. CPython

/// python_peers.py's spawn and spawn_capture, and the peak memory of a 100 MiB capture_output.
private let cpythonSubprocessScript = """
    import subprocess, sys, time
    repeats, N, BIG = (int(a) for a in sys.argv[1:4])

    def status():
        fields = {}
        for line in open("/proc/self/status"):
            key, _, value = line.partition(":")
            fields[key] = value
        return int(fields["VmRSS"].split()[0]) * 1024, int(fields["VmHWM"].split()[0]) * 1024

    subprocess.run(["/bin/echo", "hi"], capture_output=True)
    before = status()[0]
    open("/proc/self/clear_refs", "w").write("5")
    out = subprocess.run(["head", "-c", str(BIG), "/dev/zero"], capture_output=True).stdout
    assert len(out) == BIG
    print("memory-peak\\t" + str(status()[1] - before))
    del out

    def spawn(n=N):
        for _ in range(n): subprocess.run(["/bin/true"])

    def spawn_capture(n=N):
        for _ in range(n): subprocess.run(["/bin/echo", "hi"], capture_output=True)

    def measure(name, n, fn):
        runs = []
        for _ in range(repeats):
            t0 = time.perf_counter(); fn(); dt = time.perf_counter() - t0
            runs.append(dt * 1e9 / n)
        print(name + "\\t" + ",".join(repr(r) for r in runs), flush=True)

    measure("spawn", N, spawn)
    measure("capture", N, spawn_capture)
    """

private func subprocessCPython(_ bench: Bench, spawn: [Sample], capture: Sample) {
    let n = bench.options.scaled(300)
    let repeats = min(bench.options.repeats, 3)
    let version = CPython.version().map { "CPython \($0)" } ?? "CPython"
    bench.group("S4", "\(version), python_peers.py's spawn and spawn_capture (\(n) runs, best of \(repeats))")
    let figures = CPython.run(
        script: cpythonSubprocessScript, arguments: [String(repeats), String(n), String(bigOutput)])
    func peer(_ key: String, _ name: String) -> Sample? {
        guard let sample = CPython.sample(figures, key, name: name, operations: n) else { return nil }
        return bench.add(sample)
    }
    let pySpawn = peer("spawn", "CPython subprocess.run(['/bin/true'])")
    let pyCapture = peer("capture", "CPython subprocess.run(echo, capture_output)")
    for spindle in spawn where !spindle.nanosecondsPerOp.isEmpty {
        bench.compare(bench.add(spindle), with: pySpawn, maxRatio: 1.0)
    }
    if !capture.nanosecondsPerOp.isEmpty {
        bench.compare(bench.add(capture), with: pyCapture, maxRatio: nil)
    }
    if let peak = figures?["memory-peak"]?.first {
        bench.fact(
            "CPython subprocess.run(capture_output=True) 100 MiB: peak − baseline",
            format(peak / 1_048_576, decimals: 1) + " MiB = " + format(peak / Double(bigOutput), decimals: 2) + "x the output")
    }
}
