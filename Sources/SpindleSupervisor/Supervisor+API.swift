#if canImport(Glibc)
import Glibc
#endif
import SpindleSubprocess
import SpindleSystem

extension Supervisor {
    // MARK: - Names

    /// supervisor's `split_namespec`: `group:process`, `group:*` (or `group:`) for the group,
    /// and `name` for `name:name`.
    /// - Parameter name: The name.
    /// - Returns: The group name and the process name (`nil` for the whole group).
    public static func splitName(_ name: String) -> (group: String, process: String?) {
        guard let colon = name.firstIndex(of: ":") else { return (name, name) }
        let group = String(name[..<colon])
        let process = String(name[name.index(after: colon)...])
        return (group, process.isEmpty || process == "*" ? nil : process)
    }

    /// supervisor's `make_namespec`: `process` when it equals `group`, else `group:process`.
    /// - Parameters:
    ///   - group: The group name.
    ///   - process: The process name.
    /// - Returns: The name.
    public static func makeName(group: String, process: String) -> String {
        group == process ? process : "\(group):\(process)"
    }

    /// The group and process a name refers to; the lock is held.
    func lookup(_ name: String) throws(SupervisorFault) -> (ActiveGroup, ManagedProcess?) {
        let (groupName, processName) = Supervisor.splitName(name)
        guard let group = groups[groupName] else { throw .badName(name) }
        guard let processName else { return (group, nil) }
        guard let process = group.processes[processName] else { throw .badName(name) }
        return (group, process)
    }

    func requireProcess(_ name: String) throws(SupervisorFault) -> ManagedProcess {
        guard let process = try lookup(name).1 else { throw .badName(name) }
        return process
    }

    /// Refuses requests before `run()` and from `shutdown()` on (supervisor's `_update`).
    func requireRunning() throws(SupervisorFault) {
        if mood != .running { throw .shutdownState() }
    }

    /// Every active process in priority order (groups, then processes), or by name with `lexical`.
    func allProcesses(lexical: Bool) -> [ManagedProcess] {
        if lexical {
            return groups.keys.sorted().flatMap { name in
                groups[name]!.processes.keys.sorted().map { groups[name]!.processes[$0]! }
            }
        }
        return groups.values
            .sorted { ($0.config.priority, $0.config.name) < ($1.config.priority, $1.config.name) }
            .flatMap(\.ordered)
    }

    // MARK: - Information

    func info(_ process: ManagedProcess) -> SupervisedProcessInfo {
        let m = process.machine
        return SupervisedProcessInfo(
            name: process.config.name, group: process.group,
            start: m.lastStart == nil ? 0 : Int(process.wallStart), stop: m.lastStop == nil ? 0 : Int(process.wallStop),
            now: Int(Supervisor.wallClock), state: m.state, spawnerr: m.spawnerr ?? "", exitstatus: m.exitstatus ?? 0,
            stdoutLogfile: process.logPaths[.stdout] ?? "", stderrLogfile: process.logPaths[.stderr] ?? "", pid: m.pid)
    }

    /// `getProcessInfo`.
    /// - Parameter name: The process.
    /// - Returns: Its information.
    /// - Throws: `SupervisorFault.badName`.
    public func processInfo(name: String) throws(SupervisorFault) -> SupervisedProcessInfo {
        try lock.withLock { () throws(SupervisorFault) in info(try requireProcess(name)) }
    }

    /// `getAllProcessInfo`: every process, ordered by group name and then process name.
    /// - Returns: The information.
    public func allProcessInfo() -> [SupervisedProcessInfo] {
        lock.withLock { allProcesses(lexical: true).map(info) }
    }

    /// The names (`group:process`) of the active processes, in priority order.
    public var processNames: [String] {
        lock.withLock { allProcesses(lexical: false).map { Supervisor.makeName(group: $0.group, process: $0.config.name) } }
    }

    // MARK: - Starting

