import SpindleSystem
#if canImport(Glibc)
import Glibc
#endif

/// A pid file that is also the lock saying a daemon runs (python-daemon's `PIDLockFile` and
/// `TimeoutPIDLockFile`), locked with `flock(2)`.
///
/// `acquire()` opens (creating it, mode 0644) the file, takes an exclusive `flock` on it without
/// blocking and writes the process id and a newline. The lock lives as long as the descriptor —
/// in this process and in any process that inherits it across `fork` or `exec` — and the kernel
/// drops it when the last holder exits, however it exits. So a file that nobody has locked is
/// stale, whatever pid it names, and the next `acquire()` takes it over; a locked file is
/// refused with an error naming the pid it holds. `release()` removes the file, then unlocks.
///
/// ```swift
/// let pidfile = PIDLockFile(path: "/run/worker.pid")
/// try pidfile.acquire()          // DaemonError(step: "pidfile") when a worker already runs
/// defer { try? pidfile.release() }
/// ```
public final class PIDLockFile: Sendable, CustomStringConvertible {
    /// The file's absolute path (a relative path given to `init` is made absolute at once).
    public let path: String
    /// Seconds `acquire()` waits for a lock another process holds: 0 refuses at once (the
    /// default), `nil` waits as long as it takes.
    public let acquireTimeout: Double?

    private struct Holding {
        /// The locked descriptor, close-on-exec until `DaemonContext.exec(_:)` clears the flag.
        var fd: Int32
        /// The process that acquired the lock; a forked child inherits the object but not the role.
        var owner: pid_t
    }

    private let holding = Locked<Holding?>(nil)

    /// Creates the lock file object; nothing is opened until `acquire()`.
    /// - Parameters:
    ///   - path: The pid file's path; a relative path is taken relative to the current directory now.
    ///   - acquireTimeout: Seconds to wait for a lock another process holds: 0 (the default)
    ///     refuses at once, `nil` waits as long as it takes.
    public init(path: String, acquireTimeout: Double? = 0) {
        self.path = PIDLockFile.absolutePath(path)
        self.acquireTimeout = acquireTimeout
    }

    /// "PIDLockFile(`path`)".
    public var description: String { "PIDLockFile(\(path))" }

    /// Takes the lock and writes this process's id to the file, waiting at most `acquireTimeout`.
    /// - Throws: `DaemonError` with step `"pidfile"`: the file is locked by another process (the
    ///   message names the pid in the file), or it cannot be opened or written.
    public func acquire() throws(DaemonError) {
        try acquire(timeout: acquireTimeout)
    }

    /// Takes the lock and writes this process's id to the file, waiting at most `timeout` seconds.
    ///
    /// A file that exists but is not locked — left by a process that died, or naming a pid that
    /// is dead or reused — is stale and taken over.
    /// - Parameter timeout: Seconds to wait for a lock another process holds: 0 or less refuses at
    ///   once, `nil` waits as long as it takes.
    /// - Throws: `DaemonError` with step `"pidfile"`: the file is locked by another process, this
    ///   object already holds it, or the file cannot be opened or written.
    public func acquire(timeout: Double?) throws(DaemonError) {
        let me = getpid()
        let inherited: Int32? = holding.withLock { held in
            guard let current = held, current.owner != me else { return nil }
            held = nil
            return current.fd
        }
        // A forked child's copy of its parent's descriptor: the lock stays the parent's.
        if let inherited { _ = try? closeDescriptor(inherited) }
        if holdsLock {
            throw DaemonError(step: "pidfile", message: "\(path) is already locked by this process (pid \(me))")
        }
        let deadline = Deadline.after(seconds: timeout.map { max(0, $0) })
        while true {
            let fd = try openLockFile()
            if flock(fd, LOCK_EX | LOCK_NB) == 0 {
                // The file may have been removed or replaced between open and flock by a holder
                // releasing it; the lock must be on the file the path names now.
                guard Self.isSameFile(fd, path) else {
                    _ = try? closeDescriptor(fd)
                    continue
                }
                do {
                    try Self.writePID(me, to: fd, path: path)
                } catch {
                    unlink(path)
                    _ = try? closeDescriptor(fd)
                    throw error
                }
                holding.withLock { $0 = Holding(fd: fd, owner: me) }
                return
            }
            let code = errno
            if code != EWOULDBLOCK && code != EINTR {
                _ = try? closeDescriptor(fd)
                throw DaemonError.system("pidfile", "flock(\(path))", errno: code)
            }
            let named = Self.parsePID(Self.readContents(fd))
            _ = try? closeDescriptor(fd)
            if code == EWOULDBLOCK, deadline.hasPassed {
                throw lockedError(holder: named, waited: timeout.map { max(0, $0) } ?? 0)
            }
            let pause = min(0.02, deadline.remainingSeconds ?? 0.02)
            var interval = timespec(tv_sec: 0, tv_nsec: Int(pause * 1e9))
            _ = nanosleep(&interval, nil)
        }
    }

