#if canImport(Glibc)
import Glibc
#endif
import SpindleDaemon
import SpindleSupervisor
import SpindleSupervisorServer
import SpindleSystem
import Synchronization

/// supervisord's main loop: read the configuration, open the HTTP servers, become a daemon,
/// start the programs and serve until a signal or a client asks to stop (exit) or to restart
/// (stop everything and go round again with the configuration read anew).
///
/// The signals supervisord handles are blocked in every thread and taken by the main thread
/// with `sigtimedwait`, so no handler runs in signal context; the programs start with no
/// signal blocked.
struct SupervisordRun {
    let settings: DaemonSettings

    /// The signals the main thread takes.
    static let handledSignals: [Int32] = [SIGTERM, SIGINT, SIGQUIT, SIGHUP, SIGUSR2, wakeSignal, SIGCHLD]

    /// What the daemon does next, set by a signal or by `shutdown`/`restart` over XML-RPC.
    /// Setting it wakes the main thread (made on the main thread) with `wakeSignal`, so that the
    /// main loop sleeps in sigtimedwait without polling.
    final class Request: @unchecked Sendable {
        private let value = Mutex<SupervisordState?>(nil)
        private let mainThread = pthread_self()
        func set(_ state: SupervisordState) {
            value.withLock { $0 = state }
            _ = pthread_kill(mainThread, wakeSignal)
        }
        func take() -> SupervisordState? { value.withLock { current in defer { current = nil }; return current } }
    }

    /// Runs until shut down.
    /// - Returns: The exit status.
    func run() -> Int32 {
        // glibc gives each thread that allocates an arena of its own (up to 8 per core), each
        // keeping its peak: the XML-RPC threads alone held ~5 MiB after a burst of calls. A
        // daemon that mostly waits is better served by two.
        limitMallocArenas(2)
        var blocked = sigset_t()
        sigemptyset(&blocked)
        for signal in SupervisordRun.handledSignals { sigaddset(&blocked, signal) }
        pthread_sigmask(SIG_BLOCK, &blocked, nil)
        signal(SIGPIPE, SIG_IGN)

        var first = true
        var daemon: DaemonContext?
        var pidfile: PIDLockFile?
        while true {
            let config: SupervisorConfig
            do {
                config = try SupervisorConfig.load(path: settings.configFile)
            } catch {
                var message = error.description
                if message.hasPrefix("Error: ") { message.removeFirst(7) }
                Usage.fail(message)
            }
            let options = settings.apply(to: config)
            var criticals: [String] = []
            var infos: [String] = []
            if first {
                if let user = options.user {
                    if let problem = Privileges.drop(to: user) { Usage.fail(problem) }
                    infos.append("Set uid to user \(user) succeeded")
                } else if getuid() == 0 {
                    criticals.append(
                        "Supervisor is running as root.  Privileges were not dropped because no user is specified in the config "
                            + "file.  If you intend to run as root, you can set user=root in the config file to avoid this message.")
                }
                switch Privileges.raiseLimits(minfds: options.minfds, minprocs: options.minprocs) {
                case .success(let raised): infos += raised
                case .failure(let error): Usage.fail(error.message)
                }
            }
            let listeners: [HTTPListener]
            do {
                listeners = try HTTPListener.open(config)
            } catch {
                Usage.fail(error.message)
            }
            if first {
                if options.logfile != "syslog" { SupervisordRun.checkWritable(options.logfile) }
                if options.nodaemon {
                    let lock = PIDLockFile(path: options.pidfile)
                    do {
                        try lock.acquire()
                        pidfile = lock
                    } catch {
                        criticals.append("could not write pidfile \(options.pidfile)")
                    }
                } else {
                    let context = DaemonContext(
                        workingDirectory: options.directory ?? DaemonSettings.absolute("."), umask: mode_t(options.umask),
                        pidfile: PIDLockFile(path: options.pidfile), detachProcess: true,
                        signalMap: [SIGTSTP: .ignore, SIGTTIN: .ignore, SIGTTOU: .ignore],
                        filesPreserve: listeners.map(\.descriptor))
                    do {
                        try context.open()
                    } catch {
                        for listener in listeners { listener.close() }
                        Usage.fail(error.description)
                    }
                    daemon = context
                }
            }
            let mainLog: MainLog
            do {
                mainLog = try MainLog(
                    path: options.logfile, level: options.loglevel, maxBytes: options.logfileMaxbytes,
                    backups: options.logfileBackups, echo: options.nodaemon && !options.silent)
            } catch {
                for listener in listeners { listener.close() }
                Usage.fail("could not open log file \(options.logfile): \(error.message)")
            }
            for message in criticals { mainLog.log(.critical, message) }
            for warning in config.warnings { mainLog.log(.warn, warning) }
            for message in infos { mainLog.log(.info, message) }
            if first, daemon != nil { mainLog.log(.info, "daemonizing the supervisord process") }
            if daemon != nil || pidfile != nil { mainLog.log(.info, "supervisord started with pid \(getpid())") }

            let next = serve(config: config, options: options, listeners: listeners, mainLog: mainLog)
            mainLog.close()
            if next == .shutdown { break }
            first = false
        }
        try? pidfile?.release()
        try? daemon?.close()
        return 0
    }

