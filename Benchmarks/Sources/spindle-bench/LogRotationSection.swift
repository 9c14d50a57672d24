// Section "logs": spindled's rotated logs. The same output (64 KiB reads of whole 100-byte lines,
// as the capture loop hands them over) goes through Spindle's RotatingLogFile and through CPython's
// logging RotatingFileHandler (what supervisord's own loggers derive from), each plain and with
// gzip-compressed backups: spindled compresses off the writer's path, the cookbook's gzip
// rotator for RotatingFileHandler compresses inside the write that rotates.
import Foundation
import SpindleSupervisor
#if canImport(Glibc)
import Glibc
#endif

let logRotationSection = Section(
    name: "logs",
    summary: "a log rotated at 1 MiB with 10 backups, plain and gzip-compressed, vs CPython's RotatingFileHandler"
) { bench in
    let chunks = max(200, bench.options.scaled(512))  // 32 MiB; at least 12 rotations
    bench.group("L1", "\(chunks) chunks of 64 KiB (655 lines of 100 bytes each) into a log rotated at 1 MiB, 10 backups (per chunk)")
    let chunk = logChunk()
    func spindle(_ compress: Bool) -> (UInt64, UInt64) {
        let dir = SupervisorBench.makeTemporaryDirectory("spindle-logs")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let file = try! RotatingLogFile(path: dir + "/out.log", maxBytes: 1 << 20, backups: 10, compress: compress)
        let writer = timed {
            for _ in 0..<chunks { file.write(chunk) }
            file.close()
        }
        let drained = timed { RotatingLogFile.waitForCompression() }
        let names = (try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []
        check(names.count == 11, "\(names.count) files after the run: \(names.sorted())")
        check(!compress || names.filter { $0.hasSuffix(".gz") }.count == 10, "compressed backups: \(names.sorted())")
        return (writer, drained)
    }
    let plain = bench.measure("Spindle RotatingLogFile, plain backups", operations: chunks) { spindle(false).0 }
    var drains: [UInt64] = []
    let gzip = bench.measure("Spindle RotatingLogFile, compress=true (writer)", operations: chunks) {
        let (writer, drained) = spindle(true)
        drains.append(drained)
        return writer
    }
    bench.compare(gzip, with: plain, maxRatio: 1.5)
    if let most = drains.max() {
        bench.fact("Spindle: wait for pending compression after close", format(Double(most) / 1e6, decimals: 1) + " ms at most")
    }
    guard bench.options.python else { return }
    let repeats = bench.options.repeats
    let version = CPython.version().map { "CPython \($0)" } ?? "CPython"
    bench.group("L2", "\(version): logging.handlers.RotatingFileHandler, one record per chunk, the same output")
    let figures = CPython.run(script: cpythonLogScript, arguments: [String(repeats), String(chunks)])
    let pyPlain = CPython.sample(figures, "plain", name: "CPython RotatingFileHandler, plain backups", operations: chunks).map { bench.add($0) }
    let pyGzip = CPython.sample(figures, "gzip", name: "CPython RotatingFileHandler, gzip rotator", operations: chunks).map { bench.add($0) }
    bench.compare(bench.add(plain), with: pyPlain, maxRatio: nil)
    bench.compare(bench.add(gzip), with: pyGzip, maxRatio: 1 / 3.0)
    if let pyPlain, let pyGzip { bench.compare(pyGzip, with: pyPlain, maxRatio: nil) }
}

/// 655 numbered lines of 100 bytes.
private func logChunk() -> [UInt8] {
    var bytes: [UInt8] = []
    for i in 0..<655 {
        var line = Array(String(format: "%06d ", i).utf8)
        while line.count < 99 { line.append(UInt8(ascii: "a") + UInt8(line.count % 26)) }
        line.append(UInt8(ascii: "\n"))
        bytes += line
    }
    return bytes
}

/// CPython: logging's RotatingFileHandler, one record per 64 KiB chunk as supervisord logs a
/// child's output, with the logging cookbook's gzip namer and rotator (level 6, as zlib's default).
private let cpythonLogScript = #"""
import gzip, logging, logging.handlers, os, shutil, sys, tempfile, time
repeats, chunks = int(sys.argv[1]), int(sys.argv[2])
lines = []
for i in range(655):
    line = "%06d " % i
    while len(line) < 99:
        line += chr(ord("a") + len(line) % 26)
    lines.append(line)
chunk = "\n".join(lines)  # the handler adds the last newline

def namer(name):
    return name + ".gz"

def rotator(source, dest):
    with open(source, "rb") as f_in, gzip.open(dest, "wb", compresslevel=6) as f_out:
        shutil.copyfileobj(f_in, f_out)
    os.remove(source)

def run(compress):
    d = tempfile.mkdtemp(prefix="cpython-logs-")
    try:
        h = logging.handlers.RotatingFileHandler(os.path.join(d, "out.log"), maxBytes=1 << 20, backupCount=10)
        h.setFormatter(logging.Formatter("%(message)s"))
        if compress:
            h.namer, h.rotator = namer, rotator
        record = logging.LogRecord("child", logging.INFO, "child", 0, chunk, None, None)
        start = time.perf_counter_ns()
        for _ in range(chunks):
            h.emit(record)
        h.close()
        elapsed = time.perf_counter_ns() - start
        assert len(os.listdir(d)) == 11, os.listdir(d)
        return elapsed / chunks
    finally:
        shutil.rmtree(d)

for key, compress in (("plain", False), ("gzip", True)):
    print(key + "\t" + ",".join(str(run(compress)) for _ in range(repeats)))
"""#
