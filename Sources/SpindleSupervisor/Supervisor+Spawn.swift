#if canImport(Glibc)
import Glibc
#endif
import SpindleSubprocess
import SpindleSystem

/// Why a command cannot be run (supervisor's `ProcessException`s).
enum CommandProblem: Error {
    /// `BadCommand`: it cannot be split, or is empty.
    case bad(String)
    /// `NotFound`: no such file.
    case notFound(String)
    /// `NotExecutable` / `NoPermission`.
    case notExecutable(String)

    var message: String {
        switch self {
        case .bad(let m), .notFound(let m), .notExecutable(let m): m
        }
    }

    /// The fault `startProcess` raises for it.
    var fault: SupervisorFault {
        switch self {
        case .notFound(let m): .noFile(m)
        case .bad(let m), .notExecutable(let m): .notExecutable(m)
        }
    }
}

extension Supervisor {
    /// supervisor's `get_execv_args`: the program file and argv of a process's command.
    /// - Parameter config: The process.
    /// - Returns: The file to exec and the arguments.
    /// - Throws: `CommandProblem`.
    static func resolveCommand(_ config: ProcessConfig) throws(CommandProblem) -> (file: String, argv: [String]) {
        let argv: [String]
        do {
            argv = try Shlex.split(config.command)
        } catch {
            throw .bad("can't parse command '\(config.command)': \(error.message)")
        }
        guard let program = argv.first else { throw .bad("command is empty") }
        var file = program
        var info: stat?
        if program.contains("/") {
            info = FileSystem.status(program)
        } else {
            let path = config.environment["PATH"] ?? FileSystem.environment["PATH"] ?? "/bin:/usr/bin:/usr/local/bin"
            for dir in path.split(separator: ":", omittingEmptySubsequences: false) {
                let candidate = FileSystem.join(String(dir), program)
                if let found = FileSystem.status(candidate) {
                    file = candidate
                    info = found
                    break
                }
            }
        }
        guard let info else { throw .notFound("can't find command '\(file)'") }
        if (info.st_mode & S_IFMT) == S_IFDIR { throw .notExecutable("command at '\(file)' is a directory") }
        if info.st_mode & 0o111 == 0 { throw .notExecutable("command at '\(file)' is not executable") }
        if access(file, X_OK) != 0 { throw .notExecutable("no permission to run command '\(file)'") }
        return (file, argv)
    }

    /// What supervisor gives every command it runs for a program (the program itself, and its
    /// health check): the environment (spindled's, the `SUPERVISOR_*` variables, then the
    /// program's `environment`) and spawn options (a session of its own, the program's umask and,
    /// when it names another user, that user's uid, gid and supplementary groups).
    /// - Parameters:
    ///   - config: The program's configuration.
    ///   - group: Its group's name.
    ///   - executable: The resolved command file.
    /// - Returns: The environment and the options.
    func childSetting(_ config: ProcessConfig, group: String, executable: String) -> (environment: [String: String], options: SpawnOptions) {
        var environment = FileSystem.environment
        environment["SUPERVISOR_ENABLED"] = "1"
        if let url = config.serverurl ?? serverURL { environment["SUPERVISOR_SERVER_URL"] = url }
        environment["SUPERVISOR_PROCESS_NAME"] = config.name
        environment["SUPERVISOR_GROUP_NAME"] = group
        for (key, value) in config.environment { environment[key] = value }
        var options = SpawnOptions(executable: executable, startNewSession: true, umask: config.umask)
        if let uid = config.uid, uid != geteuid() {
            options.user = String(uid)
            if let record = getpwuid(uid) {
                options.group = String(record.pointee.pw_gid)
                var count: Int32 = 64
                var ids = [gid_t](repeating: 0, count: 64)
                if getgrouplist(record.pointee.pw_name, record.pointee.pw_gid, &ids, &count) >= 0 {
                    options.extraGroups = ids.prefix(Int(count)).map { String($0) }
                }
            }
        }
        return (environment, options)
    }

    /// Carries out `.spawn`: starts the child and reports to the machine; the lock is held.
    func spawn(_ process: ManagedProcess) {
        let now = Supervisor.clock
        process.wallStart = Supervisor.wallClock
        let config = process.config
        let resolved: (file: String, argv: [String])
        do {
            resolved = try Supervisor.resolveCommand(config)
        } catch {
            execute(process.machine.spawnFailed(error.message, now: now), for: process)
            return
        }
        openOutputs(process)
        let (environment, options) = childSetting(config, group: process.group, executable: resolved.file)
        let popen: Popen
        let tree: ProcessTree?
        do {
            (popen, tree) = try Supervisor.start(resolved.argv, config: config, environment: environment, options: options)
        } catch {
            execute(process.machine.spawnFailed(Supervisor.spawnMessage(error, config: config, argv: resolved.argv), now: now), for: process)
            return
        }
        process.tree = tree
        process.generation += 1
        process.popen = popen
        let generation = process.generation
        var pipes: [(PipeReader, ProcessOutput?)] = []
        if let out = popen.stdout { pipes.append((out, process.outputs[.stdout])) }
        if let err = popen.stderr { pipes.append((err, process.outputs[.stderr])) }
        do {
            process.monitor = try ProcessMonitor(pid: popen.pid, name: config.name, pipes: pipes) { [weak self, weak process] in
                guard let self, let process else { return }
                self.childExited(process, generation: generation)
            }
        } catch {
            _ = killpg(popen.pid, SIGKILL)
            _ = try? popen.wait()
            process.popen = nil
            if let tree = process.tree {
                process.tree = nil
                TreeReaper.shared.end(tree, signal: SIGKILL, wait: 0)
            }
            execute(process.machine.spawnFailed("cannot watch '\(config.name)': \(error)", now: now), for: process)
            return
        }
        execute(process.machine.spawned(pid: popen.pid, now: now), for: process)
    }

