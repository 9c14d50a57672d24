import CSpindle
import SpindleThreading

/// Waits for children whose `Popen` was freed while they still ran, so none becomes a zombie.
enum ChildReaper {
    /// Takes over waiting for `pid`.
    /// - Parameter pid: A child of this process that nobody else will wait for.
    static func adopt(pid: Int32) {
        let reaper = SpindleThread(name: "spindle-reaper-\(pid)", daemon: true) {
            var status: Int32 = 0
            _ = spindle_wait_child(pid, 0, &status)
            SpawnedChildren.reaped(pid)
        }
        do {
            try reaper.start()
        } catch {
            var status: Int32 = 0
            if spindle_wait_child(pid, 1, &status) == pid {  // no thread to spare: reap it if it has ended
                SpawnedChildren.reaped(pid)
            }
        }
    }
}
