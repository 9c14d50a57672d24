import Foundation
import SpindleDaemon
import Testing
#if canImport(Glibc)
import Glibc
#endif

extension DaemonTests {
    /// PIDLockFile, as python-daemon's test_pidfile.py and lockfile's pidlockfile tests exercise it,
    /// against the real file system and real locks.
    @Suite("PIDLockFile")
    struct PIDLockFileTests {
        // MARK: - Construction

        @Test("has the path it was given, made absolute, and a default acquire timeout of 0")
        func path() async throws {
            try await withSandbox { sandbox in
                let lock = PIDLockFile(path: sandbox.path("a.pid"))
                #expect(lock.path == sandbox.path("a.pid"))
                #expect(lock.acquireTimeout == 0)
                #expect(PIDLockFile(path: "x.pid", acquireTimeout: 2.5).acquireTimeout == 2.5)
                #expect(PIDLockFile(path: "x.pid", acquireTimeout: nil).acquireTimeout == nil)
                let relative = PIDLockFile(path: "run/x.pid")
                #expect(relative.path == currentDirectory() + "/run/x.pid")
                #expect(relative.description == "PIDLockFile(\(relative.path))")
            }
        }

        // MARK: - acquire

        @Test("acquire writes the pid and a newline to a 0644 file and holds an flock on it")
        func acquireWritesPID() async throws {
            try await withSandbox { sandbox in
                let path = sandbox.path("a.pid")
                let lock = PIDLockFile(path: path)
                #expect(!lock.isLocked)
                #expect(!lock.holdsLock)
                try lock.acquire()
                #expect(contents(path) == "\(getpid())\n")
                var info = stat()
                #expect(stat(path, &info) == 0)
                #expect(info.st_mode & 0o777 == 0o644 & ~currentUmask())
                #expect(lock.isLocked)
                #expect(lock.holdsLock)
                #expect(isFlockHeld(path))
                #expect(try lock.readPID() == getpid())
                try lock.release()
            }
        }

        @Test("a second lock on a locked file is refused, naming the running pid")
        func secondAcquireRefused() async throws {
            try await withSandbox { sandbox in
                let path = sandbox.path("a.pid")
                let first = PIDLockFile(path: path)
                try first.acquire()
                let second = PIDLockFile(path: path)
                let error = #expect(throws: DaemonError.self) { try second.acquire() }
                #expect(error?.step == "pidfile")
                #expect(error?.message == "\(path) is locked by running process \(getpid())")
                #expect(error?.errno == EWOULDBLOCK)
                #expect(!second.holdsLock)
                #expect(second.isLocked)
                #expect(contents(path) == "\(getpid())\n")
                try first.release()
            }
        }

        @Test("acquiring twice with the same object is refused")
        func acquireTwice() async throws {
            try await withSandbox { sandbox in
                let lock = PIDLockFile(path: sandbox.path("a.pid"))
                try lock.acquire()
                let error = #expect(throws: DaemonError.self) { try lock.acquire() }
                #expect(error?.message.contains("already locked by this process") == true)
                #expect(lock.holdsLock)
                try lock.release()
            }
        }

        @Test("acquire with a timeout waits that long for a held lock, then refuses")
        func acquireTimesOut() async throws {
            try await withSandbox { sandbox in
                let path = sandbox.path("a.pid")
                let holder = PIDLockFile(path: path)
                try holder.acquire()
                let waiter = PIDLockFile(path: path, acquireTimeout: 0.3)
                let start = Date()
                let error = #expect(throws: DaemonError.self) { try waiter.acquire() }
                let elapsed = Date().timeIntervalSince(start)
                #expect(elapsed >= 0.3 && elapsed < 30, "waited \(elapsed) s")
                #expect(error?.message.contains("locked by running process \(getpid())") == true)
                #expect(error?.message.contains("waited 0.3 s") == true)
                // An explicit timeout overrides the stored one.
                let quick = Date()
                #expect(throws: DaemonError.self) { try waiter.acquire(timeout: 0) }
                #expect(Date().timeIntervalSince(quick) < 30)  // a bound that catches a hang, not a speed check
                try holder.release()
            }
        }

        @Test("acquire with a timeout gets the lock once the holder releases it")
        func acquireWaitsForRelease() async throws {
            try await withSandbox { sandbox in
                let path = sandbox.path("a.pid")
                let holder = PIDLockFile(path: path)
                try holder.acquire()
                let releaser = Thread {
                    usleep(200_000)
                    try? holder.release()
                }
                releaser.start()
                let waiter = PIDLockFile(path: path)
                let start = Date()
                try waiter.acquire(timeout: 10)
                #expect(Date().timeIntervalSince(start) >= 0.15)
                #expect(waiter.holdsLock)
                #expect(contents(path) == "\(getpid())\n")
                try waiter.release()
                #expect(!fileExists(path))
            }
        }

