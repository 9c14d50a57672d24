import CSpindle
import SpindleSystem
#if canImport(Glibc)
import Glibc
#endif

extension DaemonContext {
    /// Becomes a daemon (python-daemon's `open()`), running PEP 3143's steps in order.
    ///
    /// Does nothing when the context is already open. Before the steps, the targets of the
    /// standard streams are opened (see `DaemonStream`). When the context detaches, only the
    /// daemon returns: the calling process exits once the daemon reports — status 0 when every
    /// step succeeded, otherwise status 1 after writing the `DaemonError` to standard error.
    /// - Throws: `DaemonError` naming the step that failed, in the calling process for the steps
    ///   before the detach (and for every step when the context does not detach). Detaching with
    ///   more than one thread running is refused with step "thread check".
    public func open() throws(DaemonError) {
        if isOpen { return }
        let channel = try becomeDaemon()
        channel?.reportStarted()
    }

    /// Becomes a daemon and replaces the daemon with `command`, as daemonize(1) and
    /// start-stop-daemon do: the pid in the pid file is then the program's, and the pid file stays
    /// locked while the program runs (its descriptor is kept open across the exec). The program is
    /// looked up in `PATH` (after the working directory and root changed); it starts with the
    /// mapped signals back at their default actions and no signal blocked.
    ///
    /// When the context detaches, the calling process exits 0 once the exec succeeded, or 1 with
    /// the error on standard error when a step or the exec failed. When the context is already
    /// open, the program replaces the process at once.
    /// - Parameter command: The program and its arguments.
    /// - Returns: Never: the process becomes the program.
    /// - Throws: `DaemonError` in the calling process when a step before the detach fails, or any
    ///   step (and step "exec") when the context does not detach; the context is closed then.
    public func exec(_ command: [String]) throws(DaemonError) -> Never {
        guard let program = command.first, !program.isEmpty else {
            throw DaemonError(step: "exec", message: "no program to run")
        }
        let channel = isOpen ? nil : try becomeDaemon()
        if let fd = pidfile?.lockDescriptor {
            let flags = fcntl(fd, F_GETFD)
            if flags != -1 { _ = fcntl(fd, F_SETFD, flags & ~FD_CLOEXEC) }
        }
        DaemonContext.armTerminate(pidfile: nil)
        for signal in signalMap.keys { _ = spindle_daemon_set_signal_action(signal, SPINDLE_SIGNAL_DEFAULT, nil) }
        _ = spindle_daemon_unblock_all_signals()
        channel?.reportExecPending()

        var arguments: [UnsafeMutablePointer<CChar>?] = command.map { strdup($0) }
        arguments.append(nil)
        execvp(program, &arguments)
        let error = DaemonError.system("exec", program)
        for argument in arguments { free(argument) }
        // The program did not start: put things back as they were for the daemon, and close.
        if let fd = pidfile?.lockDescriptor { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
        try? close()
        if let channel { channel.fail(error) }
        throw error
    }

    /// Runs the steps. Returns in the daemon, with the status channel still open when the
    /// context detached; the original process never returns from a detach.
    private func becomeDaemon() throws(DaemonError) -> StatusChannel? {
        if detachProcess, let threads = DaemonProcess.threadCount(), threads > 1 {
            throw DaemonError(
                step: "thread check",
                message: "\(threads) threads are running; a process can fork safely only while it has "
                    + "one thread, so open the daemon context first thing in main, before starting "
                    + "threads or tasks")
        }
        var streams: [(fd: Int32, opened: Bool)] = []
        func closeStreams() {
            for stream in streams where stream.opened { _ = try? closeDescriptor(stream.fd) }
        }
        do {
            streams.append(try DaemonProcess.prepareStream(stdin, name: "stdin", output: false))
            streams.append(try DaemonProcess.prepareStream(stdout, name: "stdout", output: true))
            streams.append(try DaemonProcess.prepareStream(stderr, name: "stderr", output: true))
            if let chrootDirectory { try DaemonProcess.changeRoot(chrootDirectory) }
            if preventCore { try DaemonProcess.preventCoreDump() }
            _ = Glibc.umask(umask)
            try DaemonProcess.changeWorkingDirectory(workingDirectory)
            try DaemonProcess.changeOwner(uid: uid, gid: gid, initgroups: initgroups)
        } catch {
            closeStreams()
            throw error
        }

        var channel: StatusChannel?
        if detachProcess {
            do {
                channel = try detach()
            } catch {
                closeStreams()
                throw error
            }
        }

        do {
            try DaemonProcess.setSignalActions(signalMap)
            var keep = Set(filesPreserve)
            for stream in streams { keep.insert(stream.fd) }
            if let channel { keep.insert(channel.writeFD) }
            try DaemonProcess.closeAllOpenFiles(except: keep)
            for (target, stream) in streams.enumerated() {
                try DaemonProcess.redirect(stream.fd, onto: Int32(target))
            }
            for stream in streams where stream.opened && stream.fd > 2 && !filesPreserve.contains(stream.fd) {
                _ = try? closeDescriptor(stream.fd)
            }
            if let pidfile { try pidfile.acquire() }
        } catch {
            if let channel { channel.fail(error) }
            throw error
        }

        let me = getpid()
        state.withLock {
            $0.isOpen = true
            $0.daemonPID = me
        }
        openContexts.withLock { $0.append(self) }
        let register = exitHandlerRegistered.withLock { registered -> Bool in
            defer { registered = true }
            return !registered
        }
        if register { atexit { closeOpenContextsAtExit() } }
        if signalMap.values.contains(.terminate), let pidfile {
            DaemonContext.armTerminate(pidfile: pidfile.path)
        }
        return channel
    }

    /// Detaches: fork (the original process waits for the daemon's report and exits), start a
    /// new session with no controlling terminal, fork again (the session leader exits, so the
    /// daemon can never acquire a terminal). Returns in the daemon.
    private func detach() throws(DaemonError) -> StatusChannel {
        let channel = try StatusChannel.make()
        fflush(nil)  // nothing buffered may be written twice
        let first = fork()
        if first == -1 {
            let code = errno
            channel.closeReadEnd()
            channel.closeWriteEnd()
            throw DaemonError(step: "detach", message: "first fork: \(String(cString: strerror(code)))", errno: code)
        }
        if first > 0 {
            channel.closeWriteEnd()
            let outcome = channel.awaitOutcome()
            var status: Int32 = 0
            while waitpid(first, &status, 0) == -1 && errno == EINTR {}
            let program = CommandLine.arguments.first.map { $0.split(separator: "/").last.map(String.init) ?? $0 }
            let prefix = program.map { "\($0): " } ?? ""
            switch outcome {
            case .started:
                _exit(0)
            case .failed(let error):
                writeToStandardError("\(prefix)\(error)\n")
                _exit(1)
            case .vanished:
                let error = DaemonError(step: "detach", message: "the daemon ended before it reported whether it started")
                writeToStandardError("\(prefix)\(error)\n")
                _exit(1)
            }
        }
        channel.closeReadEnd()
        if setsid() == -1 { channel.fail(DaemonError.system("detach", "setsid")) }
        let second = fork()
        if second == -1 {
            let code = errno
            channel.fail(DaemonError(step: "detach", message: "second fork: \(String(cString: strerror(code)))", errno: code))
        }
        if second > 0 { _exit(0) }
        return channel
    }

    /// Points the terminate handler at the pid file it removes, or disarms it.
    /// - Parameter pidfile: The pid file's path, or `nil`.
    static func armTerminate(pidfile: String?) {
        if let pidfile {
            _ = spindle_daemon_set_terminate_pidfile(pidfile, getpid())
        } else {
            _ = spindle_daemon_set_terminate_pidfile(nil, 0)
        }
    }
}
