#if canImport(Glibc)
import Glibc
#endif
import CSpindle
import SpindleSubprocess
import SpindleSystem
import SpindleThreading

/// Watches one child: copies its output pipes into their `ProcessOutput`s and learns at once
/// when it exits, through a pidfd (no timed polling).
///
/// Every child is watched by the one `ChildWatchLoop` thread (an epoll set over every pipe and
/// pidfd), as supervisord watches every child from its one select loop: a hundred programs
/// cost one thread and one read buffer, not a hundred. When the child has exited, what it
/// wrote is drained from the pipes, the outputs are flushed and `onExit` runs on the loop's
/// thread (the supervisor reaps the child there); the pipes are then closed, as supervisord
/// closes them, even if a grandchild still holds their other ends.
final class ProcessMonitor: Sendable {
    private let watch: ChildWatch

    /// Starts watching.
    /// - Parameters:
    ///   - pid: The child.
    ///   - name: The process name, for error messages.
    ///   - pipes: The child's output pipes and where their bytes go.
    ///   - onExit: Runs once the child has exited and its output is drained.
    /// - Throws: `SystemError` when the child cannot be watched (no pidfd and no pipe, or epoll failed).
    init(pid: Int32, name: String, pipes: [(PipeReader, ProcessOutput?)], onExit: @escaping @Sendable () -> Void) throws(SystemError) {
        watch = try ChildWatch(pid: pid, name: name, pipes: pipes, onExit: onExit)
        try ChildWatchLoop.shared.add(watch)
    }

    /// Waits until the child has exited and `onExit` has run.
    /// - Parameter timeout: Seconds to wait at most.
    /// - Returns: Whether it finished.
    @discardableResult
    func join(timeout: Double?) -> Bool { watch.done.wait(timeout: timeout) }
}

/// One child's descriptors and what to do with them; its mutable parts are touched only by the
/// loop's thread.
final class ChildWatch: @unchecked Sendable {
    let pid: Int32
    let name: String
    let readers: [PipeReader]
    /// The open output pipes: descriptor and destination, by epoll token.
    var open: [UInt64: (fd: Int32, output: ProcessOutput?)] = [:]
    let outputs: [ProcessOutput?]
    /// The pidfd, or the read end of the fallback helper's pipe.
    let exitFD: Int32
    var exitToken: UInt64 = 0
    /// Without a pidfd: the helper thread blocked in waitid, and its pipe's write end.
    let helper: SpindleThread?
    let wakeWrite: Int32
    let onExit: @Sendable () -> Void
    let done = Event()

    init(pid: Int32, name: String, pipes: [(PipeReader, ProcessOutput?)], onExit: @escaping @Sendable () -> Void) throws(SystemError) {
        self.pid = pid
        self.name = name
        self.readers = pipes.map(\.0)
        self.outputs = pipes.map(\.1)
        self.onExit = onExit
        let pidfd = spindle_pidfd_open(pid)
        if pidfd >= 0 {
            exitFD = pidfd
            wakeWrite = -1
            helper = nil
        } else {
            // No pidfd (an old kernel): a helper blocks in waitid without reaping and writes to
            // a pipe when the child has exited.
            var ends: [Int32] = [-1, -1]
            guard spindle_pipe_cloexec(&ends) == 0 else {
                throw SystemError(call: "pipe", errno: errno, subject: "the exit watch of '\(name)'")
            }
            exitFD = ends[0]
            wakeWrite = ends[1]
            let write = ends[1]
            let waiter = SpindleThread(name: "spindled-wait-\(pid)", daemon: true) {
                var info = siginfo_t()
                while waitid(P_PID, id_t(pid), &info, WEXITED | WNOWAIT) != 0, errno == EINTR {}
                var byte: UInt8 = 1
                _ = Glibc.write(write, &byte, 1)
            }
            do {
                try waiter.start()
            } catch {
                try? closeDescriptor(ends[0])
                try? closeDescriptor(ends[1])
                throw SystemError(call: "pthread_create", errno: EAGAIN, subject: "the exit watch of '\(name)'")
            }
            helper = waiter
        }
    }
}

/// The thread that watches every child (see `ProcessMonitor`): level-triggered epoll over the
/// children's output pipes and pidfds, started with the first child.
final class ChildWatchLoop: @unchecked Sendable {
    static let shared = ChildWatchLoop()

    /// The most read from one pipe before the loop serves the others (fairness between chatty
    /// children); the rest is read on the next turn.
    static let turnLimit = 1 << 20
    /// The most drained from one pipe after its child exited.
    static let finalLimit = 4 << 20

