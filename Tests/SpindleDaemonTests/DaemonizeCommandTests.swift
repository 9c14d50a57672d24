import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

extension DaemonTests {
    /// `spindle daemonize`, run as a user runs it: the real binary, started with Foundation.Process.
    @Suite("spindle daemonize")
    struct DaemonizeCommandTests {
        /// Starts a daemon and returns its pid, read from the pid file.
        private func start(
            _ arguments: [String], pidfile: String, in sandbox: Sandbox, sourceLocation: SourceLocation = #_sourceLocation
        ) async throws -> pid_t {
            let run = try await Spindle.run(["daemonize", "--pidfile", pidfile] + arguments, in: sandbox)
            #expect(run.exited && run.status == 0, "\(run)", sourceLocation: sourceLocation)
            let path = pidfile.hasPrefix("/") ? pidfile : sandbox.path(pidfile)
            guard let pid = pid_t(contents(path).trimmingCharacters(in: .whitespacesAndNewlines)) else {
                throw TestFailure("no pid in \(path) after \(run)")
            }
            return pid
        }

        @Test("a daemon starts detached, in its own session, with the directory, umask and streams asked for; --stop ends it")
        func startAndStop() async throws {
            try await withSandbox { sandbox in
                let pidfile = sandbox.path("d.pid")
                let out = sandbox.path("out")
                let work = sandbox.path("work")
                try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: false)
                let run = try await Spindle.run(
                    [
                        "daemonize", "--pidfile", pidfile, "--stdout", out, "--chdir", work, "--umask", "027", "--",
                        "/bin/sh", "-c", "echo started; pwd; umask; exec sleep 60",
                    ], in: sandbox)
                #expect(run.exited && run.status == 0, "\(run)")
                #expect(run.seconds < 30, "\(run)")  // the daemon sleeps 60 s: the starter did not wait for it
                #expect(run.pipesClosed, "the daemon kept the starting command's output pipes open")
                #expect(run.stdout.isEmpty && run.stderr.isEmpty, "\(run)")

                let daemon = pid_t(contents(pidfile).trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0
                #expect(daemon > 0)
                #expect(contents(pidfile) == "\(daemon)\n")
                #expect(await eventually { contents(out) == "started\n\(work)\n0027\n" }, "\(contents(out))")
                #expect(await eventually { (try? String(contentsOfFile: "/proc/\(daemon)/comm", encoding: .utf8)) == "sleep\n" })
                #expect(isAlive(daemon))

                let stat = try #require(procStat(daemon))
                #expect(stat.ppid != getpid(), "the daemon is the test's child")
                #expect(
                    stat.ppid == 1 || ancestors(of: getpid()).contains(stat.ppid),
                    "parent \(stat.ppid) is neither init nor a subreaper")
                #expect(stat.ttyNumber == 0, "the daemon has a controlling terminal")
                #expect(stat.session != daemon, "the daemon leads its session")
                #expect(stat.session != getsid(0), "the daemon is in the test's session")
                #expect(stat.pgrp == stat.session)
                #expect(try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(daemon)/cwd") == work)

                let fds = openDescriptors(of: daemon)
                #expect(fds[0] == "/dev/null")
                #expect(fds[1] == out)
                #expect(fds[2] == "/dev/null")
                #expect(Set(fds.values) == ["/dev/null", out, pidfile], "\(fds)")
                #expect(fds.count == 4, "only the streams and the pid file's lock are open: \(fds)")
                #expect(isFlockHeld(pidfile), "the pid file is not locked")

                let stop = try await Spindle.run(["daemonize", "--stop", "--pidfile", pidfile], in: sandbox)
                #expect(stop.exited && stop.status == 0, "\(stop)")
                #expect(stop.stderr.isEmpty, "\(stop)")
                #expect(!isAlive(daemon))
                #expect(!fileExists(pidfile))
            }
        }

        @Test("a second start with the same pid file is refused, naming the running pid")
        func secondStartRefused() async throws {
            try await withSandbox { sandbox in
                let pidfile = sandbox.path("d.pid")
                let daemon = try await start(["--", "sleep", "60"], pidfile: pidfile, in: sandbox)
                let second = try await Spindle.run(["daemonize", "--pidfile", pidfile, "--", "sleep", "60"], in: sandbox)
                #expect(second.exited && second.status == 1, "\(second)")
                #expect(second.stderr.contains("daemon: pidfile failed: \(pidfile) is locked by running process \(daemon)"), "\(second)")
                #expect(second.seconds < 30)
                #expect(isAlive(daemon))
                #expect(contents(pidfile) == "\(daemon)\n")
                #expect(await eventually { sandbox.markedProcesses() == [daemon] }, "\(sandbox.markedProcesses())")
                let stop = try await Spindle.run(["daemonize", "--stop", "--pidfile", pidfile], in: sandbox)
                #expect(stop.status == 0, "\(stop)")
            }
        }

