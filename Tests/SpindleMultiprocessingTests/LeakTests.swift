import Glibc
import SpindleFutures
import SpindleMultiprocessing
import Testing

@Suite("multiprocessing: no leaks", .serialized, .timeLimit(.minutes(5)))
struct LeakTests {
    /// 1,000 pool tasks (with failures, dead workers and replaced workers among them), several
    /// pools, processes and pipes leave this process's descriptors and children as they were.
    /// It runs in a process of its own, so that other tests' children do not blur the count.
    @Test func aThousandPoolTasksLeakNothing() async {
        let result = await #expect(processExitsWith: .success, observing: [\.standardErrorContent]) {
            Fixture.use()
            // Warm up first: the first pool starts Spindle's spawner thread, and the test
            // harness opens descriptors of its own as it settles.
            do {
                let warmUp = try Pool(processes: 1)
                _ = try warmUp.apply(Fx.square, 1)
                warmUp.terminate()
            } catch {
                report("leak test error: \(error)")
                exit(0)
            }
            usleep(200_000)
            let fdsBefore = spindleDescriptors()
            let childrenBefore = childPids().count
            do {
                for round in 0..<4 {
                    let pool = try Pool(processes: 2, maxTasksPerChild: round % 2 == 0 ? nil : 40)
                    let squares = try pool.map(Fx.square, 0..<200, chunksize: 1)
                    guard squares == (0..<200).map({ $0 * $0 }) else {
                        report("leak test: wrong results")
                        exit(0)
                    }
                    for i in 0..<40 { _ = try? pool.apply(Fx.failOdd, i) }
                    _ = try? pool.apply(Fx.killSelf, SIGKILL)
                    pool.close()
                    try pool.join()
                }
                let executor = ProcessPoolExecutor(maxWorkers: 2)
                let futures = try (0..<100).map { try executor.submit(Fx.square, $0) }
                for future in futures { _ = try future.result(timeout: 30) }
                executor.shutdown(wait: true)
                for _ in 0..<10 {
                    let (mine, theirs) = try Multiprocessing.pipe()
                    let child = WorkerProcess(target: Fx.echo, argument: theirs)
                    try child.start()
                    theirs.close()
                    try mine.send(1)
                    _ = try mine.recv(Int.self)
                    mine.close()
                    try child.join(timeout: 30)
                }
                let terminated = try Pool(processes: 2)
                _ = try terminated.applyAsync(Fx.hang, 0)
                terminated.terminate()
            } catch {
                report("leak test error: \(error)")
                exit(0)
            }
            var settled = false
            for _ in 0..<200 {
                if childPids().count == childrenBefore && spindleDescriptors() == fdsBefore {
                    settled = true
                    break
                }
                usleep(50_000)
            }
            if !settled {
                // Exit 0 all the same: the parent reads this report (a failed exit test hands back nothing).
                report(
                    "leak test: descriptors \(fdsBefore) -> \(spindleDescriptors()), all: \(describeDescriptors()), "
                        + "children \(childrenBefore) -> \(childPids())")
            }
            exit(0)
        }
        let diagnostics = String(decoding: result?.standardErrorContent ?? [], as: UTF8.self)
        if diagnostics.contains("leak test") {
            Issue.record("\(diagnostics)")
        }
    }
}

/// Writes a line to standard error (an exit test's diagnostics).
private func report(_ line: String) {
    var bytes = Array((line + "\n").utf8)
    _ = write(2, &bytes, bytes.count)
}

/// The open descriptors of the kinds Spindle opens (sockets, pidfds, pipes, /dev/null, shared
/// memory), as "number=target"; the harness's own event and timer descriptors are left out.
private func spindleDescriptors() -> [String] {
    describeDescriptors().split(separator: " ").map(String.init).filter { entry in
        ["socket:", "pidfd", "pipe:", "/dev/null", "/dev/shm"].contains { entry.contains($0) }
    }
}

/// Where each open descriptor points.
private func describeDescriptors() -> String {
    var entries: [String] = []
    guard let dir = opendir("/proc/self/fd") else { return "" }
    defer { closedir(dir) }
    while let entry = readdir(dir) {
        let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        var buffer = [CChar](repeating: 0, count: 512)
        let n = readlink("/proc/self/fd/\(name)", &buffer, buffer.count - 1)
        if n > 0 { entries.append("\(name)=\(String(decoding: buffer.prefix(n).map { UInt8(bitPattern: $0) }, as: UTF8.self))") }
    }
    return entries.sorted().joined(separator: " ")
}
