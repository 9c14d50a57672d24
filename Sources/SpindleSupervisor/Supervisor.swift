#if canImport(Glibc)
import Glibc
#endif
import CSpindle
import SpindleSubprocess
import SpindleSystem
import SpindleThreading

/// The process supervisor: supervisord's engine, without its servers.
///
/// It owns the processes of a `SupervisorConfig`: `run()` adds every group and starts the
/// `autostart` programs in priority order; each child is spawned in a session of its own (so its
/// process group can be signalled), watched by a thread that copies its output into its logs and
/// learns of its exit at once through a pidfd, and driven by a `ProcessStateMachine`. A timer
/// thread wakes the state machines when they asked to be woken (end of `startsecs`, a backoff
/// retry, SIGKILL after `stopwaitsecs`). `shutdown()` stops the groups in reverse priority order.
///
/// The methods mirror supervisord's XML-RPC interface and throw `SupervisorFault` with its
/// codes. Names are `group:process`, or a process name when group and process share it;
/// `group:*` names a whole group.
public final class Supervisor: @unchecked Sendable {
    /// The `log` callback's type: a level and a message for supervisord's activity log.
    public typealias Logger = @Sendable (LogLevel, String) -> Void

    enum Mood { case idle, running, shuttingDown, stopped }

    let lock = Lock()
    let changed: Condition
    let logger: Logger
    /// The configuration `addProcessGroup` takes groups from (replaced by `reload`).
    var config: SupervisorConfig
    /// The active groups, by name.
    var groups: [String: ActiveGroup] = [:]
    var mood = Mood.idle
    var scheduler: SpindleThread?
    /// The URL children get as SUPERVISOR_SERVER_URL when their program sets none.
    let serverURL: String?

    /// A group that is running: its configuration and processes.
    final class ActiveGroup: @unchecked Sendable {
        let config: ProcessGroupConfig
        var processes: [String: ManagedProcess]

        init(config: ProcessGroupConfig, processes: [String: ManagedProcess]) {
            self.config = config
            self.processes = processes
        }

        /// The processes in ascending priority, then name.
        var ordered: [ManagedProcess] {
            processes.values.sorted { ($0.config.priority, $0.config.name) < ($1.config.priority, $1.config.name) }
        }
    }

    /// Creates a supervisor for `config`; nothing runs until `run()`.
    /// - Parameters:
    ///   - config: The configuration.
    ///   - log: Receives supervisord's log lines (spawned, success, exited, gave up...). It is
    ///     called with the supervisor's lock held, so it must not call the supervisor.
    public init(config: SupervisorConfig, log: @escaping Logger = { _, _ in }) {
        self.config = config
        self.logger = log
        self.changed = Condition(lock: lock)
        if let unix = config.unixHTTPServers.first {
            serverURL = "unix://" + unix.file
        } else if let inet = config.inetHTTPServers.first {
            serverURL = "http://\(inet.host.isEmpty ? "localhost" : inet.host):\(inet.port)"
        } else {
            serverURL = nil
        }
    }

    deinit {
        for group in groups.values {
            for process in group.processes.values {
                if let pid = process.popen?.pid { _ = killpg(pid, SIGKILL) }
                if let pid = process.health?.popen?.pid { _ = killpg(pid, SIGKILL) }
                if let tree = process.tree { TreeReaper.shared.end(tree, signal: SIGKILL, wait: 0) }
            }
        }
    }

    /// The monotonic clock the state machines run on, in seconds.
    static var clock: Double { Double(spindle_monotonic_ns()) / 1e9 }

    /// The wall clock, in seconds since the epoch.
    static var wallClock: Double { Double(spindle_realtime_ns()) / 1e9 }

    // MARK: - Life cycle

    /// Starts supervising: removes old AUTO child logs (unless `nocleanup`), adds every
    /// configured group and starts their `autostart` processes in priority order. Returns at once.
    /// - Throws: `SupervisorFault.shutdownState` after `shutdown()`, `.alreadyStarted` on a
    ///   second call, `.failed` when the timer thread cannot be started.
    public func run() throws(SupervisorFault) {
        try lock.withLock { () throws(SupervisorFault) in
            switch mood {
            case .running: throw .alreadyStarted("supervisor")
            case .shuttingDown, .stopped: throw .shutdownState()
            case .idle: break
            }
            let thread = SpindleThread(name: "spindled-timers", daemon: true) { [weak self] in self?.timerLoop() }
            do { try thread.start() } catch { throw .failed("cannot start the timer thread: \(error)") }
            scheduler = thread
            mood = .running
            if !config.supervisord.nocleanup { clearAutoChildLogs() }
            for group in config.groups { addGroupLocked(group) }
        }
    }

