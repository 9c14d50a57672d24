import SpindleSystem
#if canImport(Glibc)
import Glibc
#endif

/// Turns the running program into a well-behaved Unix daemon, as PEP 3143 and python-daemon's
/// `DaemonContext` describe.
///
/// The options are python-daemon's, with its defaults. `open()` runs PEP 3143's steps in order:
/// change the root directory, prevent core dumps, set the umask, change the working directory,
/// change the owner (supplementary groups, group, user), detach (fork, `setsid`, fork), install
/// the signal map, close every file not preserved, redirect the standard streams, and acquire the
/// pid file. A step that fails is a `DaemonError` naming it.
///
/// **Call `open()` first thing in `main`**, before starting threads, tasks or anything that
/// starts them: detaching forks, and a process can fork safely only while it has one thread (a
/// lock another thread held at the fork stays held forever in the child). When it is to detach,
/// `open()` counts the threads in `/proc/self/task` and refuses, naming the count, when there is
/// more than one. (An `async` main already runs Swift's concurrency threads: use a synchronous
/// `main`, and start async work after `open()`.)
///
/// When the context detaches, the process that called `open()` does not return from it: it waits
/// until the daemon reports, through a close-on-exec pipe, whether every step succeeded, then exits
/// with status 0 if so, or writes the error to standard error and exits with status 1. Only the
/// daemon returns. (A step before the detach fails in the caller itself, which gets the error.)
///
/// ```swift
/// @main struct Worker {
///     static func main() throws {
///         let context = DaemonContext(
///             workingDirectory: "/var/lib/worker",
///             umask: 0o022,
///             pidfile: PIDLockFile(path: "/run/worker.pid"),
///             stdout: "/var/log/worker.log",
///             stderr: "/var/log/worker.log")
///         try context.run {
///             serve()    // runs in the daemon; SIGTERM removes the pid file and ends it
///         }
///     }
/// }
/// ```
public final class DaemonContext: Sendable {
    /// The directory to make the root directory (`chroot`), or `nil` to leave it.
    public let chrootDirectory: String?
    /// The directory to change to, inside the new root if there is one; "/" by default, so the
    /// daemon keeps no file system busy.
    public let workingDirectory: String
    /// The file-creation mask to set; 0 by default.
    public let umask: mode_t
    /// The pid-file lock to acquire as the last step and release on `close()`, or `nil`.
    public let pidfile: PIDLockFile?
    /// Whether `open()` detaches: forks, starts a new session, and forks again.
    public let detachProcess: Bool
    /// The action for each signal; `DaemonContext.defaultSignalMap` by default.
    public let signalMap: [Int32: DaemonSignalAction]
    /// The user id to run as; the real user id by default, which gives up any effective
    /// (set-user-id) privilege.
    public let uid: uid_t
    /// The group id to run as; the real group id by default.
    public let gid: gid_t
    /// Whether to set the supplementary groups to those of `uid`'s user and `gid` (`initgroups(3)`;
    /// just `gid` when no user has that id); false by default, which leaves them as they are. Set
    /// it when a root process changes `uid`, or the daemon keeps root's groups.
    public let initgroups: Bool
    /// Whether to set the core-file size limit to 0, so a crash leaks no memory image; true by default.
    public let preventCore: Bool
    /// Descriptors to keep open; all others are closed, except the standard streams' targets.
    public let filesPreserve: [Int32]
    /// What standard input becomes; the null device by default.
    public let stdin: DaemonStream
    /// What standard output becomes; the null device by default.
    public let stdout: DaemonStream
    /// What standard error becomes; the null device by default.
    public let stderr: DaemonStream

    struct State {
        var isOpen = false
        /// The process that opened the context: a child it forks inherits the object, not the pid file.
        var daemonPID: pid_t = 0
    }

    let state = Locked(State())

