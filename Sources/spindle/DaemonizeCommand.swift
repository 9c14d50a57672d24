import ArgumentParser
import Spindle
import SpindleSystem
#if canImport(Glibc)
import Glibc
#endif

/// `spindle daemonize`: runs a command as a daemon through `DaemonContext`, as daemonize(1) and
/// start-stop-daemon do, or stops the daemon a pid file names.
struct DaemonizeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "daemonize",
        abstract: "Run a command as a well-behaved Unix daemon (PEP 3143), or stop one.",
        usage: """
            spindle daemonize [--pidfile <file>] [--chdir <dir>] [--umask <octal>] [--stdin <file>] \
            [--stdout <file>] [--stderr <file>] [--user <user>] [--group <group>] [--chroot <dir>] \
            -- <command> [<argument> ...]
            spindle daemonize --stop --pidfile <file> [--timeout <seconds>]
            """,
        discussion: """
            Starting: the command runs detached from the terminal, in a new session, as a grandchild \
            that is not a session leader, with standard streams on /dev/null or the given files, \
            every other file closed and no core dumps. spindle daemonize exits 0 once the command \
            has been exec'd, or 1 with the step that failed on standard error. With --pidfile, the \
            file holds the command's pid and stays locked while it runs; a second start with the \
            same file is refused, naming the running pid, and a stale file is taken over. The \
            command is looked up in PATH; relative paths for --stdin/--stdout/--stderr/--pidfile \
            are relative to the current directory.

            Stopping: --stop sends SIGTERM to the daemon holding the pid file, waits --timeout \
            seconds, then sends SIGKILL, and removes the pid file. It exits 1 when no daemon runs.
            """
    )

    @Option(name: .long, help: ArgumentHelp("The pid file: holds the daemon's pid, locked while it runs.", valueName: "file"))
    var pidfile: String?

    @Option(name: .long, help: ArgumentHelp("The daemon's working directory.", valueName: "dir"))
    var chdir: String = "/"

    @Option(name: .long, help: ArgumentHelp("The daemon's file-creation mask, in octal.", valueName: "octal"))
    var umask: String = "022"

    @Option(name: .long, help: ArgumentHelp("Standard input from this file (default: /dev/null).", valueName: "file"))
    var stdin: String?

    @Option(name: .long, help: ArgumentHelp("Append standard output to this file (default: /dev/null).", valueName: "file"))
    var stdout: String?

    @Option(name: .long, help: ArgumentHelp("Append standard error to this file (default: /dev/null).", valueName: "file"))
    var stderr: String?

    @Option(name: .long, help: ArgumentHelp("Run as this user (name or uid), with its groups.", valueName: "user"))
    var user: String?

    @Option(name: .long, help: ArgumentHelp("Run with this group (name or gid; default: the user's).", valueName: "group"))
    var group: String?

    @Option(name: .long, help: ArgumentHelp("Change the root directory to this one first.", valueName: "dir"))
    var chroot: String?

    @Flag(name: .long, help: "Stop the daemon holding --pidfile instead of starting one.")
    var stop = false

    @Option(name: .long, help: ArgumentHelp("With --stop: seconds between SIGTERM and SIGKILL.", valueName: "seconds"))
    var timeout: Double = 10

    @Argument(parsing: .postTerminator, help: ArgumentHelp("The command to run as a daemon, after --.", valueName: "command"))
    var command: [String] = []

    func validate() throws {
        if stop {
            guard pidfile != nil else { throw ValidationError("--stop needs --pidfile <file>.") }
            guard command.isEmpty else { throw ValidationError("--stop takes no command.") }
            guard timeout >= 0, timeout.isFinite else { throw ValidationError("--timeout must be a number of seconds, 0 or more.") }
            return
        }
        guard let program = command.first, !program.isEmpty else {
            throw ValidationError("Missing the command to run: give it after --, as in 'spindle daemonize -- sleep 60'.")
        }
        guard Self.octal(umask) != nil else {
            throw ValidationError("--umask must be an octal mask from 0 to 777, such as 022; got '\(umask)'.")
        }
    }

    func run() throws {
        do {
            if stop {
                try stopDaemon()
            } else {
                try startDaemon()
            }
        } catch {
            writeToStandardError("spindle: \(error)\n")
            throw ExitCode.failure
        }
    }

    private func startDaemon() throws(DaemonError) -> Never {
        var uid: uid_t?
        var gid: gid_t?
        if let user {
            guard let account = Self.lookUpUser(user) else {
                throw DaemonError(step: "setuid", message: "no such user: \(user)")
            }
            uid = account.uid
            gid = account.gid
        }
        if let group {
            guard let id = Self.lookUpGroup(group) else {
                throw DaemonError(step: "setgid", message: "no such group: \(group)")
            }
            gid = id
        }
        let context = DaemonContext(
            chrootDirectory: chroot,
            workingDirectory: chdir,
            umask: Self.octal(umask) ?? 0o022,
            pidfile: pidfile.map { PIDLockFile(path: $0) },
            detachProcess: true,  // always, as daemonize(1) does, even when started by init
            uid: uid,
            gid: gid,
            initgroups: user != nil,
            stdin: stdin.map { .path($0) } ?? .null,
            stdout: stdout.map { .path($0) } ?? .null,
            stderr: stderr.map { .path($0) } ?? .null)
        try context.exec(command)
    }

    private func stopDaemon() throws(DaemonError) {
        let lock = PIDLockFile(path: pidfile ?? "")
        if try lock.stopDaemon(timeout: timeout) == .killed {
            writeToStandardError("spindle: the daemon did not stop within \(timeout) s of SIGTERM; it was killed with SIGKILL\n")
        }
    }

    /// The value of an octal mask from 0 to 0o777, or `nil`.
    private static func octal(_ text: String) -> mode_t? {
        guard !text.isEmpty, let value = mode_t(text, radix: 8), value <= 0o777 else { return nil }
        return value
    }

    /// The uid and primary gid of a user given by name or number; the user must exist, so that
    /// its groups are known.
    private static func lookUpUser(_ name: String) -> (uid: uid_t, gid: gid_t)? {
        var entry = passwd()
        var result: UnsafeMutablePointer<passwd>?
        var buffer = [CChar](repeating: 0, count: 16_384)
        if getpwnam_r(name, &entry, &buffer, buffer.count, &result) == 0, let result {
            return (result.pointee.pw_uid, result.pointee.pw_gid)
        }
        guard let uid = uid_t(name), getpwuid_r(uid, &entry, &buffer, buffer.count, &result) == 0, let result else {
            return nil
        }
        return (uid, result.pointee.pw_gid)
    }

    /// The gid of a group given by name or number.
    private static func lookUpGroup(_ name: String) -> gid_t? {
        var entry = Glibc.group()
        var result: UnsafeMutablePointer<Glibc.group>?
        var buffer = [CChar](repeating: 0, count: 16_384)
        if getgrnam_r(name, &entry, &buffer, buffer.count, &result) == 0, let result {
            return result.pointee.gr_gid
        }
        return gid_t(name)
    }
}
