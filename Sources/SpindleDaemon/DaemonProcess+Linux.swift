import CSpindle
import SpindleSystem
#if canImport(Glibc)
import Glibc
#endif

/// The system calls behind the steps of `DaemonContext.open()`, and the `/proc` queries about
/// processes that the daemon tools need. Every failure is a `DaemonError` naming its step.
package enum DaemonProcess {
    // MARK: - Questions about processes

    /// Whether `pid` names a live process: one that exists and is not a zombie waiting to be reaped.
    /// - Parameter pid: The process id.
    /// - Returns: Whether it runs.
    package static func isRunning(_ pid: pid_t) -> Bool {
        guard pid > 0 else { return false }
        if kill(pid, 0) == -1, errno != EPERM { return false }
        guard let state = stat(of: pid)?.state else { return true }  // no /proc: trust kill(2)
        return state != "Z" && state != "X"
    }

    /// The fields of `/proc/PID/stat` the daemon tools use.
    package struct Stat: Sendable, Equatable {
        /// The state letter: R, S, D, Z, T...
        package var state: Character
        /// The parent process id.
        package var parentPID: pid_t
        /// The process group id.
        package var processGroup: pid_t
        /// The session id.
        package var session: pid_t
        /// The controlling terminal's device number; 0 when there is none.
        package var ttyNumber: Int32
    }

    /// Reads `/proc/PID/stat`.
    /// - Parameter pid: The process id.
    /// - Returns: The fields, or `nil` when the process or `/proc` is not there.
    package static func stat(of pid: pid_t) -> Stat? {
        guard let text = readSmallFile("/proc/\(pid)/stat") else { return nil }
        return parseStat(text)
    }

    /// Parses the text of a `/proc/PID/stat` file.
    /// - Parameter text: The file's contents: "pid (comm) state ppid pgrp session tty_nr ...".
    /// - Returns: The fields, or `nil` when the text is not in that form.
    package static func parseStat(_ text: String) -> Stat? {
        // The command name may itself hold spaces and parentheses: the fields start after the last ')'.
        guard let close = text.lastIndex(of: ")") else { return nil }
        let fields = text[text.index(after: close)...].split(separator: " ")
        guard fields.count >= 5, let state = fields[0].first,
            let parent = pid_t(fields[1]), let group = pid_t(fields[2]), let session = pid_t(fields[3]),
            let tty = Int32(fields[4])
        else { return nil }
        return Stat(state: state, parentPID: parent, processGroup: group, session: session, ttyNumber: tty)
    }

    /// How many threads the calling process has, from `/proc/self/task`.
    /// - Returns: The count, or `nil` when `/proc` cannot be read.
    package static func threadCount() -> Int? {
        guard let directory = opendir("/proc/self/task") else { return nil }
        defer { closedir(directory) }
        var count = 0
        while let entry = readdir(directory) {
            let isDot = withUnsafeBytes(of: entry.pointee.d_name) { $0.first == UInt8(ascii: ".") }
            if !isDot { count += 1 }
        }
        return count
    }

    /// Whether `fd` is an open socket (python-daemon's `is_socket`).
    /// - Parameter fd: The descriptor.
    /// - Returns: Whether asking it for its socket type succeeds.
    package static func isSocket(_ fd: Int32) -> Bool {
        var type: Int32 = 0
        var length = socklen_t(MemoryLayout<Int32>.size)
        return getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &length) == 0
    }

    /// Whether a process needs to detach, given how it was started: not when its parent is init
    /// (pid 1) and not when a super-server such as inetd started it with a socket as its
    /// standard input (python-daemon's `is_detach_process_context_required`).
    /// - Parameters:
    ///   - parentPID: The parent's pid.
    ///   - stdinIsSocket: Whether standard input is a socket.
    /// - Returns: Whether to detach.
    package static func detachRequired(parentPID: pid_t, stdinIsSocket: Bool) -> Bool {
        !(parentPID == 1 || stdinIsSocket)
    }

    /// The whole of a small file (such as one under `/proc`), or `nil` when it cannot be read.
    /// - Parameter path: The file.
    /// - Returns: Its text.
    package static func readSmallFile(_ path: String) -> String? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        if fd == -1 { return nil }
        defer { _ = try? closeDescriptor(fd) }
        var data: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress!, $0.count) }
            if n < 0, errno == EINTR { continue }
            if n < 0 { return nil }
            if n == 0 { break }
            data.append(contentsOf: buffer[0..<n])
        }
        return String(decoding: data, as: UTF8.self)
    }

    // MARK: - The steps of open()

    /// Opens (or checks) the target of a standard stream, before the steps run.
    /// - Parameters:
    ///   - stream: The target.
    ///   - name: "stdin", "stdout" or "stderr", for the step's name.
    ///   - output: Whether the stream is written (append and create) rather than read.
    /// - Returns: The descriptor to duplicate onto the stream, and whether it was opened here (and
    ///   so is to be closed once duplicated). Descriptors opened here are close-on-exec and above 2.
    /// - Throws: `DaemonError` with step "open `name`".
    package static func prepareStream(
        _ stream: DaemonStream, name: String, output: Bool
    ) throws(DaemonError) -> (fd: Int32, opened: Bool) {
        let step = "open \(name)"
        let path: String
        let flags: Int32
        switch stream {
        case .descriptor(let fd):
            if fcntl(fd, F_GETFD) == -1 { throw DaemonError.system(step, "fd \(fd)") }
            return (fd, false)
        case .null:
            path = "/dev/null"
            flags = O_RDWR
        case .path(let target):
            path = target
            flags = output ? O_WRONLY | O_CREAT | O_APPEND : O_RDONLY
        }
        let fd: Int32
        do {
            fd = try systemCall("open") { open(path, flags | O_CLOEXEC | O_NOCTTY, 0o666) }
        } catch {
            throw DaemonError.system(step, "open(\(path))", errno: error.errno)
        }
        if fd > 2 { return (fd, true) }
        // Keep 0-2 free for the streams themselves.
        let moved = fcntl(fd, F_DUPFD_CLOEXEC, 3)
        let code = errno
        _ = try? closeDescriptor(fd)
        if moved == -1 { throw DaemonError.system(step, "fcntl(\(path), F_DUPFD_CLOEXEC)", errno: code) }
        return (moved, true)
    }

    /// Changes the root directory: chdir to it, then chroot (python-daemon's `change_root_directory`).
    /// - Parameter directory: The new root.
    /// - Throws: `DaemonError` with step "chroot".
    package static func changeRoot(_ directory: String) throws(DaemonError) {
        if chdir(directory) == -1 { throw DaemonError.system("chroot", "chdir(\(directory))") }
        if chroot(directory) == -1 { throw DaemonError.system("chroot", "chroot(\(directory))") }
    }

    /// Sets the core-file size limit, soft and hard, to 0 (python-daemon's `prevent_core_dump`).
    /// - Throws: `DaemonError` with step "prevent core".
    package static func preventCoreDump() throws(DaemonError) {
        var none = rlimit(rlim_cur: 0, rlim_max: 0)
        if setrlimit(__rlimit_resource_t(RLIMIT_CORE.rawValue), &none) == -1 {
            throw DaemonError.system("prevent core", "setrlimit(RLIMIT_CORE, 0)")
        }
    }

    /// Changes the working directory (python-daemon's `change_working_directory`).
    /// - Parameter directory: The directory.
    /// - Throws: `DaemonError` with step "chdir".
    package static func changeWorkingDirectory(_ directory: String) throws(DaemonError) {
        if chdir(directory) == -1 { throw DaemonError.system("chdir", "chdir(\(directory))") }
    }

    /// Changes the process's owner: the supplementary groups (when `initgroups` is set), then the
    /// group, then the user — in that order, since changing the user first would give up the right
    /// to change the rest (python-daemon's `change_process_owner`).
    /// - Parameters:
    ///   - uid: The user id.
    ///   - gid: The group id.
    ///   - initgroups: Whether to set the supplementary groups to those of `uid`'s user, and `gid`;
    ///     just `gid` when no user has that id.
    /// - Throws: `DaemonError` with step "initgroups", "setgid" or "setuid".
    package static func changeOwner(uid: uid_t, gid: gid_t, initgroups useGroups: Bool) throws(DaemonError) {
        if useGroups {
            if let name = userName(for: uid) {
                if initgroups(name, gid) == -1 { throw DaemonError.system("initgroups", "initgroups(\(name), \(gid))") }
            } else {
                var only = gid
                if setgroups(1, &only) == -1 { throw DaemonError.system("initgroups", "setgroups([\(gid)])") }
            }
        }
        if setgid(gid) == -1 { throw DaemonError.system("setgid", "setgid(\(gid))") }
        if setuid(uid) == -1 { throw DaemonError.system("setuid", "setuid(\(uid))") }
    }

    /// The name of the user with id `uid`, or `nil` when there is none.
    /// - Parameter uid: The user id.
    /// - Returns: The name.
    package static func userName(for uid: uid_t) -> String? {
        var entry = passwd()
        var result: UnsafeMutablePointer<passwd>?
        var buffer = [CChar](repeating: 0, count: 16_384)
        let code = getpwuid_r(uid, &entry, &buffer, buffer.count, &result)
        guard code == 0, let result, let name = result.pointee.pw_name else { return nil }
        return String(cString: name)
    }

    /// Installs the actions of a signal map (python-daemon's `set_signal_handlers`) and unblocks
    /// those signals, so that the actions run even when the process inherited them blocked (a
    /// process forked from a Dispatch worker thread has most signals blocked, for instance).
    /// - Parameter map: Signal numbers and their actions.
    /// - Throws: `DaemonError` with step "signal handlers".
    package static func setSignalActions(_ map: [Int32: DaemonSignalAction]) throws(DaemonError) {
        for (signal, action) in map.sorted(by: { $0.key < $1.key }) {
            let result: Int32
            switch action {
            case .ignore: result = spindle_daemon_set_signal_action(signal, SPINDLE_SIGNAL_IGNORE, nil)
            case .default: result = spindle_daemon_set_signal_action(signal, SPINDLE_SIGNAL_DEFAULT, nil)
            case .terminate: result = spindle_daemon_set_signal_action(signal, SPINDLE_SIGNAL_TERMINATE, nil)
            case .handler(let handler): result = spindle_daemon_set_signal_action(signal, SPINDLE_SIGNAL_HANDLER, handler)
            }
            if result == -1 { throw DaemonError.system("signal handlers", "sigaction(\(signalName(signal)))") }
            if spindle_daemon_unblock_signal(signal) == -1 {
                throw DaemonError.system("signal handlers", "pthread_sigmask(\(signalName(signal)))")
            }
        }
    }

    /// The action currently installed for `signal`, as far as it can be told.
    /// - Parameter signal: The signal number.
    /// - Returns: `.ignore`, `.default` or `.terminate`, or `nil` for another handler or an invalid signal.
    package static func signalAction(_ signal: Int32) -> DaemonSignalAction? {
        switch spindle_daemon_signal_action(signal) {
        case SPINDLE_SIGNAL_IGNORE: return .ignore
        case SPINDLE_SIGNAL_DEFAULT: return .default
        case SPINDLE_SIGNAL_TERMINATE: return .terminate
        default: return nil
        }
    }

    /// The signal's name, such as "SIGTERM", or its number.
    /// - Parameter signal: The signal number.
    /// - Returns: The name.
    package static func signalName(_ signal: Int32) -> String {
        let names: [Int32: String] = [
            SIGHUP: "SIGHUP", SIGINT: "SIGINT", SIGQUIT: "SIGQUIT", SIGILL: "SIGILL", SIGABRT: "SIGABRT",
            SIGKILL: "SIGKILL", SIGUSR1: "SIGUSR1", SIGSEGV: "SIGSEGV", SIGUSR2: "SIGUSR2", SIGPIPE: "SIGPIPE",
            SIGALRM: "SIGALRM", SIGTERM: "SIGTERM", SIGCHLD: "SIGCHLD", SIGCONT: "SIGCONT", SIGSTOP: "SIGSTOP",
            SIGTSTP: "SIGTSTP", SIGTTIN: "SIGTTIN", SIGTTOU: "SIGTTOU", SIGWINCH: "SIGWINCH",
        ]
        return names[signal] ?? "signal \(signal)"
    }

    /// The highest descriptor count to sweep when close_range(2) is missing: the hard limit on
    /// open files, or 2048 when that is unlimited (python-daemon's `get_maximum_file_descriptors`).
    /// - Returns: The count.
    package static func maximumFileDescriptors() -> Int {
        var limit = rlimit()
        guard getrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &limit) == 0, limit.rlim_max != rlim_t.max
        else { return 2048 }
        return Int(min(limit.rlim_max, 1 << 20))
    }

    /// Closes every descriptor except `keep` (python-daemon's `close_all_open_files`).
    /// - Parameter keep: The descriptors to leave open.
    /// - Throws: `DaemonError` with step "close files".
    package static func closeAllOpenFiles(except keep: Set<Int32>) throws(DaemonError) {
        var first: UInt32 = 0
        for fd in keep.filter({ $0 >= 0 }).sorted() {
            let kept = UInt32(fd)
            if kept > first { try closeRange(first, kept - 1) }
            first = kept &+ 1
        }
        try closeRange(first, UInt32.max)
    }

    private static func closeRange(_ first: UInt32, _ last: UInt32) throws(DaemonError) {
        if spindle_daemon_close_range(first, last) == 0 { return }
        guard errno == ENOSYS else { throw DaemonError.system("close files", "close_range(\(first), \(last))") }
        let limit = UInt32(maximumFileDescriptors())
        guard first < limit else { return }
        for fd in first...min(last, limit - 1) {
            _ = try? closeDescriptor(Int32(fd))  // EBADF: it was not open
        }
    }

    /// Makes `target` (0, 1 or 2) a copy of `fd` (python-daemon's `redirect_stream`).
    /// - Parameters:
    ///   - fd: The descriptor to copy.
    ///   - target: The standard stream's descriptor.
    /// - Throws: `DaemonError` with step "redirect streams".
    package static func redirect(_ fd: Int32, onto target: Int32) throws(DaemonError) {
        if fd == target {
            // The stream is already the target: it only has to survive exec.
            let flags = fcntl(fd, F_GETFD)
            if flags != -1, flags & FD_CLOEXEC != 0 { _ = fcntl(fd, F_SETFD, flags & ~FD_CLOEXEC) }
            return
        }
        while dup2(fd, target) == -1 {
            if errno == EINTR || errno == EBUSY { continue }
            throw DaemonError.system("redirect streams", "dup2(\(fd), \(target))")
        }
    }
}