        @Test("acquire with a nil timeout waits as long as it takes")
        func acquireWaitsForever() async throws {
            try await withSandbox { sandbox in
                let path = sandbox.path("a.pid")
                let holder = PIDLockFile(path: path)
                try holder.acquire()
                Thread {
                    usleep(300_000)
                    try? holder.release()
                }.start()
                let waiter = PIDLockFile(path: path, acquireTimeout: nil)
                try waiter.acquire()
                #expect(waiter.holdsLock)
                try waiter.release()
            }
        }

        @Test("a stale file naming a dead pid is taken over")
        func staleDeadPID() async throws {
            try await withSandbox { sandbox in
                let path = sandbox.path("a.pid")
                let dead = try deadPID()
                try write("\(dead)\n", to: path)
                let lock = PIDLockFile(path: path)
                #expect(!lock.isLocked)
                #expect(try lock.readPID() == dead)
                try lock.acquire()
                #expect(contents(path) == "\(getpid())\n")
                try lock.release()
            }
        }

        @Test("an unlocked file naming a live process is stale too (a pid reused, or written by hand)")
        func staleLivePID() async throws {
            try await withSandbox { sandbox in
                let path = sandbox.path("a.pid")
                try write("1\n", to: path)
                let lock = PIDLockFile(path: path)
                try lock.acquire()
                #expect(contents(path) == "\(getpid())\n")
                try lock.release()
            }
        }

        @Test("an unlocked file with garbage in it is taken over, and its old content fully replaced")
        func staleGarbage() async throws {
            try await withSandbox { sandbox in
                let path = sandbox.path("a.pid")
                try write("not a pid at all, and longer than any pid line\n", to: path)
                let lock = PIDLockFile(path: path)
                try lock.acquire()
                #expect(contents(path) == "\(getpid())\n")
                try lock.release()
            }
        }

        @Test("a file locked by another process is refused, naming that process")
        func lockedByChild() async throws {
            try await withSandbox { sandbox in
                let path = sandbox.path("a.pid")
                let child = ForkedChild.start(in: sandbox) {
                    let lock = PIDLockFile(path: path)
                    do { try lock.acquire() } catch { return 3 }
                    sleep(30)
                    return 0
                }
                #expect(await eventually { contents(path) == "\(child.pid)\n" })
                let error = #expect(throws: DaemonError.self) { try PIDLockFile(path: path).acquire() }
                #expect(error?.message == "\(path) is locked by running process \(child.pid)")
                kill(child.pid, SIGKILL)
                #expect(await child.wait() == .killed(by: SIGKILL))
                // The holder died without cleaning up: its file is stale now.
                let lock = PIDLockFile(path: path)
                try lock.acquire()
                #expect(try lock.readPID() == getpid())
                try lock.release()
            }
        }

        @Test("acquire reports a file that cannot be created, and refuses to follow a symbolic link")
        func acquireFailures() async throws {
            try await withSandbox { sandbox in
                let missing = sandbox.path("no/such/dir/a.pid")
                let error = #expect(throws: DaemonError.self) { try PIDLockFile(path: missing).acquire() }
                #expect(error?.step == "pidfile")
                #expect(error?.errno == ENOENT)
                #expect(error?.message == "open(\(missing)): No such file or directory")

                let link = sandbox.path("link.pid")
                #expect(symlink(sandbox.path("target"), link) == 0)
                let linkError = #expect(throws: DaemonError.self) { try PIDLockFile(path: link).acquire() }
                #expect(linkError?.errno == ELOOP)
                #expect(!fileExists(sandbox.path("target")))
            }
        }

        // MARK: - release

        @Test("release removes the file and drops the lock; the file can be acquired again")
        func releaseRemoves() async throws {
            try await withSandbox { sandbox in
                let path = sandbox.path("a.pid")
                let lock = PIDLockFile(path: path)
                try lock.acquire()
                try lock.release()
                #expect(!fileExists(path))
                #expect(!lock.isLocked)
                #expect(!lock.holdsLock)
                try lock.acquire()
                #expect(lock.holdsLock)
                try lock.release()
            }
        }

        @Test("release without the lock is an error (python's NotLocked), also when another holds it (NotMyLock)")
        func releaseNotLocked() async throws {
            try await withSandbox { sandbox in
                let path = sandbox.path("a.pid")
                let lock = PIDLockFile(path: path)
                let notLocked = #expect(throws: DaemonError.self) { try lock.release() }
                #expect(notLocked?.message == "\(path) is not locked by this process")
                let other = PIDLockFile(path: path)
                try other.acquire()
                let notMine = #expect(throws: DaemonError.self) { try lock.release() }
                #expect(notMine?.message == "\(path) is locked by process \(getpid()), not by this process")
                #expect(fileExists(path))
                try other.release()
            }
        }

        // MARK: - breakLock

