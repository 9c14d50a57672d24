#if canImport(Glibc)
import Glibc
#endif
import SpindleSubprocess
import SpindleSystem

extension Supervisor {
    // MARK: - Health (public)

    /// The health of a process (`healthcheck_*`): `none` when its program has no check.
    /// This is what `supervisor.getProcessHealth` returns and what `spindlectl status` shows.
    /// - Parameter name: The process (`group:process`, or its name when they are the same).
    /// - Returns: Its health.
    /// - Throws: `SupervisorFault.badName`.
    public func health(of name: String) throws(SupervisorFault) -> ProcessHealth {
        try lock.withLock { () throws(SupervisorFault) in healthReport(try requireProcess(name)) }
    }

    /// The health of every process, ordered as `allProcessInfo()` (group name, then process name).
    /// - Returns: One report per process; `none` for those without a check.
    public func allHealth() -> [ProcessHealth] {
        lock.withLock { allProcesses(lexical: true).map(healthReport) }
    }

    /// Whether any active process has a health check.
    public var hasHealthChecks: Bool {
        lock.withLock { groups.values.contains { $0.processes.values.contains { $0.health != nil } } }
    }

    func healthReport(_ process: ManagedProcess) -> ProcessHealth {
        guard let check = process.health else { return ProcessHealth(name: process.config.name, group: process.group, status: .none) }
        return ProcessHealth(
            name: process.config.name, group: process.group, status: check.machine.status, failures: check.machine.failures,
            lastCheck: Int(check.lastCheck), lastResult: check.machine.lastResult, lastOutput: check.lastOutput)
    }

    // MARK: - Driving the checks

    /// Whether the process counts as up for its dependents: RUNNING, and healthy if it has a check.
    func isReady(_ process: ManagedProcess) -> Bool {
        process.machine.state == .running && (process.health.map { $0.machine.status == .healthy } ?? true)
    }

    /// The process changed state: starts or stops its checks. The lock is held.
    func healthFollows(_ process: ManagedProcess, from: ProcessState, to: ProcessState) {
        guard let check = process.health else { return }
        if to == .running { executeHealth(check.machine.processRunning(now: Supervisor.clock), for: process) }
        if from == .running { executeHealth(check.machine.processStopped(), for: process) }
    }

    /// The timer thread's part for health: runs the check's due tick; otherwise lowers
    /// `earliest` to its due time. Returns whether it fired. The lock is held.
    func fireHealthTimer(_ process: ManagedProcess, now: Double, earliest: inout Double?) -> Bool {
        guard let check = process.health, let due = check.due else { return false }
        guard due <= now else {
            earliest = min(earliest ?? due, due)
            return false
        }
        check.due = nil
        executeHealth(check.machine.tick(now: now), for: process)
        return true
    }

    /// Carries out a health machine's actions; the lock is held.
    func executeHealth(_ actions: [HealthCheckMachine.Action], for process: ManagedProcess) {
        guard let check = process.health else { return }
        for action in actions {
            switch action {
            case .runCheck:
                runHealthCheck(process, check)
            case .killCheck:
                // Not reaped yet (that happens under this lock), so the group is still the check's.
                if let pid = check.popen?.pid, pid > 0 { _ = killpg(pid, SIGKILL) }
            case .scheduleTimer(let at):
                check.due = at
                try? changed.notifyAll()
            case .cancelTimer:
                check.due = nil
            case .statusChanged(_, let to):
                try? changed.notifyAll()
                if to == .healthy { releaseDependents(of: process, now: Supervisor.clock) }
            case .restartProcess:
                guard mood == .running, process.machine.state == .running else { continue }
                process.restartAfterStop = true
                execute(process.machine.stop(now: Supervisor.clock).actions, for: process)
            case .log(let level, let message):
                logger(level, message)
            }
        }
    }

    /// Starts the check command in a session of its own (so a timeout kills all it started),
    /// with the process's environment, directory and user, its output kept in memory.
    func runHealthCheck(_ process: ManagedProcess, _ check: HealthCheck) {
        let now = Supervisor.clock
        var probe = process.config
        probe.command = check.machine.config.command
        let resolved: (file: String, argv: [String])
        do {
            resolved = try Supervisor.resolveCommand(probe)
        } catch {
            finishHealthCheck(process, check, exitStatus: nil, problem: error.message, now: now)
            return
        }
        let setting = childSetting(probe, group: process.group, executable: resolved.file)
        var environment = setting.environment
        environment["SPINDLE_PROCESS_PID"] = String(process.machine.pid)
        let popen: Popen
        do {
            popen = try Popen(resolved.argv, stdin: .devnull, stdout: .pipe, stderr: .stdout, cwd: probe.directory, env: environment, options: setting.options)
        } catch {
            finishHealthCheck(process, check, exitStatus: nil, problem: Supervisor.spawnMessage(error, config: probe, argv: resolved.argv), now: now)
            return
        }
        check.generation += 1
        check.popen = popen
        let generation = check.generation
        let output = ProcessOutput(
            processName: probe.name, channel: .stdout, file: nil, syslog: false, stripANSI: false, mainLog: nil,
            sink: { [weak check] bytes in check?.receive(bytes) })
        do {
            check.monitor = try ProcessMonitor(pid: popen.pid, name: "\(probe.name) health check", pipes: popen.stdout.map { [($0, output)] } ?? []) {
                [weak self, weak process] in
                guard let self, let process else { return }
                self.healthCheckExited(process, generation: generation)
            }
        } catch {
            _ = killpg(popen.pid, SIGKILL)
            _ = try? popen.wait()
            check.popen = nil
            finishHealthCheck(process, check, exitStatus: nil, problem: "cannot watch the health check: \(error)", now: now)
        }
    }

    /// The check command ended and its output is drained: kill what it left in its group,
    /// reap it, and tell the machine.
    func healthCheckExited(_ process: ManagedProcess, generation: Int) {
        lock.withLock {
            guard let check = process.health, check.generation == generation, let popen = check.popen else { return }
            // The leader is a zombie until reaped, so its process group id is still its own.
            _ = killpg(popen.pid, SIGKILL)
            let code = popen.poll() ?? ((try? popen.wait(timeout: 5)) ?? -SIGKILL)
            check.popen = nil
            finishHealthCheck(process, check, exitStatus: Int(code), problem: "", now: Supervisor.clock)
        }
    }

    func finishHealthCheck(_ process: ManagedProcess, _ check: HealthCheck, exitStatus: Int?, problem: String, now: Double) {
        check.lastOutput = check.takeOutput()
        check.lastCheck = Supervisor.wallClock
        executeHealth(check.machine.checkFinished(exitStatus: exitStatus, problem: problem, output: check.lastOutput, now: now), for: process)
    }
}
