// Section "envoy": Spindle's Envoy.run on shell-style pipelines against CPython's envoy (the
// kennethreitz package) and against /bin/sh -c running the same line.
import CBenchSupport
import Foundation
import SpindleEnvoy
#if canImport(Glibc)
import Glibc
#endif

let envoySection = Section(
    name: "envoy",
    summary: "Envoy.run(\"a | b | c\"): a 100 MB pipeline and many small ones, vs /bin/sh -c and CPython's envoy"
) { bench in
    let big = envoyBig(bench)
    let small = envoySmall(bench, bench.options.scaled(200))
    if bench.options.python {
        envoyCPython(bench, big: big, small: small, smallRuns: bench.options.scaled(200))
    }
}

/// The pipelines, written once for every runner.
private let bigLine = "head -c 100000000 /dev/zero | tr '\\0' x | wc -c"
private let smallLine = "echo hi | cat"

/// `/bin/sh -c line` with its standard output on a pipe read to the end, as Envoy.run reads the
/// last stage's output; returns the output.
@inline(never)
private func shell(_ argv: CArgv) -> [UInt8] {
    var output: [UInt8] = []
    check(rawSpawnCapture(argv, into: &output) == 0, "/bin/sh failed")
    return output
}

@inline(never)
func spindleEnvoy(_ line: String) -> [UInt8] {
    let response = try! Envoy.run(line)
    check(response.statusCode == 0, "Envoy.run(\(line)) exited with \(response.statusCode)")
    return response.stdout
}

