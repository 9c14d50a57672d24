#if canImport(Glibc)
import Glibc
#endif
import CSpindle
import SpindleSubprocess
import SpindleSystem
import SpindleThreading

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