    /// Stops every process, group by group in descending priority (each group's processes in
    /// descending priority, processes in BACKOFF given up), waits for them, and ends the timer
    /// thread. New starts are refused from the moment it is called.
    /// - Parameter timeout: Seconds to wait for the processes at most; `nil` waits as long as
    ///   their `stopwaitsecs` and SIGKILL take.
    /// - Returns: Whether every process stopped in time.
    @discardableResult
    public func shutdown(timeout: Double? = nil) -> Bool {
        let deadline = Deadline.after(seconds: timeout)
        let stopped = lock.withLock { () -> Bool in
            if mood == .stopped { return true }
            if mood == .idle {
                mood = .stopped
                return true
            }
            mood = .shuttingDown
            if hasDependencies { return shutdownInDependencyOrderLocked(until: deadline) }
            let order = groups.values.sorted { ($0.config.priority, $0.config.name) > ($1.config.priority, $1.config.name) }
            for group in order {
                stopAllLocked(group)
                if !waitLocked(until: deadline, { group.processes.values.allSatisfy { $0.machine.state.isStopped } }) {
                    return false
                }
            }
            return true
        }
        let monitors = lock.withLock { () -> [ProcessMonitor] in
            if stopped {
                mood = .stopped
                try? changed.notifyAll()
            }
            return groups.values.flatMap { $0.processes.values.flatMap { [$0.monitor, $0.health?.monitor].compactMap { $0 } } }
        }
        for monitor in monitors { monitor.join(timeout: deadline.remainingSeconds ?? 10) }
        if stopped {
            _ = try? scheduler?.join(timeout: 10)
            lock.withLock {
                for group in groups.values {
                    for process in group.processes.values { process.outputs.values.forEach { $0.file?.close() } }
                }
            }
        }
        return stopped
    }

    /// supervisor's `stop_all` for one group: RUNNING and STARTING processes are stopped in
    /// descending priority; BACKOFF processes are given up (FATAL).
    func stopAllLocked(_ group: ActiveGroup) {
        for process in group.ordered.reversed() {
            switch process.machine.state {
            case .running, .starting:
                let now = Supervisor.clock
                let (actions, _) = process.machine.stop(now: now)
                execute(actions, for: process)
            case .backoff:
                execute(process.machine.giveUp(), for: process)
            default: break
            }
        }
    }

    /// Waits on `changed` until `predicate` holds or `deadline` passes; the lock is held.
    func waitLocked(until deadline: Deadline, _ predicate: () -> Bool) -> Bool {
        while !predicate() {
            if deadline.hasPassed { return false }
            _ = try? changed.wait(timeout: deadline.remainingSeconds)
        }
        return true
    }

    // MARK: - Groups

    /// Makes a group active and lets its autostart processes start.
    @discardableResult
    func addGroupLocked(_ groupConfig: ProcessGroupConfig) -> Bool {
        guard groups[groupConfig.name] == nil else { return false }
        var processes: [String: ManagedProcess] = [:]
        for processConfig in groupConfig.processes {
            var paths: [LogChannel: String] = [:]
            for channel in LogChannel.allCases {
                switch processConfig.logging(channel).logfile {
                case .path(let path): paths[channel] = path
                case .automatic: paths[channel] = makeAutoLogName(processConfig.name, channel: channel)
                case .none: break
                }
            }
            processes[processConfig.name] = ManagedProcess(group: groupConfig.name, config: processConfig, logPaths: paths)
        }
        let group = ActiveGroup(config: groupConfig, processes: processes)
        groups[groupConfig.name] = group
        logger(.info, "added process group \(groupConfig.name)")
        let now = Supervisor.clock
        for process in group.ordered { settle(process, now: now) }
        return true
    }

