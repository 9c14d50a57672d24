import CSpindle
import Glibc
import SpindleSystem

/// Deadlocks found, not suffered: a wait-for graph over Spindle's locks and thread joins, lock-order
/// checking, and thread dumps.
///
/// In `.report` mode, a thread whose wait for a `Lock` or `RLock` (without a timeout) or for a
/// `join()` would close a cycle of waiting threads is reported at once, with every thread of the
/// cycle, what it holds, what it waits for and where each lock was made; locks taken in an order
/// that contradicts an order seen before are reported once per pair, even when no deadlock happens.
/// In `.throw` mode the acquire that closes a cycle throws `ThreadingError` with
/// `.deadlock(DeadlockError)`. `.off` (the default) costs nothing but a load per acquire.
/// `SPINDLE_DEADLOCK=report` or `=throw` in the environment sets the mode before `main` runs.
public enum DeadlockDetection {
    /// How deadlocks are handled.
    public enum Mode: Int32, Sendable {
        /// No tracking.
        case off = 0
        /// Report cycles and lock-order inversions to the report handler (standard error by default).
        case report = 1
        /// Throw from the acquire that closes a cycle; report lock-order inversions.
        case `throw` = 2
    }

    /// What detection found.
    public enum Report: Sendable, CustomStringConvertible {
        /// Threads waiting for each other in a cycle.
        case deadlock(DeadlockError)
        /// Two locks taken in both orders.
        case lockOrderInversion(LockOrderInversion)

        public var description: String {
            switch self {
            case .deadlock(let error): return error.description
            case .lockOrderInversion(let inversion): return inversion.description
            }
        }
    }

    /// The mode; set it before the threads that should be watched take their locks.
    public static var mode: Mode {
        get { Mode(rawValue: deadlockModeValue) ?? .off }
        set { deadlockModeValue = newValue.rawValue }
    }

    /// Where reports go; `nil` restores the default (a line on standard error).
    public static var reportHandler: (@Sendable (Report) -> Void)? {
        get { DeadlockMonitor.handler.withLock { $0 } }
        set { DeadlockMonitor.handler.withLock { $0 = newValue } }
    }

    /// Describes every Spindle thread: name, ident, kernel id, daemon flag, and what it is blocked
    /// on (like Java's thread dump).
    /// - Returns: The dump, one paragraph per thread.
    public static func dumpThreads() -> String {
        let threads = SpindleThread.enumerate()
        var lines = ["Spindle thread dump (\(threads.count) threads):"]
        for thread in threads {
            let state = DeadlockMonitor.graph.withLock { graph -> String in
                switch thread.lockRecord.waitingFor {
                case nil: return "RUNNABLE"
                case .lock(let lock, let forever):
                    let owner = graph.records[lock.owner.load(ordering: .relaxed)].map { " (held by \"\($0.thread.name)\")" } ?? ""
                    return "\(forever ? "BLOCKED" : "TIMED_WAITING") on \(lock.site)\(owner)"
                case .thread(let other): return "WAITING for thread \"\(other.name)\" to finish"
                case .condition(let site): return "WAITING on Condition over \(site)"
                }
            }
            let ident = thread.ident.map(String.init) ?? "-"
            let native = thread.nativeID.map(String.init) ?? "-"
            lines.append("\"\(thread.name)\" ident=\(ident) tid=\(native)\(thread.daemon ? " daemon" : "")")
            lines.append("    \(state)")
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// Prints `dumpThreads()` to standard error whenever the process gets SIGQUIT (`kill -QUIT`,
    /// or Ctrl-\ in a terminal), instead of SIGQUIT's default core dump. Opt-in; call it once.
    /// - Throws: `SystemError` when the pipe or the handler cannot be set up.
    public static func dumpThreadsOnSIGQUIT() throws(SystemError) {
        var ends: [Int32] = [-1, -1]
        _ = try systemCall("pipe") { spindle_pipe_cloexec(&ends) }
        let readEnd = ends[0]
        _ = try systemCall("sigaction", subject: "SIGQUIT") { spindle_install_sigquit_pipe(ends[1]) }
        let watcher = SpindleThread(name: "spindle-sigquit", daemon: true) {
            var byte: UInt8 = 0
            while true {
                let n = read(readEnd, &byte, 1)
                if n < 0, errno == EINTR { continue }
                if n <= 0 { return }
                writeToStandardError(dumpThreads())
            }
        }
        do {
            try watcher.start()
        } catch {
            throw SystemError(call: "pthread_create", errno: EAGAIN, subject: "SIGQUIT watcher")
        }
    }
}
