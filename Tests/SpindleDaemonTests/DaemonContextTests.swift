import Foundation
@testable import SpindleDaemon
import Testing
#if canImport(Glibc)
import Glibc
#endif

extension DaemonTests {
    /// DaemonContext's options and decisions, as python-daemon's test_daemon.py checks them, without
    /// changing the test process.
    @Suite("DaemonContext options")
    struct DaemonContextOptionTests {
        @Test("the defaults are python-daemon's")
        func defaults() {
            let context = DaemonContext()
            #expect(context.chrootDirectory == nil)
            #expect(context.workingDirectory == "/")
            #expect(context.umask == 0)
            #expect(context.pidfile == nil)
            #expect(context.detachProcess == DaemonContext.isDetachRequired)
            #expect(context.signalMap == DaemonContext.defaultSignalMap)
            #expect(context.uid == getuid())
            #expect(context.gid == getgid())
            #expect(context.initgroups == false)
            #expect(context.preventCore == true)
            #expect(context.filesPreserve.isEmpty)
            #expect(context.stdin == .null)
            #expect(context.stdout == .null)
            #expect(context.stderr == .null)
            #expect(context.isOpen == false)
        }

        @Test("the options given are kept")
        func options() {
            let pidfile = PIDLockFile(path: "/run/x.pid")
            let context = DaemonContext(
                chrootDirectory: "/srv/jail", workingDirectory: "/data", umask: 0o027, pidfile: pidfile,
                detachProcess: false, signalMap: [SIGHUP: .ignore], uid: 12, gid: 34, initgroups: true,
                preventCore: false, filesPreserve: [7, 9], stdin: .descriptor(5), stdout: "/var/log/x.log",
                stderr: .path("/var/log/y.log"))
            #expect(context.chrootDirectory == "/srv/jail")
            #expect(context.workingDirectory == "/data")
            #expect(context.umask == 0o027)
            #expect(context.pidfile === pidfile)
            #expect(context.detachProcess == false)
            #expect(context.signalMap == [SIGHUP: .ignore])
            #expect(context.uid == 12 && context.gid == 34 && context.initgroups)
            #expect(context.preventCore == false)
            #expect(context.filesPreserve == [7, 9])
            #expect(context.stdin == .descriptor(5))
            #expect(context.stdout == .path("/var/log/x.log"))
            #expect(context.stderr == .path("/var/log/y.log"))
            #expect(DaemonContext(detachProcess: true).detachProcess)
        }

        @Test("the default signal map ignores SIGTSTP, SIGTTIN, SIGTTOU and terminates on SIGTERM")
        func defaultSignalMap() {
            #expect(DaemonContext.defaultSignalMap == [SIGTSTP: .ignore, SIGTTIN: .ignore, SIGTTOU: .ignore, SIGTERM: .terminate])
        }

        @Test("detaching is required unless the parent is init or standard input is a socket")
        func detachRequired() {
            #expect(DaemonProcess.detachRequired(parentPID: 4321, stdinIsSocket: false))
            #expect(!DaemonProcess.detachRequired(parentPID: 1, stdinIsSocket: false))
            #expect(!DaemonProcess.detachRequired(parentPID: 4321, stdinIsSocket: true))
            #expect(!DaemonProcess.detachRequired(parentPID: 1, stdinIsSocket: true))
            #expect(DaemonContext.isStartedByInit == (getppid() == 1))
            #expect(DaemonContext.isDetachRequired == !(DaemonContext.isStartedByInit || DaemonContext.isStartedBySuperServer))
        }

        @Test("isSocket is true for a socket, false for a pipe, a file and a closed descriptor")
        func isSocket() throws {
            var pair: [Int32] = [-1, -1]
            #expect(socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0, &pair) == 0)
            defer { close(pair[0]); close(pair[1]) }
            #expect(DaemonProcess.isSocket(pair[0]))
            var fds: [Int32] = [-1, -1]
            #expect(pipe(&fds) == 0)
            defer { close(fds[0]); close(fds[1]) }
            #expect(!DaemonProcess.isSocket(fds[0]))
            let file = open("/dev/null", O_RDONLY)
            defer { close(file) }
            #expect(!DaemonProcess.isSocket(file))
            #expect(!DaemonProcess.isSocket(9999))
        }

