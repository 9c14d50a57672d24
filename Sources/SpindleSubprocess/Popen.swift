import CSpindle
import Glibc
import SpindleSystem
import SpindleThreading

/// A running child process (Python's `subprocess.Popen`).
///
/// Starting it is a vfork and exec in async-signal-safe C: a missing program, a bad working
/// directory or a refused credential is thrown here as `SpawnError`, never reported as a child
/// that exits with 127. Every descriptor Spindle opens is close-on-exec; the child is waited for
/// through a pidfd where the kernel has one, and no SIGCHLD handler is installed. A `Popen` freed
/// while its child still runs hands the child to a reaper, so no zombie is left behind.
public final class Popen: @unchecked Sendable {
    /// The command.
    public let args: [String]
    /// The child's process id.
    public let pid: Int32
    /// The pipe to the child's standard input, when it was `.pipe`.
    public let stdin: PipeWriter?
    /// The pipe from the child's standard output, when it was `.pipe`.
    public let stdout: PipeReader?
    /// The pipe from the child's standard error, when it was `.pipe`.
    public let stderr: PipeReader?

    let pidfd: Int32
    /// Whether the child leads its own process group (new session or group 0), so that a
    /// timeout can end its descendants too.
    let leadsGroup: Bool

    struct State {
        var returncode: Int32?
        /// The pump of `communicate`, kept so that a call cut short by its timeout can resume.
        var pump: IOPump?
    }

    let state = Locked(State())
    /// Serialises waitpid, so that exactly one caller reaps the child.
    private let reapLock = Lock()

    /// Starts a child.
    /// - Parameters:
    ///   - args: The program and its arguments; with `shell`, the command line (and the shell's
    ///     positional arguments).
    ///   - stdin: Where the child's standard input comes from.
    ///   - stdout: Where its standard output goes.
    ///   - stderr: Where its standard error goes (`.stdout` merges it into standard output).
    ///   - cwd: The child's working directory.
    ///   - env: The child's whole environment (its PATH is used to find the program); `nil`
    ///     inherits the parent's.
    ///   - shell: Run `args` through `/bin/sh -c`.
    ///   - options: Descriptors, sessions, credentials, umask and signals.
    /// - Throws: `SpawnError` naming the step that failed, its errno and path.
    public init(
        _ args: [String],
        stdin: Redirect = .inherit,
        stdout: Redirect = .inherit,
        stderr: Redirect = .inherit,
        cwd: String? = nil,
        env: [String: String]? = nil,
        shell: Bool = false,
        options: SpawnOptions = SpawnOptions()
    ) throws(SpawnError) {
        guard !args.isEmpty else {
            throw SpawnError(step: "arguments", errno: EINVAL, path: "an empty argument list names no program")
        }
        let argv = shell ? ["/bin/sh", "-c"] + args : args
        let program = options.executable ?? argv[0]
        self.args = args

        var opened: [Int32] = []  // everything this init opened, closed on failure
        var childSide: [Int32] = []  // what only the child needs, closed after the spawn
        func closeAll(_ fds: [Int32]) { for fd in fds { try? closeDescriptor(fd) } }
        var spec = ChildSpec(
            program: program, argv: argv, paths: executableCandidates(program, environment: env),
            environment: env.map(environmentStrings))
        var parentStdin: Int32 = -1, parentStdout: Int32 = -1, parentStderr: Int32 = -1
        do throws(SpawnError) {
            var devnull: Int32 = -1
            func openDevnull() throws(SpawnError) -> Int32 {
                if devnull < 0 {
                    devnull = open("/dev/null", O_RDWR | O_CLOEXEC)
                    if devnull < 0 { throw SpawnError(step: "open", errno: errno, path: "/dev/null") }
                    opened.append(devnull)
                    childSide.append(devnull)
                }
                return devnull
            }
            func source(_ redirect: Redirect, target: Int32, parentEnd: inout Int32) throws(SpawnError) -> Int32? {
                switch redirect {
                case .inherit: return nil
                case .devnull: return try openDevnull()
                case .fileDescriptor(let fd): return fd
                case .stdout: return nil  // resolved by the caller
                case .pipe:
                    let ends = try makePipe()
                    opened += [ends.read, ends.write]
                    let (child, parent) = target == 0 ? (ends.read, ends.write) : (ends.write, ends.read)
                    childSide.append(child)
                    parentEnd = parent
                    return child
                case .path(let path, let append):
                    let flags = target == 0 ? O_RDONLY : (O_WRONLY | O_CREAT | (append ? O_APPEND : O_TRUNC))
                    let fd = open(path, flags | O_CLOEXEC, 0o666)
                    if fd < 0 { throw SpawnError(step: "open", errno: errno, path: path) }
                    opened.append(fd)
                    childSide.append(fd)
                    return fd
                }
            }
            if stdin == .stdout || stdout == .stdout {
                throw SpawnError(step: "arguments", errno: EINVAL, path: "only stderr may be redirected to .stdout")
            }
            if let fd = try source(stdin, target: 0, parentEnd: &parentStdin) { spec.descriptors.append((fd, 0)) }
            let outSource = try source(stdout, target: 1, parentEnd: &parentStdout)
            if let fd = outSource { spec.descriptors.append((fd, 1)) }
            if stderr == .stdout {
                spec.descriptors.append((outSource ?? 1, 2))
            } else if let fd = try source(stderr, target: 2, parentEnd: &parentStderr) {
                spec.descriptors.append((fd, 2))
            }
            spec.keep = options.passFDs
            spec.closeFDs = options.closeFDs
            spec.cwd = cwd
            spec.newSession = options.startNewSession
            spec.processGroup = options.processGroup ?? -1
            spec.restoreSignals = options.restoreSignals
            spec.umask = options.umask
            spec.cgroupDirectory = options.cgroupDirectory
            if let user = options.user {
                let resolved = try resolveUser(user)
                spec.uid = resolved.uid
            }
            if let group = options.group { spec.gid = try resolveGroup(group) }
            if let extra = options.extraGroups {
                var gids: [gid_t] = []
                for name in extra { gids.append(try resolveGroup(name)) }
                spec.groups = gids
            }
            (pid, pidfd) = try spawnChild(spec)
        } catch {
            closeAll(opened)
            throw error
        }
        closeAll(childSide)
        self.stdin = parentStdin >= 0 ? PipeWriter(fd: parentStdin) : nil
        self.stdout = parentStdout >= 0 ? PipeReader(fd: parentStdout) : nil
        self.stderr = parentStderr >= 0 ? PipeReader(fd: parentStderr) : nil
        leadsGroup = options.startNewSession || options.processGroup == 0
    }

