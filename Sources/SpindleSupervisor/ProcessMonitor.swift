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