        @Test("/proc/PID/stat is read from after the command name, whatever it holds")
        func parseStat() {
            let stat = DaemonProcess.parseStat("4242 (a (weird) name) S 1 4241 4241 0 -1 4194560 ...")
            #expect(stat == DaemonProcess.Stat(state: "S", parentPID: 1, processGroup: 4241, session: 4241, ttyNumber: 0))
            #expect(DaemonProcess.parseStat("garbage") == nil)
            let mine = DaemonProcess.stat(of: getpid())
            #expect(mine?.parentPID == getppid())
            #expect(mine?.session == getsid(0))
        }

        @Test("isRunning: this process is, a reaped one and a zombie are not")
        func isRunning() async throws {
            #expect(DaemonProcess.isRunning(getpid()))
            #expect(!DaemonProcess.isRunning(try deadPID()))
            #expect(!DaemonProcess.isRunning(0))
            let sandbox = try Sandbox.make()
            defer { sandbox.cleanUp() }
            let child = ForkedChild.start(in: sandbox) { 0 }
            #expect(await eventually { procStat(child.pid)?.state == "Z" })
            #expect(!DaemonProcess.isRunning(child.pid))
            _ = await child.wait()
        }

        @Test("the status pipe's records: started, exec pending, errors with step, errno and message")
        func statusRecords() {
            let error = DaemonError(step: "pidfile", message: "x\tis\nlocked", errno: EWOULDBLOCK)
            let encoded = StatusChannel.encode(error)
            #expect(StatusChannel.decode(encoded) == .failed(DaemonError(step: "pidfile", message: "x is locked", errno: EWOULDBLOCK)))
            #expect(StatusChannel.decode(Array("S".utf8)) == .started)
            #expect(StatusChannel.decode(Array("X".utf8)) == .started)
            let execFailed = DaemonError(step: "exec", message: "m")
            #expect(StatusChannel.decode(Array("X".utf8) + StatusChannel.encode(execFailed)) == .failed(execFailed))
            #expect(StatusChannel.decode([]) == .vanished)
            if case .failed(let garbled) = StatusChannel.decode(Array("?".utf8)) {
                #expect(garbled.step == "detach")
            } else {
                Issue.record("a garbled report was not a failure")
            }
        }

        @Test("DaemonError names the step; DaemonStream and DaemonSignalAction describe themselves")
        func descriptions() {
            let error = DaemonError(step: "chroot", message: "chdir(/x): No such file or directory", errno: ENOENT)
            #expect(error.description == "daemon: chroot failed: chdir(/x): No such file or directory")
            #expect(DaemonError.system("setuid", "setuid(0)", errno: EPERM).message == "setuid(0): Operation not permitted")
            let stream: DaemonStream = "/var/log/x"
            #expect(stream == .path("/var/log/x"))
            #expect(DaemonStream.null.description == "/dev/null")
            #expect(DaemonStream.descriptor(4).description == "fd 4")
            let handler: @convention(c) (Int32) -> Void = { _ in }
            #expect(DaemonSignalAction.handler(handler) == .handler(handler))
            #expect(DaemonSignalAction.handler(handler) != .terminate)
            #expect(DaemonSignalAction.terminate.description == "terminate")
        }

        @Test("close() on a context that was never opened does nothing")
        func closeUnopened() throws {
            let context = DaemonContext(pidfile: PIDLockFile(path: "/nonexistent/x.pid"))
            try context.close()
            #expect(!context.isOpen)
        }