    /// Removes the file, then unlocks it (python's `release()`).
    ///
    /// In a child forked after `acquire()`, only the child's copy of the descriptor is closed:
    /// the file and the lock stay with the process that acquired them.
    /// - Throws: `DaemonError` with step `"pidfile"`: this object does not hold the lock (the
    ///   message says whether another process does), or the file cannot be removed.
    public func release() throws(DaemonError) {
        let released = holding.withLock { held -> Holding? in
            defer { held = nil }
            return held
        }
        guard let released else {
            if isLocked, let pid = try? readPID() {
                throw DaemonError(step: "pidfile", message: "\(path) is locked by process \(pid), not by this process")
            }
            throw DaemonError(step: "pidfile", message: "\(path) is not locked by this process")
        }
        var failure: DaemonError?
        if released.owner == getpid(), Self.isSameFile(released.fd, path) {
            if unlink(path) == -1, errno != ENOENT {
                failure = DaemonError.system("pidfile", "unlink(\(path))")
            }
        }
        _ = try? closeDescriptor(released.fd)
        if let failure { throw failure }
    }

    /// Removes the file whoever holds it (python's `break_lock()`); a holder keeps its lock on the
    /// removed file, and the next `acquire()` creates a new one. Does nothing when there is no file.
    /// - Throws: `DaemonError` with step `"pidfile"` when the file exists but cannot be removed.
    public func breakLock() throws(DaemonError) {
        let mine = holding.withLock { held -> Holding? in
            defer { held = nil }
            return held
        }
        if let mine { _ = try? closeDescriptor(mine.fd) }
        if unlink(path) == -1, errno != ENOENT {
            throw DaemonError.system("pidfile", "unlink(\(path))")
        }
    }

