#if canImport(Glibc)
import Glibc
#endif
import CSpindle
import SpindleSubprocess
import SpindleSystem
import SpindleThreading

/// A thread per child that copies its output pipes into their `ProcessOutput`s and learns
/// at once when the child exits, by polling the pipes and a pidfd together (no timed polling).
///
/// When the child has exited, what it wrote is drained from the pipes, the outputs are
/// flushed and `onExit` runs (the supervisor reaps the child there); the pipes are then closed,
/// as supervisord closes them, even if a grandchild still holds their other ends.
final class ProcessMonitor: Sendable {
    private let thread: SpindleThread

    /// Starts watching.
    /// - Parameters:
    ///   - pid: The child.
    ///   - name: The process name, for the thread's name.
    ///   - pipes: The child's output pipes and where their bytes go.
    ///   - onExit: Runs once the child has exited and its output is drained.
    init(pid: Int32, name: String, pipes: [(PipeReader, ProcessOutput?)], onExit: @escaping @Sendable () -> Void) throws {
        let work = MonitorWork(pid: pid, pipes: pipes, onExit: onExit)
        thread = SpindleThread(name: "spindled-\(name)", daemon: true) { work.run() }
        try thread.start()
    }

    /// Waits for the thread to finish.
    /// - Parameter timeout: Seconds to wait at most.
    /// - Returns: Whether it finished.
    @discardableResult
    func join(timeout: Double?) -> Bool { (try? thread.join(timeout: timeout)) ?? false }
}

/// The monitor thread's body and the values it owns.
private final class MonitorWork: @unchecked Sendable {
    let pid: Int32
    let pipes: [(PipeReader, ProcessOutput?)]
    let onExit: @Sendable () -> Void

    init(pid: Int32, pipes: [(PipeReader, ProcessOutput?)], onExit: @escaping @Sendable () -> Void) {
        self.pid = pid
        self.pipes = pipes
        self.onExit = onExit
    }

    func run() {
        var exitFD = spindle_pidfd_open(pid)
        var helper: SpindleThread?
        var wakeWrite: Int32 = -1
        if exitFD < 0 {
            // No pidfd: a helper blocks in waitid without reaping and writes to a pipe when the
            // child has exited.
            var ends: [Int32] = [-1, -1]
            if spindle_pipe_cloexec(&ends) == 0 {
                exitFD = ends[0]
                wakeWrite = ends[1]
                let pid = self.pid
                let write = wakeWrite
                let waiter = SpindleThread(name: "spindled-wait-\(pid)", daemon: true) {
                    var info = siginfo_t()
                    while waitid(P_PID, id_t(pid), &info, WEXITED | WNOWAIT) != 0, errno == EINTR {}
                    var byte: UInt8 = 1
                    _ = Glibc.write(write, &byte, 1)
                }
                try? waiter.start()
                helper = waiter
            }
        }
        var open: [(fd: Int32, output: ProcessOutput?)] = pipes.map { ($0.0.fileDescriptor, $0.1) }.filter { $0.fd >= 0 }
        for entry in open { _ = fcntl(entry.fd, F_SETFL, fcntl(entry.fd, F_GETFL) | O_NONBLOCK) }
        var buffer = [UInt8](repeating: 0, count: 65536)
        var exited = false
        while !exited {
            var entries = open.map { pollfd(fd: $0.fd, events: Int16(POLLIN), revents: 0) }
            if exitFD >= 0 { entries.append(pollfd(fd: exitFD, events: Int16(POLLIN), revents: 0)) }
            if entries.isEmpty { break }
            let ready = poll(&entries, nfds_t(entries.count), -1)
            if ready < 0 {
                if errno == EINTR { continue }
                break
            }
            var closed: Set<Int32> = []
            for (i, entry) in open.enumerated() where entries[i].revents != 0 {
                if !drain(entry.fd, into: entry.output, buffer: &buffer, limit: 1 << 20) { closed.insert(entry.fd) }
            }
            open.removeAll { closed.contains($0.fd) }
            if exitFD >= 0, entries[entries.count - 1].revents != 0 { exited = true }
            if exitFD < 0, open.isEmpty { break }
        }
        // What the child wrote before it exited is in the pipes now.
        for entry in open { _ = drain(entry.fd, into: entry.output, buffer: &buffer, limit: 4 << 20) }
        for (_, output) in pipes { output?.finish() }
        if exitFD < 0 {
            var info = siginfo_t()
            while waitid(P_PID, id_t(pid), &info, WEXITED | WNOWAIT) != 0, errno == EINTR {}
        }
        onExit()
        for (reader, _) in pipes { reader.close() }
        if exitFD >= 0 { try? closeDescriptor(exitFD) }
        if wakeWrite >= 0 { try? closeDescriptor(wakeWrite) }
        _ = try? helper?.join(timeout: 5)
    }

    /// Reads what is there (up to `limit` bytes); returns false at end of file or on an error.
    private func drain(_ fd: Int32, into output: ProcessOutput?, buffer: inout [UInt8], limit: Int) -> Bool {
        var total = 0
        while total < limit {
            let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n > 0 {
                output?.receive(Array(buffer[0..<n]))
                total += n
                continue
            }
            if n == 0 { return false }
            if errno == EINTR { continue }
            return errno == EAGAIN
        }
        return true
    }
}
