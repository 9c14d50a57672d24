#if canImport(Glibc)
import Glibc
#endif
import CSpindle
import SpindleSystem
import SpindleThreading

/// Ends what is left of a `killtree` program's tree once its main process has exited (by
/// itself or stopped): the leftovers get the program's `stopsignal` (and SIGCONT), and SIGKILL once
/// `stopwaitsecs` have passed; the cgroup is removed when the tree is empty.
///
/// One thread (started when there is work, gone when there is none) serves every tree: it
/// waits on a pidfd of each leftover (and a pipe for new work), so a tree that empties is seen
/// at once, without polling; a process forked while the tree is ending is signalled on the
/// next pass.
final class TreeReaper: @unchecked Sendable {
    static let shared = TreeReaper()

    /// After SIGKILL, how long a tree may take to empty before it is given up on (a process in
    /// uninterruptible sleep, say); its cgroup is then left behind.
    static let killGrace = 10.0

    private struct Pending {
        let tree: ProcessTree
        let signal: Int32
        let killAt: Double
        var signalled: Set<Int32> = []
        var killed = false
    }

    private struct State {
        var incoming: [Pending] = []
        var running = false
        var wakeRead: Int32 = -1
        var wakeWrite: Int32 = -1
    }

    private let lock = Lock()
    private let idle: Condition
    private var state = State()

    private init() { idle = Condition(lock: lock) }

    static var now: Double { Double(spindle_monotonic_ns()) / 1e9 }

    /// Starts ending a tree's leftovers.
    /// - Parameters:
    ///   - tree: The tree (its main process has been reaped).
    ///   - signal: The first signal (the program's `stopsignal`).
    ///   - wait: Seconds before SIGKILL (`stopwaitsecs`).
    func end(_ tree: ProcessTree, signal: Int32, wait: Int) {
        let start = lock.withLock { () -> Bool in
            if state.wakeRead < 0 {
                var ends: [Int32] = [-1, -1]
                if spindle_pipe_cloexec(&ends) == 0 {
                    state.wakeRead = ends[0]
                    state.wakeWrite = ends[1]
                    _ = fcntl(ends[0], F_SETFL, fcntl(ends[0], F_GETFL) | O_NONBLOCK)
                    _ = fcntl(ends[1], F_SETFL, fcntl(ends[1], F_GETFL) | O_NONBLOCK)
                }
            }
            state.incoming.append(Pending(tree: tree, signal: signal, killAt: TreeReaper.now + Double(max(0, wait))))
            if state.running {
                var byte: UInt8 = 1
                _ = write(state.wakeWrite, &byte, 1)
                return false
            }
            state.running = true
            return true
        }
        guard start else { return }
        let thread = SpindleThread(name: "spindled-trees", daemon: true) { [self] in work() }
        do {
            try thread.start()
        } catch {
            // No thread to spare: end the tree here, at once.
            work(immediately: true)
        }
    }

    /// Waits until every tree handed over has ended.
    /// - Parameter timeout: Seconds to wait at most; `nil` waits as long as it takes.
    /// - Returns: Whether none is left.
    @discardableResult
    func waitUntilIdle(timeout: Double?) -> Bool {
        lock.withLock { (try? idle.waitFor(timeout: timeout) { !state.running }) ?? false }
    }

    private func work(immediately: Bool = false) {
        var trees: [Pending] = []
        while true {
            let (wake, more) = lock.withLock { () -> (Int32, [Pending]) in
                defer { state.incoming.removeAll() }
                return (state.wakeRead, state.incoming)
            }
            trees += more
            var watched: [pollfd] = wake >= 0 ? [pollfd(fd: wake, events: Int16(POLLIN), revents: 0)] : []
            var opened: [Int32] = []
            var next = Double.infinity
            let now = TreeReaper.now
            var kept: [Pending] = []
            var unwatched = false
            for var pending in trees {
                let members = pending.tree.members()
                if members.isEmpty {
                    pending.tree.remove()
                    continue
                }
                if immediately || now >= pending.killAt {
                    if pending.killed, now >= pending.killAt + TreeReaper.killGrace { continue }
                    if !pending.tree.killCgroup() {
                        for pid in members { TreeReaper.send(SIGKILL, to: pid) }
                    }
                    pending.killed = true
                    next = min(next, max(now, pending.killAt) + TreeReaper.killGrace)
                } else {
                    for pid in members where !pending.signalled.contains(pid) {
                        TreeReaper.send(pending.signal, to: pid)
                        // A stopped process would not act on it until continued (systemd does the same).
                        TreeReaper.send(SIGCONT, to: pid)
                        pending.signalled.insert(pid)
                    }
                    next = min(next, pending.killAt)
                }
                for pid in members {
                    let fd = spindle_pidfd_open(pid)
                    if fd >= 0 {
                        opened.append(fd)
                        watched.append(pollfd(fd: fd, events: Int16(POLLIN), revents: 0))
                    } else {
                        unwatched = true
                    }
                }
                kept.append(pending)
            }
            trees = kept
            let done = lock.withLock { () -> Bool in
                if trees.isEmpty, state.incoming.isEmpty {
                    state.running = false
                    try? idle.notifyAll()
                    return true
                }
                return false
            }
            if done {
                for fd in opened { close(fd) }
                return
            }
            // A member without a pidfd (an old kernel) is looked at again every 100 ms.
            let limit = unwatched ? 0.1 : 5.0
            let timeout = max(0.001, min(limit, next - TreeReaper.now))
            _ = poll(&watched, nfds_t(watched.count), Int32(timeout * 1000))
            for fd in opened { close(fd) }
            if wake >= 0 {
                var sink = [UInt8](repeating: 0, count: 64)
                while sink.withUnsafeMutableBytes({ read(wake, $0.baseAddress, $0.count) }) > 0 {}
            }
        }
    }

    /// Signals one process through a pidfd when there is one (no pid-reuse race).
    static func send(_ signal: Int32, to pid: Int32) {
        let fd = spindle_pidfd_open(pid)
        _ = spindle_send_signal(fd, pid, signal)
        if fd >= 0 { close(fd) }
    }
}