private func trimmed(_ bytes: [UInt8]) -> String {
    String(decoding: bytes, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
}

// MARK: - 1. 100 MB through three stages

private func envoyBig(_ bench: Bench) -> (sh: Sample, spindle: Sample) {
    bench.group("E1", "`\(bigLine)`, 100 MB through three stages (per pipeline)")
    let argv = CArgv(["/bin/sh", "-c", bigLine])
    let sh = bench.measure("/bin/sh -c (posix_spawn, stdout on a pipe)", operations: 1) {
        var output: [UInt8] = []
        let elapsed = timed { output = shell(argv) }
        check(trimmed(output) == "100000000", "sh printed \(trimmed(output))")
        return elapsed
    }
    let spindle = bench.measure("Spindle Envoy.run", operations: 1) {
        var output: [UInt8] = []
        let elapsed = timed { output = spindleEnvoy(bigLine) }
        check(trimmed(output) == "100000000", "Envoy printed \(trimmed(output))")
        return elapsed
    }
    bench.compare(spindle, with: sh, maxRatio: 1.2)
    return (sh, spindle)
}

// MARK: - 2. Many small pipelines

private func envoySmall(_ bench: Bench, _ n: Int) -> (sh: Sample, spindle: Sample) {
    bench.group("E2", "`\(smallLine)`, \(n) times one after the other (per pipeline)")
    let argv = CArgv(["/bin/sh", "-c", smallLine])
    let sh = bench.measure("/bin/sh -c (posix_spawn, stdout on a pipe)", operations: n) {
        var bytes = 0
        let elapsed = timed { for _ in 0..<n { bytes += shell(argv).count } }
        check(bytes == 3 * n, "sh printed \(bytes) bytes")
        return elapsed
    }
    let spindle = bench.measure("Spindle Envoy.run", operations: n) {
        var bytes = 0
        let elapsed = timed { for _ in 0..<n { bytes += spindleEnvoy(smallLine).count } }
        check(bytes == 3 * n, "Envoy printed \(bytes) bytes")
        return elapsed
    }
    bench.compare(spindle, with: sh, maxRatio: 1.2)
    return (sh, spindle)
}

// MARK: - 3. CPython

/// envoy 0.0.3 (the last release) cannot run a pipeline on Python 3: Command.run passes
/// `bytes(data, "UTF-8")` to a text-mode Popen.communicate, which raises AttributeError ('bytes'
/// object has no attribute 'encode'). The script first records that, then fixes that one line
/// (envoy.core.bytes returns the str unchanged) and measures. envoy also hands only the first
/// 10 KiB of each stage's output to the next ("due to broken pipe problems"), so on the 100 MB
/// line its wc counts 10240 bytes: it does less work than the others. A correct pipeline in
/// CPython (subprocess.Popen stages joined by pipes) is measured beside it.
private let cpythonEnvoyScript = """
    import subprocess, sys, time
    repeats, SMALL, big_line, small_line = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4]
    try:
        import envoy, envoy.core
    except Exception as e:
        print("envoy-import-error\\t1"); envoy = None
    if envoy is not None:
        try:
            envoy.run(small_line); print("envoy-unpatched-ok\\t1")
        except AttributeError:
            print("envoy-unpatched-ok\\t0")
        envoy.core.bytes = lambda data, encoding: data

    def popen_pipeline(line):
        import shlex
        stages = [shlex.split(part) for part in line.split("|")]
        procs, prev = [], None
        for i, args in enumerate(stages):
            p = subprocess.Popen(args, stdin=prev, stdout=subprocess.PIPE)
            if prev is not None: prev.close()
            prev = p.stdout; procs.append(p)
        out = prev.read(); prev.close()
        for p in procs: p.wait()
        return out

    def measure(name, n, fn):
        runs = []
        for _ in range(repeats):
            t0 = time.perf_counter(); fn(); dt = time.perf_counter() - t0
            runs.append(dt * 1e9 / n)
        print(name + "\\t" + ",".join(repr(r) for r in runs), flush=True)

    if envoy is not None:
        print("envoy-big-wc\\t" + envoy.run(big_line).std_out.strip())
        measure("envoy-big", 1, lambda: envoy.run(big_line))
        measure("envoy-small", SMALL, lambda: [envoy.run(small_line) for _ in range(SMALL)])
    print("popen-big-wc\\t" + popen_pipeline(big_line).decode().strip())
    measure("popen-big", 1, lambda: popen_pipeline(big_line))
    measure("popen-small", SMALL, lambda: [popen_pipeline(small_line) for _ in range(SMALL)])
    """

private func envoyCPython(
    _ bench: Bench, big: (sh: Sample, spindle: Sample), small: (sh: Sample, spindle: Sample), smallRuns: Int
) {
    let repeats = min(bench.options.repeats, 3)
    let version = CPython.version().map { "CPython \($0)" } ?? "CPython"
    bench.group("E3", "\(version): envoy 0.0.3 and a subprocess.Popen pipeline, same lines (best of \(repeats))")
    let figures = CPython.run(
        script: cpythonEnvoyScript, arguments: [String(repeats), String(smallRuns), bigLine, smallLine])
    func peer(_ key: String, _ name: String, _ operations: Int) -> Sample? {
        guard let sample = CPython.sample(figures, key, name: name, operations: operations) else { return nil }
        return bench.add(sample)
    }
    let envoyBig = peer("envoy-big", "CPython envoy.run, 100 MB line", 1)
    let popenBig = peer("popen-big", "CPython Popen pipeline, 100 MB line", 1)
    let envoySmall = peer("envoy-small", "CPython envoy.run, echo hi | cat", smallRuns)
    let popenSmall = peer("popen-small", "CPython Popen pipeline, echo hi | cat", smallRuns)
    for (spindle, envoy, popen) in [(big.spindle, envoyBig, popenBig), (small.spindle, envoySmall, popenSmall)]
    where !spindle.nanosecondsPerOp.isEmpty {
        bench.compare(bench.add(spindle), with: envoy, maxRatio: 1 / 3.0)
        bench.compare(spindle, with: popen, maxRatio: nil)
    }
    if figures?["envoy-import-error"] != nil {
        bench.fact("CPython envoy", "does not import")
    } else if let ok = figures?["envoy-unpatched-ok"]?.first {
        bench.fact(
            "CPython envoy 0.0.3 runs a pipeline unpatched", ok == 1 ? "yes" : "no (AttributeError; measured with a one-line fix)")
    }
    if let wc = figures?["envoy-big-wc"]?.first {
        bench.fact("CPython envoy's wc -c on the 100 MB line", "\(Int(wc)) (passes only 10 KiB between stages)")
    }
    if let wc = figures?["popen-big-wc"]?.first {
        bench.fact("CPython Popen pipeline's wc -c on the 100 MB line", "\(Int(wc))")
    }
}