    /// `startProcess`: starts a process (or, for `group:*`, its group).
    /// - Parameters:
    ///   - name: The process, or `group:*`.
    ///   - wait: Wait until it is RUNNING (it has stayed up `startsecs`).
    /// - Throws: `SupervisorFault`: `.badName`, `.noFile`/`.notExecutable` (bad command),
    ///   `.alreadyStarted`, `.failed` (UNKNOWN state), `.spawnError` (could not start, or exited
    ///   too quickly), `.abnormalTermination` (stopped while starting), `.shutdownState`.
    ///   A group start reports per process instead: see `startGroup`.
    public func start(name: String, wait: Bool = true) throws(SupervisorFault) {
        let pending: ManagedProcess? = try lock.withLock { () throws(SupervisorFault) -> ManagedProcess? in
            try requireRunning()
            guard let process = try lookup(name).1 else { return nil }
            return try beginStart(process, name: name) ? process : nil
        }
        if pending == nil, Supervisor.splitName(name).process == nil {
            _ = try startGroup(name: Supervisor.splitName(name).group, wait: wait)
            return
        }
        if let pending, wait { try finishStart(pending, name: name) }
    }

    /// Spawns the process; returns whether waiting may be needed. The lock is held.
    func beginStart(_ process: ManagedProcess, name: String) throws(SupervisorFault) -> Bool {
        do {
            _ = try Supervisor.resolveCommand(process.config)
        } catch {
            throw error.fault
        }
        let state = process.machine.state
        if state.isRunning { throw .alreadyStarted(name) }
        if state == .unknown { throw .failed("\(name) is in an unknown process state") }
        if try deferStartForDependencies(process, name: name) { return true }
        let now = Supervisor.clock
        execute(process.machine.start(now: now), for: process)
        settle(process, now: now)
        if process.machine.spawnerr != nil { throw .spawnError(name) }
        return process.machine.state != .running
    }

    /// Waits for a started process to be RUNNING (supervisor's `onwait`).
    func finishStart(_ process: ManagedProcess, name: String) throws(SupervisorFault) {
        try lock.withLock { () throws(SupervisorFault) in
            while true {
                if process.waitingForDependencies {
                    _ = try? changed.wait(timeout: nil)
                    continue
                }
                if process.dependencyBlock != nil { throw .spawnError(name) }
                if process.machine.spawnerr != nil { throw .spawnError(name) }
                let state = process.machine.state
                if state == .running { return }
                if state != .starting { throw .abnormalTermination(name) }
                _ = try? changed.wait(timeout: nil)
            }
        }
    }

    /// `startProcessGroup`: starts every process of a group that is not running, in priority order.
    /// - Parameters:
    ///   - name: The group.
    ///   - wait: Wait until each is RUNNING.
    /// - Returns: One result per process started (or that failed to start).
    /// - Throws: `SupervisorFault.badName` for an unknown group, `.shutdownState`.
    public func startGroup(name: String, wait: Bool = true) throws(SupervisorFault) -> [ProcessResult] {
        let processes = try lock.withLock { () throws(SupervisorFault) -> [ManagedProcess] in
            try requireRunning()
            guard let group = groups[name] else { throw .badName(name) }
            return group.ordered
        }
        return startEach(processes, wait: wait)
    }

    /// `startAllProcesses`: starts every process that is not running, in priority order.
    /// - Parameter wait: Wait until each is RUNNING.
    /// - Returns: One result per process started.
    /// - Throws: `SupervisorFault.shutdownState`.
    public func startAll(wait: Bool = true) throws(SupervisorFault) -> [ProcessResult] {
        let processes = try lock.withLock { () throws(SupervisorFault) -> [ManagedProcess] in
            try requireRunning()
            return allProcesses(lexical: false)
        }
        return startEach(processes, wait: wait)
    }