    /// The pid the file names (python's `read_pid()`), or `nil` when there is no file.
    ///
    /// As the FHS asks of readers, whitespace, leading zeros, a missing newline and further
    /// lines are tolerated.
    /// - Returns: The pid, or `nil` when the file does not exist.
    /// - Throws: `DaemonError` with step `"pidfile"` when the file cannot be read or its first
    ///   line is not a positive number.
    public func readPID() throws(DaemonError) -> pid_t? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        if fd == -1 {
            if errno == ENOENT { return nil }
            throw DaemonError.system("pidfile", "open(\(path))")
        }
        defer { _ = try? closeDescriptor(fd) }
        let contents = Self.readContents(fd)
        guard let pid = Self.parsePID(contents) else {
            let shown = contents.prefix(40).debugDescription
            throw DaemonError(step: "pidfile", message: "\(path) does not hold a pid: \(shown)")
        }
        return pid
    }

    /// Whether any process holds the lock: this object, or another process (python's `is_locked()`).
    ///
    /// Another process's lock is detected by taking a shared lock for an instant, which an
    /// `acquire()` running at that same instant in a third process would see as held.
    public var isLocked: Bool {
        if holdsLock { return true }
        let fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)
        if fd == -1 { return false }
        defer { _ = try? closeDescriptor(fd) }
        if flock(fd, LOCK_SH | LOCK_NB) == 0 {
            _ = flock(fd, LOCK_UN)
            return false
        }
        return errno == EWOULDBLOCK
    }

    /// Whether this object holds the lock in this process (python's `i_am_locking()`).
    public var holdsLock: Bool {
        let me = getpid()
        return holding.withLock { $0?.owner == me }
    }

    /// The locked descriptor while this process holds the lock.
    package var lockDescriptor: Int32? {
        let me = getpid()
        return holding.withLock { $0?.owner == me ? $0?.fd : nil }
    }

    // MARK: - Helpers

    private func openLockFile() throws(DaemonError) -> Int32 {
        do {
            return try systemCall("open", subject: path) { open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0o644) }
        } catch {
            throw DaemonError.system("pidfile", "open(\(path))", errno: error.errno)
        }
    }

    private func lockedError(holder: pid_t?, waited: Double) -> DaemonError {
        let suffix = waited > 0 ? " (waited \(waited) s)" : ""
        guard let holder else {
            return DaemonError(step: "pidfile", message: "\(path) is locked by another process\(suffix)", errno: EWOULDBLOCK)
        }
        if DaemonProcess.isRunning(holder) {
            return DaemonError(
                step: "pidfile", message: "\(path) is locked by running process \(holder)\(suffix)", errno: EWOULDBLOCK)
        }
        return DaemonError(
            step: "pidfile",
            message: "\(path) is locked by another process (it names pid \(holder), which is not running)\(suffix)",
            errno: EWOULDBLOCK)
    }

    /// The pid on the first line of `text`, or `nil` when it holds none.
    /// - Parameter text: A pid file's contents.
    /// - Returns: The positive pid, or `nil`.
    package static func parsePID(_ text: String) -> pid_t? {
        let line = text.utf8.prefix { $0 != UInt8(ascii: "\n") }
        let blank: (UInt8) -> Bool = { $0 == UInt8(ascii: " ") || $0 == UInt8(ascii: "\t") || $0 == UInt8(ascii: "\r") }
        let trimmed = line.drop(while: blank).reversed().drop(while: blank).reversed()
        guard let pid = pid_t(String(decoding: trimmed, as: UTF8.self)), pid > 0 else { return nil }
        return pid
    }

    /// `path` made absolute against the current directory.
    /// - Parameter path: A path.
    /// - Returns: The absolute path.
    package static func absolutePath(_ path: String) -> String {
        if path.hasPrefix("/") { return path }
        guard let cwd = getcwd(nil, 0) else { return path }
        defer { free(cwd) }
        let base = String(cString: cwd)
        return base.hasSuffix("/") ? base + path : base + "/" + path
    }

    private static func isSameFile(_ fd: Int32, _ path: String) -> Bool {
        var open = stat()
        var named = stat()
        guard fstat(fd, &open) == 0, lstat(path, &named) == 0 else { return false }
        return open.st_dev == named.st_dev && open.st_ino == named.st_ino
    }

    private static func readContents(_ fd: Int32) -> String {
        var bytes = [UInt8](repeating: 0, count: 128)
        var count = 0
        while count < bytes.count {
            let n = bytes.withUnsafeMutableBytes { pread(fd, $0.baseAddress! + count, $0.count - count, off_t(count)) }
            if n < 0, errno == EINTR { continue }
            if n <= 0 { break }
            count += n
        }
        return String(decoding: bytes[0..<count], as: UTF8.self)
    }

    private static func writePID(_ pid: pid_t, to fd: Int32, path: String) throws(DaemonError) {
        if ftruncate(fd, 0) == -1 { throw DaemonError.system("pidfile", "ftruncate(\(path))") }
        let line = Array("\(pid)\n".utf8)
        var offset = 0
        while offset < line.count {
            let n = line.withUnsafeBytes { pwrite(fd, $0.baseAddress! + offset, $0.count - offset, off_t(offset)) }
            if n < 0 {
                if errno == EINTR { continue }
                throw DaemonError.system("pidfile", "write(\(path))")
            }
            offset += n
        }
    }
}