    deinit {
        stdin?.close()
        stdout?.close()
        stderr?.close()
        if reap(blocking: false) == nil { ChildReaper.adopt(pid: pid) }
        if pidfd >= 0 { try? closeDescriptor(pidfd) }
    }

    // MARK: - Status

    /// The exit status once the child has been waited for: the exit code, or minus the signal
    /// number when a signal ended it; `nil` while it runs (or before `poll`/`wait` saw it end).
    public var returncode: Int32? { state.withLock { $0.returncode } }

    /// Checks whether the child has ended, without waiting.
    /// - Returns: The exit status, or `nil` while it runs.
    @discardableResult
    public func poll() -> Int32? { reap(blocking: false) }

    /// Reaps the child if it has ended (or waits for it to end).
    func reap(blocking: Bool) -> Int32? {
        reapLock.lock()
        defer { reapLock.unlock() }
        if let code = state.withLock({ $0.returncode }) { return code }
        var status: Int32 = 0
        let rc = spindle_wait_child(pid, blocking ? 0 : 1, &status)
        if rc == pid {
            SpawnedChildren.reaped(pid)
            state.withLock { $0.returncode = status }
            return status
        }
        if rc == -1, errno == ECHILD {
            SpawnedChildren.reaped(pid)
            // Someone else reaped it (SIGCHLD set to SIG_IGN, say); as Python does, call it 0.
            state.withLock { $0.returncode = 0 }
            return 0
        }
        return nil
    }

    /// Waits for the child to end.
    /// - Parameter timeout: Seconds to wait at most; `nil` waits as long as it takes.
    /// - Returns: The exit status.
    /// - Throws: `TimeoutExpired` when the child still runs at the timeout (it keeps running).
    @discardableResult
    public func wait(timeout: Double? = nil) throws(TimeoutExpired) -> Int32 {
        if let code = waitUntil(Deadline.after(seconds: timeout.map { max(0, $0) }), cancelled: { false }) {
            return code
        }
        throw TimeoutExpired(cmd: args, timeout: timeout ?? 0)
    }

