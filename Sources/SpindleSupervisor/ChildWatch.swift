#if canImport(Glibc)
import Glibc
#endif
import CSpindle
import SpindleSubprocess
import SpindleSystem
import SpindleThreading

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