    /// Creates a daemon context; nothing happens until `open()`.
    /// - Parameters:
    ///   - chrootDirectory: The new root directory, or `nil` to keep it.
    ///   - workingDirectory: The working directory for the daemon.
    ///   - umask: The file-creation mask.
    ///   - pidfile: The pid-file lock, or `nil`.
    ///   - detachProcess: Whether to detach; `nil` decides as python-daemon does
    ///     (`DaemonContext.isDetachRequired`): not when started by init or by a super-server.
    ///   - signalMap: The action for each signal.
    ///   - uid: The user id to run as, or `nil` for the real user id.
    ///   - gid: The group id to run as, or `nil` for the real group id.
    ///   - initgroups: Whether to set the supplementary groups of `uid`'s user.
    ///   - preventCore: Whether to forbid core files.
    ///   - filesPreserve: Descriptors to keep open.
    ///   - stdin: The target of standard input.
    ///   - stdout: The target of standard output.
    ///   - stderr: The target of standard error.
    public init(
        chrootDirectory: String? = nil,
        workingDirectory: String = "/",
        umask: mode_t = 0,
        pidfile: PIDLockFile? = nil,
        detachProcess: Bool? = nil,
        signalMap: [Int32: DaemonSignalAction] = DaemonContext.defaultSignalMap,
        uid: uid_t? = nil,
        gid: gid_t? = nil,
        initgroups: Bool = false,
        preventCore: Bool = true,
        filesPreserve: [Int32] = [],
        stdin: DaemonStream = .null,
        stdout: DaemonStream = .null,
        stderr: DaemonStream = .null
    ) {
        self.chrootDirectory = chrootDirectory
        self.workingDirectory = workingDirectory
        self.umask = umask
        self.pidfile = pidfile
        self.detachProcess = detachProcess ?? DaemonContext.isDetachRequired
        self.signalMap = signalMap
        self.uid = uid ?? getuid()
        self.gid = gid ?? getgid()
        self.initgroups = initgroups
        self.preventCore = preventCore
        self.filesPreserve = filesPreserve
        self.stdin = stdin
        self.stdout = stdout
        self.stderr = stderr
    }

    /// python-daemon's default signal map: SIGTSTP, SIGTTIN and SIGTTOU ignored (a daemon has no
    /// terminal to be stopped by), SIGTERM ends the daemon cleanly (`DaemonSignalAction.terminate`).
    public static let defaultSignalMap: [Int32: DaemonSignalAction] = [
        SIGTSTP: .ignore, SIGTTIN: .ignore, SIGTTOU: .ignore, SIGTERM: .terminate,
    ]

    /// Whether the process was started by init: its parent is pid 1.
    public static var isStartedByInit: Bool { getppid() == 1 }

    /// Whether the process was started by a super-server such as inetd: its standard input is a socket.
    public static var isStartedBySuperServer: Bool { DaemonProcess.isSocket(0) }

    /// Whether the process has to detach to become a daemon: true unless init or a super-server
    /// started it, which have done the detaching already (the default of `detachProcess`).
    public static var isDetachRequired: Bool {
        DaemonProcess.detachRequired(parentPID: getppid(), stdinIsSocket: isStartedBySuperServer)
    }

    /// Whether the context is open: `open()` succeeded and `close()` has not run since.
    public var isOpen: Bool { state.withLock { $0.isOpen } }

    /// Ends the daemon context (python-daemon's `close()`): releases the pid file, which removes
    /// it. Does nothing when the context is not open, and nothing to the pid file in a child the
    /// daemon forked. It also runs when the daemon exits through `exit()` or by returning from `main`.
    /// - Throws: `DaemonError` with step "close" when the pid file cannot be removed.
    public func close() throws(DaemonError) {
        let (wasOpen, owner) = state.withLock { current -> (Bool, pid_t) in
            defer { current.isOpen = false }
            return (current.isOpen, current.daemonPID)
        }
        guard wasOpen else { return }
        openContexts.withLock { $0.removeAll { $0 === self } }
        guard owner == getpid() else { return }
        DaemonContext.armTerminate(pidfile: nil)
        guard let pidfile, pidfile.holdsLock else { return }
        do {
            try pidfile.release()
        } catch {
            throw DaemonError(step: "close", message: error.message, errno: error.errno)
        }
    }

    /// Opens the context, runs `body` in the daemon, and closes the context — the scoped form,
    /// python-daemon's `with DaemonContext(): ...`.
    /// - Parameter body: The daemon's work.
    /// - Returns: What `body` returns.
    /// - Throws: A `DaemonError` from `open()` or `close()`, or what `body` throws (the context is
    ///   closed then too).
    public func run<Result>(_ body: () throws -> Result) throws -> Result {
        try open()
        let result: Result
        do {
            result = try body()
        } catch {
            try? close()
            throw error
        }
        try close()
        return result
    }
}

/// The contexts open in this process, closed at exit.
let openContexts = Locked<[DaemonContext]>([])
/// Whether the exit handler is registered.
let exitHandlerRegistered = Locked(false)

/// Closes every open context as the process exits (python-daemon registers `close` with `atexit`).
func closeOpenContextsAtExit() {
    let contexts = openContexts.withLock { $0 }
    for context in contexts { try? context.close() }
}