    /// supervisor's `make_allfunc` for starts: spawn all first, then wait for each.
    func startEach(_ unordered: [ManagedProcess], wait: Bool) -> [ProcessResult] {
        let processes = lock.withLock { startOrder(unordered) }
        var results: [ProcessResult] = []
        var waiting: [ManagedProcess] = []
        for process in processes {
            let name = Supervisor.makeName(group: process.group, process: process.config.name)
            do {
                let needsWait = try lock.withLock { () throws(SupervisorFault) -> Bool? in
                    if process.machine.state.isRunning { return nil }
                    return try beginStart(process, name: name)
                }
                guard let needsWait else { continue }
                if needsWait, wait { waiting.append(process) } else { results.append(result(process, .success)) }
            } catch {
                results.append(result(process, error))
            }
        }
        results += pollRounds(waiting) { process in
            if process.waitingForDependencies { return nil }
            if process.dependencyBlock != nil { return .spawnError(Supervisor.makeName(group: process.group, process: process.config.name)) }
            if process.machine.spawnerr != nil { return .spawnError(Supervisor.makeName(group: process.group, process: process.config.name)) }
            switch process.machine.state {
            case .running: return .success
            case .starting: return nil
            default: return .abnormalTermination(Supervisor.makeName(group: process.group, process: process.config.name))
            }
        }
        return results
    }

    /// supervisor's `make_allfunc` waiting: the processes still pending are looked at every
    /// 0.05 s, and each round reports, in list order, those that are done — so results come in
    /// the order supervisord gives them.
    /// - Parameters:
    ///   - pending: The processes waited for.
    ///   - outcome: A process's result once it is done, `nil` while it is not; the lock is held.
    /// - Returns: The results.
    func pollRounds(_ pending: [ManagedProcess], _ outcome: (ManagedProcess) -> SupervisorFault?) -> [ProcessResult] {
        var results: [ProcessResult] = []
        var waiting = pending
        while !waiting.isEmpty {
            waiting = lock.withLock {
                var still: [ManagedProcess] = []
                for process in waiting {
                    if let fault = outcome(process) { results.append(result(process, fault)) } else { still.append(process) }
                }
                return still
            }
            if !waiting.isEmpty { usleep(50_000) }
        }
        return results
    }

    func result(_ process: ManagedProcess, _ fault: SupervisorFault) -> ProcessResult {
        ProcessResult(name: process.config.name, group: process.group, fault: fault)
    }

    // MARK: - Stopping

    /// `stopProcess`: stops a process (or, for `group:*`, its group) with its `stopsignal`,
    /// then SIGKILL after `stopwaitsecs`.
    /// - Parameters:
    ///   - name: The process, or `group:*`.
    ///   - wait: Wait until it is stopped.
    /// - Throws: `SupervisorFault`: `.badName`, `.notRunning`, `.failed`, `.shutdownState`.
    public func stop(name: String, wait: Bool = true) throws(SupervisorFault) {
        let target = try lock.withLock { () throws(SupervisorFault) -> ManagedProcess? in
            try requireRunning()
            guard let process = try lookup(name).1 else { return nil }
            try beginStop(process, name: name)
            return process
        }
        guard let target else {
            _ = try stopGroup(name: Supervisor.splitName(name).group, wait: wait)
            return
        }
        if wait { finishStop(target) }
    }

    func beginStop(_ process: ManagedProcess, name: String) throws(SupervisorFault) {
        if cancelDeferredStart(process) { return }
        guard process.machine.state.isRunning else { throw .notRunning(name) }
        let (actions, error) = process.machine.stop(now: Supervisor.clock)
        execute(actions, for: process)
        if let error { throw .failed(error) }
    }

    func finishStop(_ process: ManagedProcess) {
        lock.withLock {
            while !process.machine.state.isStopped { _ = try? changed.wait(timeout: nil) }
        }
    }

    /// `stopProcessGroup`: stops every running process of a group, in priority order.
    /// - Parameters:
    ///   - name: The group.
    ///   - wait: Wait until each is stopped.
    /// - Returns: One result per process.
    /// - Throws: `SupervisorFault.badName`, `.shutdownState`.
    public func stopGroup(name: String, wait: Bool = true) throws(SupervisorFault) -> [ProcessResult] {
        let processes = try lock.withLock { () throws(SupervisorFault) -> [ManagedProcess] in
            try requireRunning()
            guard let group = groups[name] else { throw .badName(name) }
            return group.ordered
        }
        return stopEach(processes, wait: wait)
    }

