#if canImport(Glibc)
import Glibc
#endif

/// A step of becoming, running or stopping a daemon that failed, named after the step
/// (python-daemon's `DaemonOSEnvironmentError`, `DaemonProcessDetachError` and the pid-file
/// lock errors in one type).
///
/// The steps of `DaemonContext.open()`, in the order they run:
/// `"thread check"`, `"open stdin"`, `"open stdout"`, `"open stderr"`, `"chroot"`,
/// `"prevent core"`, `"umask"`, `"chdir"`, `"initgroups"`, `"setgid"`, `"setuid"`, `"detach"`,
/// `"signal handlers"`, `"close files"`, `"redirect streams"`, `"pidfile"`; then `"exec"` for
/// `DaemonContext.exec(_:)`, `"close"` for `DaemonContext.close()`, `"pidfile"` for the
/// operations of `PIDLockFile`, and `"stop"` for `PIDLockFile.stopDaemon(timeout:)`.
public struct DaemonError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The step that failed, such as `"chroot"` or `"setuid"`.
    public let step: String
    /// What went wrong, with the path or id involved.
    public let message: String
    /// The `errno` of the system call that failed, when one did.
    public let errno: Int32?

    /// Creates the error.
    /// - Parameters:
    ///   - step: The step that failed.
    ///   - message: What went wrong.
    ///   - errno: The `errno` of the failed system call, if any.
    public init(step: String, message: String, errno: Int32? = nil) {
        self.step = step
        self.message = message
        self.errno = errno
    }

    /// The error of a system call that failed with the current `errno`.
    /// - Parameters:
    ///   - step: The step that failed.
    ///   - call: The call, with its subject, as in `"chroot(/srv/jail)"`.
    ///   - code: The error number (the current `errno` when omitted).
    /// - Returns: The error, whose message is "`call`: the C library's text for `code`".
    package static func system(_ step: String, _ call: String, errno code: Int32 = Glibc.errno) -> DaemonError {
        DaemonError(step: step, message: "\(call): \(String(cString: strerror(code)))", errno: code)
    }

    /// "daemon: `step` failed: `message`", as the daemon tools print it.
    public var description: String { "daemon: \(step) failed: \(message)" }
}