    /// Waits until the child ends, the deadline passes or `cancelled()` says so (checked every
    /// 50 ms); returns the status or `nil`.
    package func waitUntil(_ deadline: Deadline, cancelled: () -> Bool) -> Int32? {
        if let code = reap(blocking: false) { return code }
        
        var delay: UInt32 = 500
        while true {
            if cancelled() { return nil }
            let left = deadline.remainingSeconds
            if let left, left <= 0 { return reap(blocking: false) }
            if pidfd >= 0 {
                var entry = pollfd(fd: pidfd, events: Int16(POLLIN), revents: 0)
                let slice = Swift.min(left.map { Int32(($0 * 1000).rounded(.up)) } ?? 50, 50)
                _ = Glibc.poll(&entry, 1, slice)
            } else {
                usleep(delay)
                delay = Swift.min(delay * 2, 50_000)
            }
            if let code = reap(blocking: false) { return code }
        }
    }

    // MARK: - Signals

    /// Sends `signal` to the child, unless it has already been waited for.
    /// - Parameter signal: The signal number, such as `SIGHUP`.
    public func sendSignal(_ signal: Int32) {
        if reap(blocking: false) != nil { return }
        _ = spindle_send_signal(pidfd, pid, signal)
    }

    /// Asks the child to end (SIGTERM).
    public func terminate() { sendSignal(SIGTERM) }

    /// Ends the child at once (SIGKILL).
    public func kill() { sendSignal(SIGKILL) }

    /// Ends the child, and its process group when it leads one (a timeout's way out).
    func killForTimeout() {
        if leadsGroup, returncode == nil { _ = killpg(pid, SIGKILL) }
        kill()
    }

    // MARK: - Communicate

    /// Sends `input` to the child's standard input (then closes it), reads its standard output
    /// and error to the end at the same time (so no pipe fills up and blocks it), and waits for it.
    ///
    /// On timeout the child keeps running and the output read so far is kept: a later call goes
    /// on from there, as in Python.
    /// - Parameters:
    ///   - input: Bytes for standard input (which must be `.pipe`); `nil` just closes it.
    ///   - timeout: Seconds to wait at most.
    /// - Returns: Everything read from the piped standard output and error (`nil` for a stream
    ///   that was not piped).
    /// - Throws: `TimeoutExpired` with the partial output.
    @discardableResult
    public func communicate(
        input: [UInt8]? = nil, timeout: Double? = nil
    ) throws(TimeoutExpired) -> (stdout: [UInt8]?, stderr: [UInt8]?) {
        try communicate(input: input, deadline: .after(seconds: timeout.map { max(0, $0) }), timeout: timeout ?? 0)
    }

    /// `communicate` with a UTF-8 string as input.
    /// - Parameters:
    ///   - input: Text for standard input.
    ///   - timeout: Seconds to wait at most.
    /// - Returns: As `communicate(input:timeout:)`.
    /// - Throws: As `communicate(input:timeout:)`.
    @discardableResult
    public func communicate(
        input: String, timeout: Double? = nil
    ) throws(TimeoutExpired) -> (stdout: [UInt8]?, stderr: [UInt8]?) {
        try communicate(input: Array(input.utf8), timeout: timeout)
    }

    func communicate(
        input: [UInt8]?, deadline: Deadline, timeout: Double
    ) throws(TimeoutExpired) -> (stdout: [UInt8]?, stderr: [UInt8]?) {
        let pump = state.withLock { state -> IOPump in
            if let pump = state.pump { return pump }
            let pump = IOPump(writer: stdin, input: input, readers: [stdout, stderr])
            state.pump = pump
            return pump
        }
        func outputs() -> (stdout: [UInt8]?, stderr: [UInt8]?) {
            (stdout == nil ? nil : pump.output(0), stderr == nil ? nil : pump.output(1))
        }
        guard pump.run(until: deadline), waitUntil(deadline, cancelled: { false }) != nil else {
            let partial = outputs()
            throw TimeoutExpired(cmd: args, timeout: timeout, output: partial.stdout, stderr: partial.stderr)
        }
        defer { pump.clear() }
        return outputs()
    }
}

/// Sets O_NONBLOCK on `fd`.
func fcntlSetNonBlocking(_ fd: Int32) -> Bool {
    let flags = fcntl(fd, F_GETFL)
    return flags >= 0 && fcntl(fd, F_SETFL, flags | O_NONBLOCK) == 0
}