        @Test("detaching with other threads running is refused, naming the thread count, before any step")
        func threadCheck() throws {
            let keeper = Thread { sleep(2) }
            keeper.start()
            let umaskBefore = currentUmask()
            let cwdBefore = currentDirectory()
            let context = DaemonContext(workingDirectory: "/nonexistent", umask: 0o077, detachProcess: true)
            let error = #expect(throws: DaemonError.self) { try context.open() }
            #expect(error?.step == "thread check")
            let count = error.flatMap { Int($0.message.prefix { $0.isNumber }) } ?? 0
            #expect(count >= 2, "\(error?.message ?? "")")
            #expect(error?.message.contains("threads are running") == true)
            #expect(error?.message.contains("first thing in main") == true)
            #expect(!context.isOpen)
            #expect(currentUmask() == umaskBefore)
            #expect(currentDirectory() == cwdBefore)
        }

        @Test("a chroot failure names the step and leaves the process as it was")
        func chrootFailure() throws {
            let cwdBefore = currentDirectory()
            let context = DaemonContext(chrootDirectory: "/nonexistent/jail", detachProcess: false)
            let error = #expect(throws: DaemonError.self) { try context.open() }
            #expect(error?.step == "chroot")
            #expect(error?.errno == ENOENT)
            #expect(error?.description == "daemon: chroot failed: chdir(/nonexistent/jail): No such file or directory")
            #expect(!context.isOpen)
            #expect(currentDirectory() == cwdBefore)
        }

        @Test("a stream target that cannot be opened names the stream, before any step")
        func streamFailure() throws {
            let context = DaemonContext(detachProcess: false, stdout: "/nonexistent/dir/out.log")
            let error = #expect(throws: DaemonError.self) { try context.open() }
            #expect(error?.step == "open stdout")
            #expect(error?.message == "open(/nonexistent/dir/out.log): No such file or directory")
            let closed = DaemonContext(detachProcess: false, stdin: .descriptor(9999))
            let closedError = #expect(throws: DaemonError.self) { try closed.open() }
            #expect(closedError?.step == "open stdin")
            #expect(closedError?.errno == EBADF)
        }
    }

    /// DaemonContext.open(), close(), run and exec for real, in forked children (which start with a
    /// single thread, as a daemon's main does).
    @Suite("DaemonContext in a child process")
    struct DaemonContextProcessTests {
        @Test("open() detaches: the caller exits 0 once the daemon runs, in a new session it does not lead")
        func detaches() async throws {
            try await withSandbox { sandbox in
                let out = sandbox.path("out")
                let pidPath = sandbox.path("d.pid")
                let testSession = getsid(0)
                let child = ForkedChild.start(in: sandbox) {
                    let context = DaemonContext(
                        workingDirectory: sandbox.directory, umask: 0o027, pidfile: PIDLockFile(path: pidPath), stdout: .path(out))
                    do { try context.open() } catch { return 3 }
                    // Only the daemon gets here; standard output is the file now.
                    let me = getpid()
                    emit("pid=\(me)\nppid=\(getppid())\nsid=\(getsid(0))\npgrp=\(getpgrp())\n")
                    emit("umask=\(String(currentUmask(), radix: 8))\ncwd=\(currentDirectory())\nopen=\(context.isOpen)\n")
                    emit("pidfile=\(contents(pidPath).trimmingCharacters(in: .whitespacesAndNewlines))\nlocked=\(isFlockHeld(pidPath))\n")
                    usleep(300_000)  // the test looks at the process meanwhile
                    do { try context.close() } catch { emit("close=\(error)\n") }
                    emit("closed=\(!context.isOpen)\npidfileAfterClose=\(fileExists(pidPath))\n")
                    return 0
                }
                let start = Date()
                #expect(await child.wait() == .exited(0))
                #expect(Date().timeIntervalSince(start) < 30)  // a bound that catches a hang, not a speed check
                #expect(await eventually { report(out)["locked"] != nil })
                var facts = report(out)
                let daemon = pid_t(facts["pid"] ?? "") ?? 0
                #expect(daemon > 0 && daemon != child.pid)
                if let stat = procStat(daemon) {
                    #expect(stat.ttyNumber == 0)
                    #expect(stat.ppid != getpid() && stat.ppid != child.pid)
                }
                #expect(facts["ppid"] != String(child.pid))
                #expect(facts["sid"] != facts["pid"], "the daemon leads its session")
                #expect(facts["sid"] != String(testSession))
                #expect(facts["sid"] == facts["pgrp"])
                #expect(facts["umask"] == "27")
                #expect(facts["cwd"] == sandbox.directory)
                #expect(facts["open"] == "true")
                #expect(facts["pidfile"] == String(daemon))
                #expect(facts["locked"] == "true")
                #expect(await eventually { report(out)["pidfileAfterClose"] != nil })
                facts = report(out)
                #expect(facts["close"] == nil)
                #expect(facts["closed"] == "true")
                #expect(facts["pidfileAfterClose"] == "false")
                #expect(await eventually { !isAlive(daemon) })
            }
        }

