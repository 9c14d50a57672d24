#if canImport(Glibc)
import Glibc
#endif
import CSpindle
import SpindleSubprocess
import SpindleSystem

/// spindled as a child subreaper: orphaned descendants of its programs (a grandchild whose
/// parent exited, a daemon that double-forked) are re-parented to spindled instead of init, and
/// spindled reaps them when they exit, so none lingers as a zombie.
///
/// Only adopted orphans are reaped: a zombie child that a `Popen` started (a program's main
/// process, whose exit status the supervisor reads) is left to its `Popen`.
public enum OrphanReaper {
    /// Makes this process a child subreaper (`prctl(PR_SET_CHILD_SUBREAPER)`).
    /// - Throws: `SystemError` when the kernel refuses.
    public static func becomeSubreaper() throws(SystemError) {
        if spindle_set_child_subreaper() != 0 {
            throw SystemError(call: "prctl", errno: errno, subject: "PR_SET_CHILD_SUBREAPER")
        }
    }

    /// Whether this process is a child subreaper.
    public static var isSubreaper: Bool { spindle_is_child_subreaper() == 1 }

    /// Reaps every adopted orphan that has exited (call it on SIGCHLD).
    /// - Returns: The pids reaped.
    @discardableResult
    public static func reap() -> [Int32] {
        let me = getpid()
        return SpawnedChildren.exclusively { isSpawned in
            var reaped: [Int32] = []
            for entry in ProcessTable.all() where entry.ppid == me && entry.isZombie && !isSpawned(entry.pid) {
                var status: Int32 = 0
                if spindle_wait_child(entry.pid, 1, &status) == entry.pid { reaped.append(entry.pid) }
            }
            return reaped
        }
    }
}