    /// `stopAllProcesses`: stops every running process, in priority order.
    /// - Parameter wait: Wait until each is stopped.
    /// - Returns: One result per process.
    /// - Throws: `SupervisorFault.shutdownState`.
    public func stopAll(wait: Bool = true) throws(SupervisorFault) -> [ProcessResult] {
        let processes = try lock.withLock { () throws(SupervisorFault) -> [ManagedProcess] in
            try requireRunning()
            return allProcesses(lexical: false)
        }
        return stopEach(processes, wait: wait)
    }

    func stopEach(_ processes: [ManagedProcess], wait: Bool) -> [ProcessResult] {
        // With depends_on, a batch stops (and is waited for) before the next: dependents first.
        let batches = lock.withLock { stopBatches(processes) }
        return batches.enumerated().flatMap { index, batch in stopBatch(batch, wait: wait || index < batches.count - 1) }
    }

    func stopBatch(_ processes: [ManagedProcess], wait: Bool) -> [ProcessResult] {
        var results: [ProcessResult] = []
        var waiting: [ManagedProcess] = []
        for process in processes {
            do {
                let stopped = try lock.withLock { () throws(SupervisorFault) -> Bool in
                    guard process.machine.state.isRunning || process.waitingForDependencies else { return false }
                    try beginStop(process, name: Supervisor.makeName(group: process.group, process: process.config.name))
                    return true
                }
                if !stopped { continue }
                if wait { waiting.append(process) } else { results.append(result(process, .success)) }
            } catch {
                results.append(result(process, error))
            }
        }
        results += pollRounds(waiting) { process in process.machine.state.isStopped ? .success : nil }
        return results
    }

    // MARK: - Signals

    /// `signalProcess`: sends a signal to a process (or, for `group:*`, its group).
    /// - Parameters:
    ///   - name: The process, or `group:*`.
    ///   - signal: A name (`HUP`, `SIGHUP`) or a number (`1`).
    /// - Throws: `SupervisorFault`: `.badName`, `.badSignal`, `.notRunning`, `.failed`.
    public func signal(name: String, signal: String) throws(SupervisorFault) {
        let isProcess = try lock.withLock { () throws(SupervisorFault) -> Bool in
            try requireRunning()
            guard let process = try lookup(name).1 else { return false }
            try sendSignal(process, name: name, signal: signal)
            return true
        }
        if !isProcess { _ = try signalGroup(name: Supervisor.splitName(name).group, signal: signal) }
    }

    func sendSignal(_ process: ManagedProcess, name: String, signal: String) throws(SupervisorFault) {
        guard case .success(let number) = SignalNames.number(signal) else { throw .badSignal(signal) }
        guard process.machine.state.isSignallable else { throw .notRunning(name) }
        let (actions, error) = process.machine.signal(number)
        if let error { throw .failed(error) }
        execute(actions, for: process)
    }

    /// `signalProcessGroup`: sends a signal to every signallable process of a group.
    /// - Parameters:
    ///   - name: The group.
    ///   - signal: A signal name or number.
    /// - Returns: One result per process signalled.
    /// - Throws: `SupervisorFault.badName`.
    public func signalGroup(name: String, signal: String) throws(SupervisorFault) -> [ProcessResult] {
        try lock.withLock { () throws(SupervisorFault) -> [ProcessResult] in
            try requireRunning()
            guard let group = groups[name] else { throw .badName(name) }
            return signalEach(group.ordered, signal: signal)
        }
    }

    /// `signalAllProcesses`: sends a signal to every signallable process.
    /// - Parameter signal: A signal name or number.
    /// - Returns: One result per process signalled.
    /// - Throws: `SupervisorFault.shutdownState`.
    public func signalAll(signal: String) throws(SupervisorFault) -> [ProcessResult] {
        try lock.withLock { () throws(SupervisorFault) -> [ProcessResult] in
            try requireRunning()
            return signalEach(allProcesses(lexical: false), signal: signal)
        }
    }