    /// Starts the child, in a process tree of its own with `killtree`: a fresh cgroup when one
    /// can be joined (a child refused by its cgroup is started again with the cookie, and cgroups
    /// are not tried again), else the cookie in its environment.
    static func start(
        _ argv: [String], config: ProcessConfig, environment: [String: String], options: SpawnOptions
    ) throws(SpawnError) -> (Popen, ProcessTree?) {
        func attempt(cgroups: Bool) throws(SpawnError) -> (Popen, ProcessTree?) {
            guard config.killtree else {
                return (try Popen(argv, stdin: .pipe, stdout: .pipe, stderr: config.redirectStderr ? .stdout : .pipe, cwd: config.directory, env: environment, options: options), nil)
            }
            let tree = ProcessTree.make(name: config.name, cgroups: cgroups)
            var environment = environment
            var options = options
            if let cookie = tree.cookie, let equals = cookie.firstIndex(of: "=") {
                environment[String(cookie[..<equals])] = String(cookie[cookie.index(after: equals)...])
            }
            let directory = tree.openDirectory()
            defer { if let directory { try? closeDescriptor(directory) } }
            if tree.cgroup != nil, directory == nil {
                tree.remove()
                ProcessTree.refuseCgroups()
                return try attempt(cgroups: false)
            }
            options.cgroupDirectory = directory
            do {
                let popen = try Popen(
                    argv, stdin: .pipe, stdout: .pipe, stderr: config.redirectStderr ? .stdout : .pipe,
                    cwd: config.directory, env: environment, options: options)
                tree.spawned(popen.pid)
                return (popen, tree)
            } catch {
                tree.remove()
                if error.step == "cgroup", cgroups {
                    ProcessTree.refuseCgroups()
                    return try attempt(cgroups: false)
                }
                throw error
            }
        }
        return try attempt(cgroups: true)
    }

    /// supervisor's wording of a failed step of starting a child.
    static func spawnMessage(_ error: SpawnError, config: ProcessConfig, argv: [String]) -> String {
        let why = SystemError(call: error.step, errno: error.errno).message
        switch error.step {
        case "chdir": return "couldn't chdir to \(config.directory ?? ""): \(why)"
        case "setuid", "setgid", "setgroups", "user", "group": return "couldn't setuid to \(config.uid.map(String.init) ?? config.user ?? ""): \(why)"
        case "exec": return "couldn't exec \(argv.first ?? config.command): \(why)"
        case "fork": return "Too many processes in process table to spawn '\(config.name)'"
        case "pipe", "open": return "too many open files to spawn '\(config.name)'"
        default: return "unknown error during spawn of '\(config.name)': \(error)"
        }
    }

    /// Opens the process's log files on its first start.
    func openOutputs(_ process: ManagedProcess) {
        let config = process.config
        let mainLog: Logger? = self.config.supervisord.loglevel <= .debug ? logger : nil
        for channel in LogChannel.allCases where process.outputs[channel] == nil {
            if channel == .stderr, config.redirectStderr { continue }
            let settings = config.logging(channel)
            var file: RotatingLogFile?
            if let path = process.logPaths[channel] {
                do {
                    file = try RotatingLogFile(path: path, maxBytes: settings.maxbytes, backups: settings.backups, compress: settings.compress)
                } catch {
                    logger(.error, "cannot open \(channel.rawValue) log of \(config.name): \(error)")
                }
            }
            process.outputs[channel] = ProcessOutput(
                processName: config.name, channel: channel, file: file, syslog: settings.syslog,
                stripANSI: self.config.supervisord.stripANSI, mainLog: mainLog, forward: settings.forward)
        }
    }

    /// The monitor saw the child exit and drained its output: reap it and tell the machine.
    func childExited(_ process: ManagedProcess, generation: Int) {
        lock.withLock {
            guard process.generation == generation, let popen = process.popen else { return }
            let code = popen.poll() ?? ((try? popen.wait(timeout: 5)) ?? -SIGKILL)
            process.popen = nil
            if let tree = process.tree {
                process.tree = nil
                TreeReaper.shared.end(tree, signal: process.config.stopsignal, wait: process.config.stopwaitsecs)
            }
            process.wallStop = Supervisor.wallClock
            let now = Supervisor.clock
            execute(process.machine.exited(ProcessExitStatus(returncode: code), now: now), for: process)
            settle(process, now: now)
            try? changed.notifyAll()
        }
    }
}