        @Test("breakLock removes the file whoever holds it; the old holder's release leaves the new file alone")
        func breakLock() async throws {
            try await withSandbox { sandbox in
                let path = sandbox.path("a.pid")
                try PIDLockFile(path: path).breakLock()  // no file: nothing to do
                let old = PIDLockFile(path: path)
                try old.acquire()
                try PIDLockFile(path: path).breakLock()
                #expect(!fileExists(path))
                let new = PIDLockFile(path: path)
                try new.acquire()
                #expect(fileExists(path))
                try old.release()
                #expect(fileExists(path), "the old holder removed the new holder's file")
                #expect(new.isLocked)
                try new.release()
                #expect(!fileExists(path))
            }
        }

        // MARK: - readPID

        @Test("readPID is nil without a file and tolerant of whitespace, leading zeros and extra lines")
        func readPID() async throws {
            try await withSandbox { sandbox in
                let path = sandbox.path("a.pid")
                let lock = PIDLockFile(path: path)
                #expect(try lock.readPID() == nil)
                for (text, pid) in [("1234\n", 1234), ("1234", 1234), ("  0042 \n", 42), ("77\nextra\n", 77), ("9\r\n", 9)] {
                    try write(text, to: path)
                    #expect(try lock.readPID() == pid_t(pid), "\(text.debugDescription)")
                }
            }
        }

        @Test("readPID of a file without a pid is an error (python's PIDFileParseError)")
        func readPIDGarbage() async throws {
            try await withSandbox { sandbox in
                let path = sandbox.path("a.pid")
                let lock = PIDLockFile(path: path)
                for text in ["", "bogus\n", "-5\n", "0\n", "\n42\n"] {
                    try write(text, to: path)
                    let error = #expect(throws: DaemonError.self, "\(text.debugDescription)") { try lock.readPID() }
                    #expect(error?.step == "pidfile")
                    #expect(error?.message.hasPrefix("\(path) does not hold a pid") == true)
                }
            }
        }

        // MARK: - stopDaemon

        @Test("stopDaemon without a pid file says no daemon is running")
        func stopWithoutFile() async throws {
            try await withSandbox { sandbox in
                let path = sandbox.path("a.pid")
                let error = #expect(throws: DaemonError.self) { try PIDLockFile(path: path).stopDaemon() }
                #expect(error?.step == "stop")
                #expect(error?.message == "no daemon is running: \(path) does not exist")
            }
        }

        @Test("stopDaemon with a stale pid file signals nobody and says so")
        func stopStale() async throws {
            try await withSandbox { sandbox in
                let path = sandbox.path("a.pid")
                let dead = try deadPID()
                try write("\(dead)\n", to: path)
                let error = #expect(throws: DaemonError.self) { try PIDLockFile(path: path).stopDaemon() }
                #expect(error?.message == "no daemon is running: \(path) is stale (it names pid \(dead), which is not running)")
                // A live pid in an unlocked file is not signalled either.
                let sleeper = Process()
                sleeper.executableURL = URL(fileURLWithPath: "/bin/sleep")
                sleeper.arguments = ["30"]
                try sleeper.run()
                defer { sleeper.terminate() }
                try write("\(sleeper.processIdentifier)\n", to: path)
                let live = #expect(throws: DaemonError.self) { try PIDLockFile(path: path).stopDaemon() }
                #expect(live?.message.contains("which does not hold its lock") == true)
                #expect(sleeper.isRunning)
            }
        }

        @Test("stopDaemon ends the holder with SIGTERM and removes the file it left")
        func stopTerminates() async throws {
            try await withSandbox { sandbox in
                let path = sandbox.path("a.pid")
                let child = ForkedChild.start(in: sandbox) {
                    do { try PIDLockFile(path: path).acquire() } catch { return 3 }
                    sleep(30)
                    return 0
                }
                #expect(await eventually { contents(path) == "\(child.pid)\n" })
                let result = try PIDLockFile(path: path).stopDaemon(timeout: 10)
                #expect(result == .terminated)
                #expect(await child.wait() == .killed(by: SIGTERM))
                #expect(!fileExists(path))
            }
        }

        @Test("stopDaemon sends SIGKILL to a holder that outlives the timeout")
        func stopKills() async throws {
            try await withSandbox { sandbox in
                let path = sandbox.path("a.pid")
                let child = ForkedChild.start(in: sandbox) {
                    signal(SIGTERM, SIG_IGN)
                    do { try PIDLockFile(path: path).acquire() } catch { return 3 }
                    sleep(30)
                    return 0
                }
                #expect(await eventually { contents(path) == "\(child.pid)\n" })
                let start = Date()
                let result = try PIDLockFile(path: path).stopDaemon(timeout: 0.5)
                #expect(result == .killed)
                #expect(Date().timeIntervalSince(start) >= 0.5)
                #expect(await child.wait() == .killed(by: SIGKILL))
                #expect(!fileExists(path))
            }
        }
    }
}