    func signalEach(_ processes: [ManagedProcess], signal: String) -> [ProcessResult] {
        processes.filter { $0.machine.state.isSignallable }.map { process in
            do throws(SupervisorFault) {
                try sendSignal(process, name: Supervisor.makeName(group: process.group, process: process.config.name), signal: signal)
                return result(process, .success)
            } catch {
                return result(process, error)
            }
        }
    }

    // MARK: - Standard input

    /// `sendProcessStdin`: writes to a process's standard input.
    /// - Parameters:
    ///   - name: The process.
    ///   - chars: The text (sent as UTF-8).
    /// - Throws: `SupervisorFault`: `.badName`, `.notRunning` (no process, or being stopped),
    ///   `.noFile` (its standard input is closed).
    public func sendProcessStdin(name: String, chars: String) throws(SupervisorFault) {
        let writer = try lock.withLock { () throws(SupervisorFault) -> PipeWriter? in
            try requireRunning()
            let process = try requireProcess(name)
            if process.machine.pid == 0 || process.machine.killing { throw .notRunning(name) }
            return process.popen?.stdin
        }
        guard let writer else { throw .noFile(name) }
        do {
            try writer.write(chars)
        } catch {
            if error.errno == EPIPE || error.errno == EBADF { throw .noFile(name) }
            throw .failed("\(name): \(error)")
        }
    }

    // MARK: - Configuration

    /// `reloadConfig`: takes a new configuration and tells what differs from the active groups.
    /// Nothing is started or stopped; `addProcessGroup` and `removeProcessGroup` apply the changes
    /// (supervisorctl's `update` stops and removes changed and removed groups, then adds changed
    /// and added ones).
    /// - Parameter config: The new configuration.
    /// - Returns: The added, changed and removed group names.
    /// - Throws: `SupervisorFault.shutdownState`.
    public func reload(config newConfig: SupervisorConfig) throws(SupervisorFault) -> ConfigDiff {
        try lock.withLock { () throws(SupervisorFault) -> ConfigDiff in
            try requireRunning()
            config = newConfig
            let current = groups.values.map(\.config)
            let added = newConfig.groups.filter { groups[$0.name] == nil }.map(\.name)
            let changed = newConfig.groups.filter { new in current.contains { $0.name == new.name && $0 != new } }.map(\.name)
            let removed = current.filter { old in !newConfig.groups.contains { $0.name == old.name } }
                .sorted { ($0.priority, $0.name) < ($1.priority, $1.name) }.map(\.name)
            return ConfigDiff(added: added, changed: changed, removed: removed)
        }
    }

    /// `addProcessGroup`: activates a group of the configuration (its autostart processes start).
    /// - Parameter name: The group.
    /// - Throws: `SupervisorFault.badName` (not in the configuration), `.alreadyAdded`.
    public func addProcessGroup(name: String) throws(SupervisorFault) {
        try lock.withLock { () throws(SupervisorFault) in
            try requireRunning()
            guard let group = config.group(named: name) else { throw .badName(name) }
            if !addGroupLocked(group) { throw .alreadyAdded(name) }
        }
    }

    /// `removeProcessGroup`: deactivates a group whose processes are all stopped.
    /// - Parameter name: The group.
    /// - Throws: `SupervisorFault.badName`, `.stillRunning`.
    public func removeProcessGroup(name: String) throws(SupervisorFault) {
        try lock.withLock { () throws(SupervisorFault) in
            try requireRunning()
            guard let group = groups[name] else { throw .badName(name) }
            if group.processes.values.contains(where: { !$0.machine.state.isStopped }) { throw .stillRunning(name) }
            for process in group.processes.values { process.outputs.values.forEach { $0.file?.close() } }
            groups[name] = nil
            logger(.info, "removed process group \(name)")
        }
    }
}