        @Test("a stale pid file (a dead pid, unlocked) is taken over")
        func staleTakenOver() async throws {
            try await withSandbox { sandbox in
                let pidfile = sandbox.path("d.pid")
                let dead = try deadPID()
                try write("\(dead)\n", to: pidfile)
                let daemon = try await start(["--", "sleep", "60"], pidfile: pidfile, in: sandbox)
                #expect(daemon != dead)
                #expect(isAlive(daemon))
                #expect(isFlockHeld(pidfile))
                let stop = try await Spindle.run(["daemonize", "--stop", "--pidfile", pidfile], in: sandbox)
                #expect(stop.status == 0, "\(stop)")
                #expect(!fileExists(pidfile))
            }
        }

        @Test("--stop with no daemon running fails clearly: no pid file, or a stale one")
        func stopNothing() async throws {
            try await withSandbox { sandbox in
                let pidfile = sandbox.path("d.pid")
                let missing = try await Spindle.run(["daemonize", "--stop", "--pidfile", pidfile], in: sandbox)
                #expect(missing.exited && missing.status == 1, "\(missing)")
                #expect(missing.stderr == "spindle: daemon: stop failed: no daemon is running: \(pidfile) does not exist\n", "\(missing)")
                let dead = try deadPID()
                try write("\(dead)\n", to: pidfile)
                let stale = try await Spindle.run(["daemonize", "--stop", "--pidfile", pidfile], in: sandbox)
                #expect(stale.status == 1, "\(stale)")
                let expected = "no daemon is running: \(pidfile) is stale (it names pid \(dead), which is not running)"
                #expect(stale.stderr.contains(expected), "\(stale)")
            }
        }

        @Test("--stop kills with SIGKILL a daemon that ignores SIGTERM past --timeout")
        func stopKills() async throws {
            try await withSandbox { sandbox in
                let pidfile = sandbox.path("d.pid")
                let daemon = try await start(["--", "/bin/sh", "-c", "trap '' TERM; exec sleep 60"], pidfile: pidfile, in: sandbox)
                #expect(await eventually { (try? String(contentsOfFile: "/proc/\(daemon)/comm", encoding: .utf8)) == "sleep\n" })
                let stop = try await Spindle.run(["daemonize", "--stop", "--pidfile", pidfile, "--timeout", "0.5"], in: sandbox)
                #expect(stop.exited && stop.status == 0, "\(stop)")
                #expect(stop.seconds >= 0.5, "\(stop)")
                #expect(stop.stderr.contains("SIGKILL"), "\(stop)")
                #expect(!isAlive(daemon))
                #expect(!fileExists(pidfile))
            }
        }

        @Test("standard input and error from and to files; relative paths are the starting directory's")
        func streams() async throws {
            try await withSandbox { sandbox in
                try write("hello from stdin\n", to: sandbox.path("in"))
                let daemon = try await start(
                    [
                        "--stdin", "in", "--stdout", "out", "--stderr", "err", "--",
                        "/bin/sh", "-c", "cat; echo oops >&2; exec sleep 60",
                    ], pidfile: "d.pid", in: sandbox)
                #expect(await eventually { contents(sandbox.path("err")) == "oops\n" })
                #expect(contents(sandbox.path("out")) == "hello from stdin\n")
                let fds = openDescriptors(of: daemon)
                #expect(fds[0] == sandbox.path("in") && fds[1] == sandbox.path("out") && fds[2] == sandbox.path("err"), "\(fds)")
                #expect(try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(daemon)/cwd") == "/")
                let stop = try await Spindle.run(["daemonize", "--stop", "--pidfile", "d.pid"], in: sandbox)
                #expect(stop.status == 0, "\(stop)")
            }
        }

        @Test("without --pidfile the daemon still starts, and the default umask is 022")
        func noPidFile() async throws {
            try await withSandbox { sandbox in
                let out = sandbox.path("out")
                let run = try await Spindle.run(
                    ["daemonize", "--stdout", out, "--", "/bin/sh", "-c", "umask; echo $$; exec sleep 60"], in: sandbox)
                #expect(run.status == 0, "\(run)")
                #expect(await eventually { contents(out).split(separator: "\n").count == 2 })
                let lines = contents(out).split(separator: "\n")
                #expect(lines.first == "0022")
                let daemon = pid_t(lines.last ?? "") ?? 0
                #expect(isAlive(daemon))
                kill(daemon, SIGKILL)
            }
        }

