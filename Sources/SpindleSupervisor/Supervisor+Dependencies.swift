import SpindleSystem

extension Supervisor {
    /// Whether a process may start now as far as its `depends_on` goes.
    enum DependencyGate: Equatable {
        /// Every dependency is RUNNING (and healthy, when it has a check).
        case ready
        /// Some dependency is on its way up (starting, retrying, waiting, restarting).
        case waiting
        /// Some dependency will not come up by itself; the reason names it.
        case blocked(String)
    }

    /// Where the process's dependencies stand; the lock is held.
    func dependencyGate(_ process: ManagedProcess) -> DependencyGate {
        var gate = DependencyGate.ready
        for key in process.config.dependsOn {
            let (groupName, processName) = Supervisor.splitName(key)
            let label = Supervisor.makeName(group: groupName, process: processName ?? groupName)
            guard let dependency = groups[groupName]?.processes[processName ?? groupName] else {
                return .blocked("its dependency '\(label)' is not an active process")
            }
            if isReady(dependency) { continue }
            if let reason = Supervisor.blockReason(dependency) { return .blocked("its dependency '\(label)' is \(reason)") }
            gate = .waiting
        }
        return gate
    }

    /// Why a process that is not ready will not become so by itself, or `nil` when it will.
    static func blockReason(_ process: ManagedProcess) -> String? {
        let machine = process.machine
        if process.waitingForDependencies || process.restartAfterStop { return nil }
        switch machine.state {
        case .running, .starting, .backoff: return nil
        case .stopped where machine.lastStart == nil && machine.policy.autostart: return nil
        case .exited:
            switch machine.policy.autorestart {
            case .always: return nil
            case .unexpected where !machine.policy.exitcodes.contains(machine.exitstatus ?? -1): return nil
            default: return machine.state.name
            }
        default: return machine.state.name
        }
    }

    /// Whether `tick` may start the process (autostart, autorestart, a BACKOFF retry).
    func mayStart(_ process: ManagedProcess) -> Bool {
        mood == .running && (process.config.dependsOn.isEmpty || dependencyGate(process) == .ready)
    }

    /// For a requested start: returns true when the process must wait for its dependencies
    /// (it then starts as soon as they are ready); throws when one cannot come up.
    func deferStartForDependencies(_ process: ManagedProcess, name: String) throws(SupervisorFault) -> Bool {
        process.dependencyBlock = nil
        guard !process.config.dependsOn.isEmpty else {
            process.waitingForDependencies = false
            return false
        }
        switch dependencyGate(process) {
        case .ready:
            process.waitingForDependencies = false
            return false
        case .waiting:
            if !process.waitingForDependencies { logger(.info, "waiting: \(process.config.name) starts once its dependencies are up") }
            process.waitingForDependencies = true
            return true
        case .blocked(let reason):
            process.waitingForDependencies = false
            process.dependencyBlock = reason
            logger(.warn, "not starting \(process.config.name): \(reason)")
            throw .spawnError(name)
        }
    }

    /// Processes to start together, dependencies first, otherwise in the order given.
    func startOrder(_ processes: [ManagedProcess]) -> [ManagedProcess] {
        guard processes.contains(where: { !$0.config.dependsOn.isEmpty }) else { return processes }
        return DependencyOrder.startOrder(processes, key: Supervisor.key, dependencies: { $0.config.dependsOn })
    }

    /// `group:process`, the form `dependsOn` uses.
    static func key(_ process: ManagedProcess) -> String { "\(process.group):\(process.config.name)" }

    /// After a process's state changed: its health check follows, an unhealthy process that
    /// has stopped starts again, and the processes depending on it are looked at. The lock is held.
    func processChanged(_ process: ManagedProcess, _ transitions: [(from: ProcessState, to: ProcessState)]) {
        for transition in transitions { healthFollows(process, from: transition.from, to: transition.to) }
        if process.restartAfterStop, process.machine.state.isStopped {
            process.restartAfterStop = false
            if mood == .running, process.machine.state != .unknown {
                if process.config.dependsOn.isEmpty || dependencyGate(process) == .ready {
                    execute(process.machine.start(now: Supervisor.clock), for: process)
                } else {
                    process.waitingForDependencies = true
                }
            }
        }
        releaseDependents(of: process, now: Supervisor.clock)
    }

