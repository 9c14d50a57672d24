import CSpindle
import Glibc
import SpindleSystem

/// Removes the shared memory a program created and never unlinked, once the program is gone
/// (Python's `multiprocessing.resource_tracker`).
///
/// The tracker is a small process of its own, started the first time this program creates a
/// `SharedMemory` block or starts a worker process. Every block created with `create: true` is
/// registered with it, and `unlink()` unregisters it. When the program and all its worker
/// processes have ended — normally, by a crash or by SIGKILL — the tracker unlinks every block
/// still registered, notes each on standard error, and exits. Worker processes share their
/// parent's tracker, so a block a worker creates for its parent outlives the worker.
///
/// The tracker is double-forked: init (or the nearest subreaper) reaps it, and this process
/// never holds a zombie of it.
public enum ResourceTracker {
    /// The variable that hands a worker its parent's tracker: "descriptor:pid".
    static let environmentKey = "SPINDLE_MP_TRACKER"

    private struct State {
        var fd: Int32 = -1
        var pid: Int32?
        /// The names this process registered and has not unregistered (replayed to a new
        /// tracker when the old one is gone).
        var names: Set<String> = []
    }

    private static let state = Locked(State())

    /// The tracker's process id, or `nil` before it has started.
    public static var pid: Int32? { state.withLock { $0.pid } }

    /// Starts the tracker unless it runs already (Python's `ensure_running`).
    /// - Throws: `MultiprocessingError.system` when it cannot be started.
    public static func ensureRunning() throws(MultiprocessingError) {
        try state.withLock { (state: inout State) throws(MultiprocessingError) in
            if state.fd < 0 { try start(&state) }
        }
    }

    /// Registers a shared memory block: the tracker unlinks it if no process does. `SharedMemory`
    /// registers the blocks it creates; call this for a block created some other way.
    /// - Parameter name: The block's name (without the leading slash).
    /// - Throws: `MultiprocessingError.invalidState` for a name shm_open would not accept;
    ///   `.system` when the tracker cannot be reached or started.
    public static func register(_ name: String) throws(MultiprocessingError) {
        try check(name)
        try state.withLock { (state: inout State) throws(MultiprocessingError) in
            try send("R", name, &state)
            state.names.insert(name)
        }
    }

    /// Unregisters a block, after it was unlinked or to keep it past the program's end.
    /// - Parameter name: The block's name (without the leading slash).
    /// - Throws: `MultiprocessingError.invalidState` for a name shm_open would not accept;
    ///   `.system` when the tracker cannot be reached.
    public static func unregister(_ name: String) throws(MultiprocessingError) {
        try check(name)
        try state.withLock { (state: inout State) throws(MultiprocessingError) in
            state.names.remove(name)
            guard state.fd >= 0 else { return }
            try send("U", name, &state)
        }
    }

    private static func check(_ name: String) throws(MultiprocessingError) {
        let bytes = name.utf8.count
        guard bytes > 0, bytes <= Int(SPINDLE_TRACKER_NAME_MAX), !name.contains("/"), name != ".", name != ".." else {
            throw .invalidState("'\(name)' is not a shared memory name: it needs 1 to 255 bytes and no '/'")
        }
    }

    private static func start(_ state: inout State) throws(MultiprocessingError) {
        var fd: Int32 = -1
        var pid: pid_t = 0
        if spindle_tracker_start(&fd, &pid) != 0 {
            throw .system(SystemError(call: "fork", errno: errno, subject: "resource tracker"))
        }
        state.fd = fd
        state.pid = pid
    }

    /// Sends a message; a tracker that is gone is replaced (with this process's names replayed).
    private static func send(_ kind: Character, _ name: String, _ state: inout State) throws(MultiprocessingError) {
        let code = CChar(kind.asciiValue!)
        if state.fd < 0 { try start(&state) }
        if spindle_tracker_send(state.fd, code, name) == 0 { return }
        let failure = errno
        guard failure == EPIPE || failure == ECONNRESET || failure == ECONNREFUSED else {
            throw .system(SystemError(call: "send", errno: failure, subject: "resource tracker"))
        }
        try? closeDescriptor(state.fd)
        state.fd = -1
        state.pid = nil
        try start(&state)
        for known in state.names where spindle_tracker_send(state.fd, CChar(UInt8(ascii: "R")), known) != 0 {
            throw .system(SystemError(call: "send", errno: errno, subject: "resource tracker"))
        }
        if spindle_tracker_send(state.fd, code, name) != 0 {
            throw .system(SystemError(call: "send", errno: errno, subject: "resource tracker"))
        }
    }

    /// The tracker a worker child shares, started if need be; `nil` when it cannot start (the
    /// child then starts its own when it needs one).
    static func forChild() -> (fd: Int32, pid: Int32)? {
        state.withLock { (state: inout State) -> (fd: Int32, pid: Int32)? in
            if state.fd < 0 { try? start(&state) }
            guard state.fd >= 0, let pid = state.pid else { return nil }
            return (state.fd, pid)
        }
    }

    /// Takes over the tracker a parent passed (`bootstrap` calls it in a worker), and removes
    /// the variable from the environment so that programs this one starts do not see it.
    static func adoptInherited() {
        guard let raw = getenv(environmentKey) else { return }
        let text = String(cString: raw)
        unsetenv(environmentKey)
        let parts = text.split(separator: ":")
        guard parts.count == 2, let fd = Int32(parts[0]), let pid = Int32(parts[1]), fd >= 0 else { return }
        var info = stat()
        guard fstat(fd, &info) == 0, (info.st_mode & S_IFMT) == S_IFSOCK else { return }
        var type: Int32 = 0
        var length = socklen_t(MemoryLayout<Int32>.size)
        guard getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &length) == 0, type == Int32(SOCK_SEQPACKET.rawValue) else { return }
        _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
        state.withLock { state in
            if state.fd < 0 {
                state.fd = fd
                state.pid = pid
            }
        }
    }
}