    private struct Registry {
        var epollFD: Int32 = -1
        var thread: SpindleThread?
        var nextToken: UInt64 = 1
        /// Each token's watch, and the index of its pipe (-1: the exit descriptor).
        var tokens: [UInt64: (watch: ChildWatch, pipe: Int)] = [:]
    }

    private let registry = Locked(Registry())

    /// Adds a child's descriptors to the set (starting the thread on first use).
    func add(_ watch: ChildWatch) throws(SystemError) {
        try registry.withLock { (state: inout Registry) throws(SystemError) in
            if state.epollFD < 0 {
                state.epollFD = try systemCall("epoll_create1") { spindle_epoll_create() }
                let epollFD = state.epollFD
                let thread = SpindleThread(name: "spindled-children", daemon: true) { [self] in run(epollFD) }
                do {
                    try thread.start()
                } catch {
                    throw SystemError(call: "pthread_create", errno: EAGAIN, subject: "the child watch loop")
                }
                state.thread = thread
            }
            var added: [UInt64] = []
            func register(_ fd: Int32, pipe: Int) throws(SystemError) {
                let token = state.nextToken
                state.nextToken += 1
                state.tokens[token] = (watch, pipe)
                do {
                    _ = try systemCall("epoll_ctl", subject: "fd \(fd)") { spindle_epoll_add(state.epollFD, fd, token) }
                } catch {
                    state.tokens[token] = nil
                    for token in added {
                        if let fd = descriptor(of: token, in: state) { _ = spindle_epoll_remove(state.epollFD, fd) }
                        state.tokens[token] = nil
                    }
                    throw error
                }
                added.append(token)
                if pipe >= 0 {
                    watch.open[token] = (fd, watch.outputs[pipe])
                } else {
                    watch.exitToken = token
                }
            }
            for (index, reader) in watch.readers.enumerated() where reader.fileDescriptor >= 0 {
                let fd = reader.fileDescriptor
                _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
                try register(fd, pipe: index)
            }
            try register(watch.exitFD, pipe: -1)
        }
    }

    private func descriptor(of token: UInt64, in state: Registry) -> Int32? {
        guard let (watch, pipe) = state.tokens[token] else { return nil }
        return pipe < 0 ? watch.exitFD : watch.open[token]?.fd
    }

    private func run(_ epollFD: Int32) {
        var tokens = [UInt64](repeating: 0, count: 64)
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let ready = tokens.withUnsafeMutableBufferPointer { spindle_epoll_wait(epollFD, $0.baseAddress, Int32($0.count), -1) }
            if ready < 0 {
                if errno == EINTR { continue }
                writeToStandardError("spindled: epoll_wait failed: \(SystemError(call: "epoll_wait", errno: errno).message)\n")
                return
            }
            var exited: [ChildWatch] = []
            for token in tokens[0..<Int(ready)] {
                guard let (watch, pipe) = registry.withLock({ $0.tokens[token] }) else { continue }
                if pipe < 0 {
                    remove(token, fd: watch.exitFD, epollFD: epollFD)
                    exited.append(watch)
                } else if let entry = watch.open[token] {
                    if !drain(entry.fd, into: entry.output, buffer: &buffer, limit: Self.turnLimit) {
                        remove(token, fd: entry.fd, epollFD: epollFD)
                        watch.open[token] = nil
                    }
                }
            }
            for watch in exited { finish(watch, epollFD: epollFD, buffer: &buffer) }
        }
    }

    private func remove(_ token: UInt64, fd: Int32, epollFD: Int32) {
        registry.withLock { state in
            _ = spindle_epoll_remove(epollFD, fd)
            state.tokens[token] = nil
        }
    }

    /// The child has exited: what it wrote is in the pipes now; drain them, report, close.
    private func finish(_ watch: ChildWatch, epollFD: Int32, buffer: inout [UInt8]) {
        for (token, entry) in watch.open {
            _ = drain(entry.fd, into: entry.output, buffer: &buffer, limit: Self.finalLimit)
            remove(token, fd: entry.fd, epollFD: epollFD)
        }
        watch.open.removeAll()
        for output in watch.outputs { output?.finish() }
        watch.onExit()
        for reader in watch.readers { reader.close() }
        try? closeDescriptor(watch.exitFD)
        if watch.wakeWrite >= 0 { try? closeDescriptor(watch.wakeWrite) }
        _ = try? watch.helper?.join(timeout: 5)
        watch.done.set()
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