    /// Runs one round: the supervisor and its servers, until a shutdown or restart request.
    /// - Returns: `.shutdown` or `.restarting`.
    func serve(config: SupervisorConfig, options: SupervisordOptions, listeners: [HTTPListener], mainLog: MainLog) -> SupervisordState {
        var effective = config
        effective.supervisord = options
        // Orphaned descendants of the programs come to spindled (not init), which reaps them on
        // SIGCHLD; the attribute is not inherited through the daemonizing fork, so it is set here.
        do {
            try OrphanReaper.becomeSubreaper()
        } catch {
            mainLog.log(.warn, "cannot become a child subreaper (orphaned descendants go to init): \(error.message)")
        }
        let supervisor = Supervisor(config: effective) { level, message in mainLog.log(level, message) }
        let request = Request()
        let configFile = settings.configFile
        let interface = SupervisorRPCInterface(
            supervisor: supervisor, config: effective, mainLog: mainLog,
            readConfig: { () throws(ConfigError) -> SupervisorConfig in try SupervisorConfig.load(path: configFile) },
            stateChanged: { state in request.set(state) })
        for namespace in interface.supervisorNamespaces { mainLog.log(.info, "RPC interface '\(namespace)' initialized") }
        for rpc in config.rpcInterfaces where !interface.supervisorNamespaces.contains(rpc.name) {
            mainLog.log(.warn, "RPC interface '\(rpc.name)' (\(rpc.factory)) is not supported by spindled and was not initialized")
        }
        let server = SupervisorHTTPServer(listeners: listeners, interface: interface, mainLog: mainLog)
        do {
            try server.start()
        } catch {
            mainLog.log(.critical, "cannot serve HTTP: \(error)")
            return .shutdown
        }
        do {
            try supervisor.run()
        } catch {
            mainLog.log(.critical, "cannot start supervising: \(error)")
        }

        var mood = SupervisordState.running
        while mood == .running {
            if let signal = SupervisordRun.waitForSignal(seconds: 60), signal != wakeSignal {
                mood = handle(signal, mood: mood, supervisor: supervisor, mainLog: mainLog)
            }
            if let asked = request.take() { mood = asked }
        }
        interface.state = mood
        stopEverything(supervisor, mainLog: mainLog, mood: &mood)
        finishLeftovers(supervisor, mainLog: mainLog, mood: &mood)
        server.close()
        return mood
    }

    /// Stops the programs (groups in reverse priority), reporting those still running every 3 s
    /// and taking signals meanwhile.
    func stopEverything(_ supervisor: Supervisor, mainLog: MainLog, mood: inout SupervisordState) {
        var lastReport = SupervisordRun.monotonicSeconds
        while !supervisor.shutdown(timeout: 0.2) {
            if let signal = SupervisordRun.waitForSignal(seconds: 0), signal != wakeSignal {
                mood = handle(signal, mood: mood, supervisor: supervisor, mainLog: mainLog)
            }
            if SupervisordRun.monotonicSeconds - lastReport >= 3 {
                lastReport = SupervisordRun.monotonicSeconds
                let unstopped = supervisor.allProcessInfo().filter { !$0.state.isStopped }
                if !unstopped.isEmpty {
                    mainLog.log(.info, "waiting for \(unstopped.map(\.name).joined(separator: ", ")) to die")
                }
            }
        }
    }

    /// After the programs stopped: waits for the leftovers of `killtree` programs to end (reaping
    /// them as they exit) and for rotated logs still being compressed.
    func finishLeftovers(_ supervisor: Supervisor, mainLog: MainLog, mood: inout SupervisordState) {
        while !Supervisor.waitForProcessTrees(timeout: 0.2) {
            if let signal = SupervisordRun.waitForSignal(seconds: 0), signal != wakeSignal {
                mood = handle(signal, mood: mood, supervisor: supervisor, mainLog: mainLog)
            }
        }
        OrphanReaper.reap()
        RotatingLogFile.waitForCompression()
    }

    /// Seconds on the monotonic clock.
    static var monotonicSeconds: Double {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        return Double(now.tv_sec) + Double(now.tv_nsec) / 1e9
    }

    /// supervisord's `handle_signal`.
    func handle(_ signal: Int32, mood: SupervisordState, supervisor: Supervisor, mainLog: MainLog) -> SupervisordState {
        let name = SupervisordRun.signalName(signal)
        switch signal {
        case SIGTERM, SIGINT, SIGQUIT:
            mainLog.log(.warn, "received \(name) indicating exit request")
            return .shutdown
        case SIGHUP:
            if mood == .shutdown {
                mainLog.log(.warn, "ignored \(name) indicating restart request (shutdown in progress)")
                return mood
            }
            mainLog.log(.warn, "received \(name) indicating restart request")
            return .restarting
        case SIGCHLD:
            OrphanReaper.reap()
            return mood
        case SIGUSR2:
            mainLog.log(.info, "received \(name) indicating log reopen request")
            mainLog.reopen()
            supervisor.reopenLogs()
            return mood
        default:
            mainLog.log(.blather, "received \(name) indicating nothing")
            return mood
        }
    }

    /// Waits up to `seconds` for one of the handled signals.
    static func waitForSignal(seconds: Double) -> Int32? {
        var set = sigset_t()
        sigemptyset(&set)
        for signal in handledSignals { sigaddset(&set, signal) }
        var timeout = timespec(tv_sec: Int(seconds), tv_nsec: Int((seconds - Double(Int(seconds))) * 1e9))
        let received = sigtimedwait(&set, nil, &timeout)
        return received > 0 ? received : nil
    }

    static func signalName(_ signal: Int32) -> String {
        switch signal {
        case SIGTERM: "SIGTERM"
        case SIGINT: "SIGINT"
        case SIGQUIT: "SIGQUIT"
        case SIGHUP: "SIGHUP"
        case SIGUSR2: "SIGUSR2"
        default: "signal \(signal)"
        }
    }

    /// Fails (status 2) when the log file cannot be opened for appending.
    static func checkWritable(_ path: String) {
        let fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o644)
        if fd < 0 { Usage.fail("could not open log file \(path): \(String(cString: strerror(errno)))") }
        close(fd)
    }
}
