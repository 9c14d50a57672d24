import SpindleSystem
#if canImport(Glibc)
import Glibc
#endif

extension PIDLockFile {
    /// Stops the daemon that holds this pid file, as `start-stop-daemon --stop` does: sends it
    /// SIGTERM, waits up to `timeout` seconds for it to end, then sends SIGKILL; removes the pid
    /// file if the daemon left it behind (a daemon that exec'd a program cannot remove it itself).
    ///
    /// Only a daemon that holds the file's lock is signalled, so a stale file naming a pid that
    /// now belongs to an unrelated process never gets that process killed.
    /// - Parameter timeout: Seconds to wait after SIGTERM before SIGKILL.
    /// - Returns: Whether the daemon ended on SIGTERM or had to be killed.
    /// - Throws: `DaemonError` with step "stop": no daemon runs (no file, or a stale one — the
    ///   message says which), the file does not hold a pid, the signal cannot be sent, or the
    ///   process survives SIGKILL.
    @discardableResult
    public func stopDaemon(timeout: Double = 10) throws(DaemonError) -> DaemonStopResult {
        let named: pid_t?
        do {
            named = try readPID()
        } catch {
            throw DaemonError(step: "stop", message: error.message, errno: error.errno)
        }
        guard let pid = named else {
            throw DaemonError(step: "stop", message: "no daemon is running: \(path) does not exist", errno: ENOENT)
        }
        let running = DaemonProcess.isRunning(pid)
        guard isLocked else {
            let why = running ? "which does not hold its lock" : "which is not running"
            throw DaemonError(step: "stop", message: "no daemon is running: \(path) is stale (it names pid \(pid), \(why))")
        }
        if holdsLock {
            throw DaemonError(step: "stop", message: "\(path) is held by this process (pid \(pid)), which will not stop itself")
        }
        guard running else {
            throw DaemonError(
                step: "stop",
                message: "\(path) names pid \(pid), which is not running, but another process holds its lock")
        }
        if kill(pid, SIGTERM) == -1, errno != ESRCH {
            throw DaemonError.system("stop", "kill(\(pid), SIGTERM)")
        }
        var result = DaemonStopResult.terminated
        if !Self.waitForExit(pid, seconds: timeout) {
            result = .killed
            if kill(pid, SIGKILL) == -1, errno != ESRCH {
                throw DaemonError.system("stop", "kill(\(pid), SIGKILL)")
            }
            guard Self.waitForExit(pid, seconds: 10) else {
                throw DaemonError(step: "stop", message: "process \(pid) is still running after SIGKILL")
            }
        }
        // The daemon is gone; its lock went with it. Remove the file if it still names the daemon.
        if (try? readPID()) == pid, !isLocked {
            unlink(path)
        }
        return result
    }

    /// Polls until `pid` is no longer running.
    /// - Returns: Whether it ended within `seconds`.
    private static func waitForExit(_ pid: pid_t, seconds: Double) -> Bool {
        let deadline = Deadline.after(seconds: max(0, seconds))
        while DaemonProcess.isRunning(pid) {
            if deadline.hasPassed { return false }
            var interval = timespec(tv_sec: 0, tv_nsec: 10_000_000)
            _ = nanosleep(&interval, nil)
        }
        return true
    }
}