        @Test("a chroot that fails is reported by the starting command, naming the step")
        func chrootFailure() async throws {
            try await withSandbox { sandbox in
                let run = try await Spindle.run(
                    ["daemonize", "--pidfile", "d.pid", "--chroot", "/nonexistent", "--", "sleep", "60"], in: sandbox)
                #expect(run.exited && run.status == 1, "\(run)")
                #expect(run.stderr == "spindle: daemon: chroot failed: chdir(/nonexistent): No such file or directory\n", "\(run)")
                #expect(!fileExists(sandbox.path("d.pid")))
                #expect(sandbox.markedProcesses().isEmpty)
            }
        }

        @Test("an unknown user is reported by the starting command, naming the setuid step")
        func unknownUser() async throws {
            try await withSandbox { sandbox in
                let run = try await Spindle.run(["daemonize", "--user", "nosuchuser", "--", "sleep", "60"], in: sandbox)
                #expect(run.exited && run.status == 1, "\(run)")
                #expect(run.stderr == "spindle: daemon: setuid failed: no such user: nosuchuser\n", "\(run)")
                let group = try await Spindle.run(["daemonize", "--group", "nosuchgroup", "--", "sleep", "60"], in: sandbox)
                #expect(group.status == 1 && group.stderr.contains("setgid failed: no such group: nosuchgroup"), "\(group)")
                #expect(sandbox.markedProcesses().isEmpty)
            }
        }

        @Test("--user runs the daemon as that user, with that user's groups", .enabled(if: getuid() == 0, "needs root"))
        func user() async throws {
            try await withSandbox { sandbox in
                chmod(sandbox.directory, 0o777)  // the pid file is written after the user changes
                let daemon = try await start(["--user", "nobody", "--", "sleep", "60"], pidfile: sandbox.path("d.pid"), in: sandbox)
                let nobody = try #require(getpwnam("nobody")).pointee
                let uids = procStatus(daemon, "Uid")?.split(separator: "\t").map(String.init)
                #expect(uids == Array(repeating: String(nobody.pw_uid), count: 4))
                #expect(procStatus(daemon, "Gid")?.split(separator: "\t").first.map(String.init) == String(nobody.pw_gid))
                #expect(procStatus(daemon, "Groups")?.split(separator: " ").contains("0") == false, "root's groups were kept")
                let stop = try await Spindle.run(["daemonize", "--stop", "--pidfile", "d.pid"], in: sandbox)
                #expect(stop.status == 0, "\(stop)")
            }
        }

        @Test("a program that cannot be exec'd is reported by the starting command, and leaves no pid file")
        func execFailure() async throws {
            try await withSandbox { sandbox in
                let run = try await Spindle.run(
                    ["daemonize", "--pidfile", "d.pid", "--", "no-such-program-spindle-test", "arg"], in: sandbox)
                #expect(run.exited && run.status == 1, "\(run)")
                #expect(run.stderr == "spindle: daemon: exec failed: no-such-program-spindle-test: No such file or directory\n", "\(run)")
                #expect(run.seconds < 30)
                #expect(await eventually { !fileExists(sandbox.path("d.pid")) })
                #expect(await eventually { sandbox.markedProcesses().isEmpty })
                try write("#!/bin/sh\n", to: sandbox.path("not-executable"))
                let denied = try await Spindle.run(["daemonize", "--", sandbox.path("not-executable")], in: sandbox)
                let deniedMessage = "exec failed: \(sandbox.path("not-executable")): Permission denied"
                #expect(denied.status == 1 && denied.stderr.contains(deniedMessage), "\(denied)")
            }
        }

        @Test("usage errors exit 2: no command, --stop without --pidfile, a bad umask, an unknown option")
        func usageErrors() async throws {
            try await withSandbox { sandbox in
                let cases: [([String], String)] = [
                    (["daemonize"], "Missing the command to run"),
                    (["daemonize", "--pidfile", "d.pid", "--"], "Missing the command to run"),
                    (["daemonize", "--stop"], "--stop needs --pidfile"),
                    (["daemonize", "--stop", "--pidfile", "d.pid", "--", "sleep"], "--stop takes no command"),
                    (["daemonize", "--umask", "9", "--", "true"], "--umask must be an octal mask"),
                    (["daemonize", "--bogus", "--", "true"], "Unknown option '--bogus'"),
                ]
                for (arguments, message) in cases {
                    let run = try await Spindle.run(arguments, in: sandbox)
                    #expect(run.exited && run.status == 2, "\(arguments): \(run)")
                    #expect(run.stderr.contains(message), "\(arguments): \(run)")
                    #expect(run.stderr.contains("Usage: spindle daemonize"), "\(arguments): \(run)")
                }
                #expect(sandbox.markedProcesses().isEmpty)
                let help = try await Spindle.run(["daemonize", "--help"], in: sandbox)
                #expect(help.status == 0 && help.stdout.contains("--stop"), "\(help)")
            }
        }
    }
}
