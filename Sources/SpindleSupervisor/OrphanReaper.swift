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
    ///
    /// It looks only at this process's own children (the `children` lists of its threads),
    /// not at every process of the machine; a child that is not a spawned one's is waited for
    /// without blocking, which reaps it if it has exited. Where the kernel keeps no such lists,
    /// the zombies among all processes whose parent this is are looked for instead.
    /// - Returns: The pids reaped.
    @discardableResult
    public static func reap() -> [Int32] {
        // Looked for outside the exclusive section (spawns are not held up by the scan): a
        // child seen here whose spawn has not registered it yet is registered by the time the
        // section is entered, since a spawn registers its child before it lets the section in.
        let candidates: [Int32]
        if let children = ProcessTable.ownChildren() {
            candidates = children
        } else {
            let me = getpid()
            candidates = ProcessTable.all().filter { $0.ppid == me && $0.isZombie }.map(\.pid)
        }
        if candidates.isEmpty { return [] }
        return SpawnedChildren.exclusively { isSpawned in
            var reaped: [Int32] = []
            for pid in candidates where !isSpawned(pid) {
                var status: Int32 = 0
                if spindle_wait_child(pid, 1, &status) == pid { reaped.append(pid) }
            }
            return reaped
        }
    }
}