        @Test("a step failing in the daemon makes the caller exit 1 with the step on standard error")
        func failureAfterDetach() async throws {
            try await withSandbox { sandbox in
                let pidPath = sandbox.path("d.pid")
                let errPath = sandbox.path("err")
                let holder = PIDLockFile(path: pidPath)
                try holder.acquire()
                defer { try? holder.release() }
                let child = ForkedChild.start(in: sandbox) {
                    let fd = open(errPath, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
                    dup2(fd, 2)
                    let context = DaemonContext(pidfile: PIDLockFile(path: pidPath))
                    do { try context.open() } catch { return 3 }
                    emit("the daemon returned from open()\n", to: 2)
                    return 4
                }
                #expect(await child.wait() == .exited(1))
                let message = contents(errPath)
                #expect(message.contains("daemon: pidfile failed: \(pidPath) is locked by running process \(getpid())"), "\(message)")
                #expect(!message.contains("returned from open()"))
                #expect(await eventually { sandbox.markedProcesses().isEmpty })
                #expect(contents(pidPath) == "\(getpid())\n")
            }
        }

        @Test("without detaching, the steps apply in place: files closed but the preserved, core limit, signals, pid file")
        func inPlace() async throws {
            try await withSandbox { sandbox in
                let out = sandbox.path("out")
                let pidPath = sandbox.path("d.pid")
                let testPID = getpid()
                let child = ForkedChild.start(in: sandbox) {
                    let kept = open("/dev/null", O_RDONLY)
                    let dropped = open("/dev/null", O_RDONLY)
                    let context = DaemonContext(
                        workingDirectory: sandbox.directory, umask: 0o077, pidfile: PIDLockFile(path: pidPath),
                        detachProcess: false, filesPreserve: [kept], stdout: .path(out), stderr: .path(out))
                    do { try context.open() } catch { return 3 }
                    var core = rlimit()
                    getrlimit(__rlimit_resource_t(RLIMIT_CORE.rawValue), &core)
                    emit("ppid=\(getppid())\npid=\(getpid())\nkept=\(fcntl(kept, F_GETFD) != -1)\n")
                    emit("dropped=\(fcntl(dropped, F_GETFD) != -1)\ncore=\(core.rlim_cur),\(core.rlim_max)\n")
                    emit("umask=\(String(currentUmask(), radix: 8))\ncwd=\(currentDirectory())\n")
                    for (name, signal) in [("tstp", SIGTSTP), ("ttin", SIGTTIN), ("ttou", SIGTTOU), ("term", SIGTERM)] {
                        emit("\(name)=\(DaemonProcess.signalAction(signal).map { "\($0)" } ?? "other")\n")
                    }
                    emit("pidfile=\(contents(pidPath).trimmingCharacters(in: .whitespacesAndNewlines))\nopen=\(context.isOpen)\n")
                    emit("stderr line\n", to: 2)
                    let fds = openDescriptors(of: getpid()).keys.sorted().map(String.init).joined(separator: ",")
                    emit("fds=\(fds)\n")
                    do { try context.open() } catch { emit("reopen=\(error)\n") }  // already open: nothing happens
                    do { try context.close() } catch { emit("close=\(error)\n") }
                    do { try context.close() } catch { emit("close2=\(error)\n") }
                    emit("closed=\(!context.isOpen)\npidfileAfterClose=\(fileExists(pidPath))\n")
                    return 0
                }
                #expect(await child.wait() == .exited(0))
                let facts = report(out)
                #expect(facts["ppid"] == String(testPID))
                #expect(facts["pid"] == String(child.pid))
                #expect(facts["kept"] == "true")
                #expect(facts["dropped"] == "false")
                #expect(facts["core"] == "0,0")
                #expect(facts["umask"] == "77")
                #expect(facts["cwd"] == sandbox.directory)
                #expect(facts["tstp"] == "ignore" && facts["ttin"] == "ignore" && facts["ttou"] == "ignore")
                #expect(facts["term"] == "terminate")
                #expect(facts["pidfile"] == String(child.pid))
                #expect(facts["open"] == "true")
                #expect(contents(out).contains("stderr line\n"))
                // 0-2, the preserved file, the pid file's lock, and the one /proc listing the fds.
                let fds = facts["fds"]?.split(separator: ",").compactMap { Int32($0) } ?? []
                #expect(fds.count == 6, "\(facts["fds"] ?? "")")
                #expect(facts["reopen"] == nil && facts["close"] == nil && facts["close2"] == nil)
                #expect(facts["closed"] == "true")
                #expect(facts["pidfileAfterClose"] == "false")
            }
        }

        @Test("preventCore: false leaves the core limit alone; a custom signal map is installed as given")
        func optionsOff() async throws {
            try await withSandbox { sandbox in
                let out = sandbox.path("out")
                let child = ForkedChild.start(in: sandbox) {
                    var before = rlimit(rlim_cur: 4096, rlim_max: rlim_t.max)
                    setrlimit(__rlimit_resource_t(RLIMIT_CORE.rawValue), &before)
                    let context = DaemonContext(
                        detachProcess: false, signalMap: [SIGHUP: .ignore, SIGUSR1: .terminate, SIGTERM: .default],
                        preventCore: false, stdout: .path(out))
                    do { try context.open() } catch { return 3 }
                    var core = rlimit()
                    getrlimit(__rlimit_resource_t(RLIMIT_CORE.rawValue), &core)
                    emit("core=\(core.rlim_cur)\n")
                    for (name, signal) in [("hup", SIGHUP), ("usr1", SIGUSR1), ("term", SIGTERM), ("tstp", SIGTSTP)] {
                        emit("\(name)=\(DaemonProcess.signalAction(signal).map { "\($0)" } ?? "other")\n")
                    }
                    return 0
                }
                #expect(await child.wait() == .exited(0))
                let facts = report(out)
                #expect(facts["core"] == "4096")
                #expect(facts["hup"] == "ignore" && facts["usr1"] == "terminate" && facts["term"] == "default")
                #expect(facts["tstp"] == "default")
            }
        }

        @Test("the scoped form opens, runs the body in the daemon, and closes, also when the body throws")
        func scoped() async throws {
            try await withSandbox { sandbox in
                let out = sandbox.path("out")
                let pidPath = sandbox.path("d.pid")
                let child = ForkedChild.start(in: sandbox) {
                    let context = DaemonContext(pidfile: PIDLockFile(path: pidPath), detachProcess: false, stdout: .path(out))
                    do {
                        let value = try context.run { () -> Int in
                            emit("inside=\(context.isOpen),\(fileExists(pidPath))\n")
                            return 42
                        }
                        emit("value=\(value)\nafter=\(context.isOpen),\(fileExists(pidPath))\n")
                        struct Boom: Error {}
                        do {
                            try context.run { throw Boom() }
                        } catch is Boom {
                            emit("thrown=\(context.isOpen),\(fileExists(pidPath))\n")
                        }
                    } catch {
                        emit("error=\(error)\n")
                    }
                    return 0
                }
                #expect(await child.wait() == .exited(0))
                let facts = report(out)
                #expect(facts["inside"] == "true,true")
                #expect(facts["value"] == "42")
                #expect(facts["after"] == "false,false")
                #expect(facts["thrown"] == "false,false")
                #expect(facts["error"] == nil)
            }
        }

        @Test("SIGTERM ends the daemon cleanly: the pid file is removed and the process dies of SIGTERM, even if it was blocked")
        func terminate() async throws {
            try await withSandbox { sandbox in
                let pidPath = sandbox.path("d.pid")
                let child = ForkedChild.start(in: sandbox) {
                    var blocked = sigset_t()
                    sigemptyset(&blocked)
                    sigaddset(&blocked, SIGTERM)
                    sigprocmask(SIG_BLOCK, &blocked, nil)
                    let context = DaemonContext(pidfile: PIDLockFile(path: pidPath), detachProcess: false)
                    do { try context.open() } catch { return 3 }
                    while true { pause() }
                }
                #expect(await eventually { contents(pidPath) == "\(child.pid)\n" })
                kill(child.pid, SIGTERM)
                #expect(await child.wait() == .killed(by: SIGTERM))
                #expect(!fileExists(pidPath))
            }
        }

        @Test("exit() closes the context: the pid file is removed (python-daemon's atexit close)")
        func exitCloses() async throws {
            try await withSandbox { sandbox in
                let pidPath = sandbox.path("d.pid")
                let child = ForkedChild.start(in: sandbox) {
                    let context = DaemonContext(pidfile: PIDLockFile(path: pidPath), detachProcess: false)
                    do { try context.open() } catch { return 3 }
                    exit(7)
                }
                #expect(await child.wait() == .exited(7))
                #expect(!fileExists(pidPath))
            }
        }

        @Test("a child the daemon forks leaves the pid file alone on close(), exit and SIGTERM")
        func forkedChildLeavesPidFile() async throws {
            try await withSandbox { sandbox in
                let pidPath = sandbox.path("d.pid")
                let out = sandbox.path("out")
                let child = ForkedChild.start(in: sandbox) {
                    let context = DaemonContext(pidfile: PIDLockFile(path: pidPath), detachProcess: false, stdout: .path(out))
                    do { try context.open() } catch { return 3 }
                    let worker = fork()
                    if worker == 0 {
                        try? context.close()
                        exit(0)
                    }
                    var status: Int32 = 0
                    waitpid(worker, &status, 0)
                    emit("afterClose=\(fileExists(pidPath)),\(isFlockHeld(pidPath))\n")
                    let terminated = fork()
                    if terminated == 0 {
                        while true { pause() }
                    }
                    usleep(50_000)
                    kill(terminated, SIGTERM)
                    waitpid(terminated, &status, 0)
                    emit("afterTerm=\(fileExists(pidPath)),\(status & 0x7f)\n")
                    exit(0)  // exit, not _exit: the context closes at exit
                }
                #expect(await child.wait() == .exited(0))
                let facts = report(out)
                #expect(facts["afterClose"] == "true,true")
                #expect(facts["afterTerm"] == "true,\(SIGTERM)")
                #expect(!fileExists(pidPath), "the daemon's own exit removes it")
            }
        }

        @Test("a setuid, setgid or initgroups the process may not do names the step")
        func ownerFailures() async throws {
            try await withSandbox { sandbox in
                let out = sandbox.path("out")
                let child = ForkedChild.start(in: sandbox) {
                    let fd = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
                    if getuid() == 0 {
                        // Give up root for good (keeping gid 0 as the real group), then ask for it back.
                        guard setuid(65534) == 0 else { return 5 }
                    }
                    let cases: [(String, DaemonContext)] = [
                        ("setuid", DaemonContext(detachProcess: false, uid: 0)),
                        ("setgid", DaemonContext(detachProcess: false, gid: 54321)),
                        ("initgroups", DaemonContext(detachProcess: false, uid: 0, initgroups: true)),
                    ]
                    for (name, context) in cases {
                        do throws(DaemonError) {
                            try context.open()
                            emit("\(name)=opened\n", to: fd)
                        } catch {
                            emit("\(name)=\(error.step),\(error.errno ?? 0)\n", to: fd)
                        }
                    }
                    return 0
                }
                #expect(await child.wait() == .exited(0))
                let facts = report(out)
                #expect(facts["setuid"] == "setuid,\(EPERM)")
                #expect(facts["setgid"] == "setgid,\(EPERM)")
                #expect(facts["initgroups"] == "initgroups,\(EPERM)")
            }
        }

        @Test("exec replaces the daemon with the program: its pid is in the locked pid file")
        func exec() async throws {
            try await withSandbox { sandbox in
                let out = sandbox.path("out")
                let pidPath = sandbox.path("d.pid")
                let child = ForkedChild.start(in: sandbox) {
                    let context = DaemonContext(pidfile: PIDLockFile(path: pidPath), stdout: .path(out))
                    do {
                        try context.exec(["/bin/sh", "-c", "echo $$; trap 'echo term; exit 0' TERM; sleep 30 & wait"])
                    } catch {
                        return 3
                    }
                }
                #expect(await child.wait() == .exited(0))
                #expect(await eventually { !contents(out).isEmpty })
                let daemon = pid_t(contents(out).trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0
                #expect(daemon > 0)
                #expect(contents(pidPath) == "\(daemon)\n")
                #expect(isFlockHeld(pidPath))
                // The signal map is back to defaults in the program: its own TERM trap runs.
                kill(daemon, SIGTERM)
                #expect(await eventually { contents(out).contains("term") })
                #expect(await eventually { !isAlive(daemon) })
            }
        }

        @Test("an exec that fails is reported by the caller, and the pid file is removed")
        func execFailure() async throws {
            try await withSandbox { sandbox in
                let errPath = sandbox.path("err")
                let pidPath = sandbox.path("d.pid")
                let child = ForkedChild.start(in: sandbox) {
                    let fd = open(errPath, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
                    dup2(fd, 2)
                    let context = DaemonContext(pidfile: PIDLockFile(path: pidPath))
                    do { try context.exec(["/nonexistent/program", "x"]) } catch { return 3 }
                }
                #expect(await child.wait() == .exited(1))
                #expect(contents(errPath).contains("daemon: exec failed: /nonexistent/program: No such file or directory"))
                #expect(await eventually { !fileExists(pidPath) })
                #expect(await eventually { sandbox.markedProcesses().isEmpty })
            }
        }

        @Test("an exec that fails without detaching throws, and closes the context")
        func execFailureInPlace() async throws {
            try await withSandbox { sandbox in
                let out = sandbox.path("out")
                let pidPath = sandbox.path("d.pid")
                let child = ForkedChild.start(in: sandbox) {
                    let context = DaemonContext(pidfile: PIDLockFile(path: pidPath), detachProcess: false, stdout: .path(out))
                    do throws(DaemonError) {
                        try context.exec(["no-such-program-\(getpid())"])
                    } catch {
                        emit("step=\(error.step)\nerrno=\(error.errno ?? 0)\nopen=\(context.isOpen)\npidfile=\(fileExists(pidPath))\n")
                    }
                    do throws(DaemonError) { try context.exec([]) } catch { emit("empty=\(error.message)\n") }
                    return 0
                }
                #expect(await child.wait() == .exited(0))
                let facts = report(out)
                #expect(facts["step"] == "exec")
                #expect(facts["errno"] == String(ENOENT))
                #expect(facts["open"] == "false")
                #expect(facts["pidfile"] == "false")
                #expect(facts["empty"] == "no program to run")
            }
        }
    }
}
