#if canImport(Glibc)
import Glibc
#endif
import CSpindle
import SpindleSystem
import SpindleThreading

/// Compresses rotated logs (`*_logfile_compress`) off the capture path: a rotation only renames
/// the full file aside and queues it here; one background thread (started when there is work,
/// gone when there is none) shifts the numbered `.gz` backups and gzips the file into `name.1.gz`.
///
/// Jobs run one at a time in the order they were queued, so the backups stay numbered newest
/// first however fast rotations come, and `name.N.gz` beyond `backups` is dropped by the shift.
/// A file that cannot be compressed is kept uncompressed as `name.1`, so no output is lost.
final class LogCompressor: @unchecked Sendable {
    static let shared = LogCompressor()

    /// One rotated file: the log's path, the renamed-aside file, the backups kept.
    struct Job {
        let path: String
        let rotated: String
        let backups: Int
    }

    /// zlib's default level: what `gzip` itself uses.
    static let level: Int32 = 6

    private let lock = Lock()
    private let idle: Condition
    private var jobs: [Job] = []
    private var running = false
    private var serial = 0

    private init() { idle = Condition(lock: lock) }

    /// A fresh name next to `path` for a file being rotated out.
    func rotatedName(for path: String) -> String {
        lock.withLock {
            serial += 1
            return "\(path).\(getpid()).\(serial).rotated"
        }
    }

    /// Queues a rotated file; returns at once.
    func enqueue(_ job: Job) {
        let start = lock.withLock { () -> Bool in
            jobs.append(job)
            if running { return false }
            running = true
            return true
        }
        guard start else { return }
        let thread = SpindleThread(name: "spindled-gzip", daemon: true) { [self] in work() }
        do {
            try thread.start()
        } catch {
            // No thread to spare: compress here rather than lose the file.
            work()
        }
    }

    /// Waits until every queued file has been compressed.
    /// - Parameter timeout: Seconds to wait at most; `nil` waits as long as it takes.
    /// - Returns: Whether nothing is pending.
    @discardableResult
    func waitUntilIdle(timeout: Double?) -> Bool {
        lock.withLock { (try? idle.waitFor(timeout: timeout) { !running && jobs.isEmpty }) ?? false }
    }

    private func work() {
        while true {
            let next = lock.withLock { () -> Job? in
                if jobs.isEmpty {
                    running = false
                    try? idle.notifyAll()
                    return nil
                }
                return jobs.removeFirst()
            }
            guard let job = next else { return }
            LogCompressor.perform(job)
        }
    }

    /// Shifts `name.i.gz` to `name.(i+1).gz` (the last one dropped) and gzips the rotated file
    /// into `name.1.gz`.
    static func perform(_ job: Job) {
        let path = job.path
        for i in stride(from: job.backups - 1, through: 1, by: -1) {
            let source = "\(path).\(i).gz"
            if access(source, F_OK) == 0 { _ = rename(source, "\(path).\(i + 1).gz") }
        }
        let partial = "\(path).1.gz.part"
        if spindle_gzip_file(job.rotated, partial, level) == 0, rename(partial, "\(path).1.gz") == 0 {
            _ = unlink(job.rotated)
        } else {
            _ = unlink(partial)
            _ = rename(job.rotated, "\(path).1")
        }
    }
}