    /// Lets the processes that depend on `process` go on: a waiting start runs when they are
    /// all ready (or is given up when one cannot come up), and the others' `tick` is called
    /// (autostart, autorestart and BACKOFF retries wait for dependencies). The lock is held.
    func releaseDependents(of process: ManagedProcess, now: Double) {
        let key = Supervisor.key(process)
        let dependents = groups.values.flatMap { $0.processes.values.filter { $0.config.dependsOn.contains(key) } }
        guard !dependents.isEmpty else { return }
        let ordered = dependents.sorted {
            let a = groups[$0.group]?.config.priority ?? 0, b = groups[$1.group]?.config.priority ?? 0
            return (a, $0.group, $0.config.priority, $0.config.name) < (b, $1.group, $1.config.priority, $1.config.name)
        }
        do {
            for dependent in ordered {
                guard dependent.waitingForDependencies else {
                    settle(dependent, now: now)
                    continue
                }
                if mood != .running {
                    dependent.waitingForDependencies = false
                    dependent.dependencyBlock = "the supervisor is shutting down"
                    try? changed.notifyAll()
                    continue
                }
                switch dependencyGate(dependent) {
                case .waiting:
                    continue
                case .ready:
                    dependent.waitingForDependencies = false
                    execute(dependent.machine.start(now: now), for: dependent)
                    settle(dependent, now: now)
                case .blocked(let reason):
                    dependent.waitingForDependencies = false
                    dependent.dependencyBlock = reason
                    logger(.warn, "not starting \(dependent.config.name): \(reason)")
                    try? changed.notifyAll()
                    releaseDependents(of: dependent, now: now)
                }
            }
        }
    }

    /// A stop asked for while the process waits for its dependencies: the start is called off.
    /// Returns whether there was one. The lock is held.
    func cancelDeferredStart(_ process: ManagedProcess) -> Bool {
        guard process.waitingForDependencies else { return false }
        process.waitingForDependencies = false
        process.dependencyBlock = "stopped while waiting for its dependencies"
        try? changed.notifyAll()
        releaseDependents(of: process, now: Supervisor.clock)
        return true
    }

    /// Whether any active process has `depends_on`.
    var hasDependencies: Bool {
        groups.values.contains { $0.processes.values.contains { !$0.config.dependsOn.isEmpty } }
    }

    /// Processes to stop, split into batches stopped one after another: dependents before
    /// what they depend on, otherwise in the order given; one batch without dependencies.
    func stopBatches(_ processes: [ManagedProcess]) -> [[ManagedProcess]] {
        guard processes.contains(where: { !$0.config.dependsOn.isEmpty }) else { return [processes] }
        return DependencyOrder.stopBatches(processes, key: Supervisor.key, dependencies: { $0.config.dependsOn })
    }

    /// `shutdown` with `depends_on`: supervisor's order (groups by descending priority, each
    /// group's processes by descending priority), except that a process stops only after
    /// every process depending on it has stopped. Returns whether all stopped by `deadline`.
    func shutdownInDependencyOrderLocked(until deadline: Deadline) -> Bool {
        let order = groups.values.sorted { ($0.config.priority, $0.config.name) > ($1.config.priority, $1.config.name) }
            .flatMap { $0.ordered.reversed() }
        let batches = DependencyOrder.stopBatches(
            order, key: Supervisor.key, dependencies: { $0.config.dependsOn }, sameBatch: { $0.group == $1.group })
        for batch in batches {
            for process in batch {
                process.waitingForDependencies = false
                switch process.machine.state {
                case .running, .starting:
                    execute(process.machine.stop(now: Supervisor.clock).actions, for: process)
                case .backoff:
                    execute(process.machine.giveUp(), for: process)
                default: break
                }
            }
            if !waitLocked(until: deadline, { batch.allSatisfy { $0.machine.state.isStopped } }) { return false }
        }
        return true
    }
}