    /// A new AUTO log file in `childlogdir`: `NAME-CHANNEL---IDENTIFIER-` six random characters `.log`.
    func makeAutoLogName(_ name: String, channel: LogChannel) -> String? {
        let options = config.supervisord
        // mkstemps replaces the six placeholder characters before the suffix.
        let placeholder = String(repeating: "X", count: 6)
        var template = Array("\(FileSystem.join(options.childlogdir, "\(name)-\(channel.rawValue)---\(options.identifier)-"))\(placeholder).log".utf8CString)
        let fd = template.withUnsafeMutableBufferPointer { mkstemps($0.baseAddress!, 4) }
        guard fd >= 0 else {
            logger(.error, "cannot create AUTO log for \(name) \(channel.rawValue) in \(options.childlogdir): \(SystemErrno(code: errno).message)")
            return nil
        }
        close(fd)
        return String(decoding: template.dropLast().map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// supervisor's `clear_autochildlogdir`: removes `*---IDENTIFIER-*.log` (and rotated copies).
    func clearAutoChildLogs() {
        let options = config.supervisord
        let marker = "---\(options.identifier)-"
        guard let dir = opendir(options.childlogdir) else {
            logger(.warn, "Could not clear childlog dir")
            return
        }
        defer { closedir(dir) }
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
            }
            guard Supervisor.isAutoLogName(name, marker: marker) else { continue }
            let path = FileSystem.join(options.childlogdir, name)
            if unlink(path) != 0 { logger(.warn, "Failed to clean up '\(path)'") }
        }
    }

    /// Whether a file name matches supervisor's `.+?---IDENT-\S+\.log\.{0,1}\d{0,4}`.
    static func isAutoLogName(_ name: String, marker: String) -> Bool {
        let chars = Array(name)
        let mark = Array(marker)
        guard chars.count > mark.count else { return false }
        for start in 1...(chars.count - mark.count) where Array(chars[start..<(start + mark.count)]) == mark {
            let tail = chars[(start + mark.count)...]
            var i = tail.startIndex
            while i < tail.endIndex, !tail[i].isWhitespace { i += 1 }
            let word = String(tail[tail.startIndex..<i])
            // The \S+ part is greedy: look for the last ".log" it can leave behind.
            var search = word[...]
            while let dot = search.lastIndex(of: ".") {
                let after = word[dot...]
                if after.hasPrefix(".log"), dot > word.startIndex {
                    let rest = after.dropFirst(4)
                    let digits = rest.hasPrefix(".") ? rest.dropFirst() : rest
                    if digits.count <= 4, digits.allSatisfy({ $0.isASCII && $0.isNumber }) { return true }
                }
                search = word[..<dot]
            }
        }
        return false
    }

    // MARK: - Driving the state machines

    /// Runs the machine's due transitions until it has nothing more to do.
    func settle(_ process: ManagedProcess, now: Double) {
        for _ in 0..<8 {
            let actions = process.machine.tick(now: now, mayStart: mayStart(process))
            if actions.isEmpty { return }
            execute(actions, for: process)
        }
    }

    /// Carries out a state machine's actions; the lock is held.
    func execute(_ actions: [ProcessStateMachine.Action], for process: ManagedProcess) {
        var transitions: [(from: ProcessState, to: ProcessState)] = []
        defer { if !transitions.isEmpty { processChanged(process, transitions) } }
        for action in actions {
            switch action {
            case .spawn:
                spawn(process)
            case .kill(let signal, let group):
                send(signal, to: process, group: group)
            case .signal(let signal):
                send(signal, to: process, group: false)
            case .scheduleTimer(let at):
                process.timerDue = at
                try? changed.notifyAll()
            case .cancelTimer:
                process.timerDue = nil
            case .transition(let from, let to, _):
                transitions.append((from, to))
                try? changed.notifyAll()
            case .log(let level, let message):
                logger(level, message)
            }
        }
    }

    /// Sends a signal to the process (or its group); the lock is held, so the child has not been
    /// reaped and its pid cannot have been reused.
    func send(_ signal: Int32, to process: ManagedProcess, group: Bool) {
        let pid = process.machine.pid
        guard pid > 0 else { return }
        let rc = group ? killpg(pid, signal) : kill(pid, signal)
        if rc != 0, errno != ESRCH {
            let message = "unknown problem killing \(process.config.name) (\(pid)): \(SystemErrno(code: errno).message)"
            execute(process.machine.signalFailed(message), for: process)
        }
    }

    /// The timer thread: calls `tick` on every machine whose timer is due.
    func timerLoop() {
        lock.withLock {
            while mood == .running || mood == .shuttingDown {
                let now = Supervisor.clock
                var earliest: Double?
                var fired = false
                for group in groups.values.sorted(by: { ($0.config.priority, $0.config.name) < ($1.config.priority, $1.config.name) }) {
                    for process in group.ordered {
                        if fireHealthTimer(process, now: now, earliest: &earliest) { fired = true }
                        guard let due = process.timerDue else { continue }
                        if due <= now {
                            process.timerDue = nil
                            settle(process, now: now)
                            fired = true
                        } else {
                            earliest = min(earliest ?? due, due)
                        }
                    }
                }
                if fired { continue }
                _ = try? changed.wait(timeout: earliest.map { max(0.001, $0 - now) })
            }
        }
    }
}
