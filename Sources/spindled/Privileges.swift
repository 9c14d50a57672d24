#if canImport(Glibc)
import Glibc
#endif

/// supervisord's start-up steps on the process itself: switching user and raising limits.
enum Privileges {
    /// supervisor's `drop_privileges`: becomes `user` (a name or a uid) with its groups.
    /// - Returns: `nil` on success (or when already that user), or supervisord's message.
    static func drop(to user: String) -> String? {
        let record: UnsafeMutablePointer<passwd>?
        if let uid = uid_t(user) {
            record = getpwuid(uid)
            if record == nil { return "Can't find uid \(uid)" }
        } else {
            record = getpwnam(user)
            if record == nil { return "Can't find username '\(user)'" }
        }
        guard let record else { return "Can't find username '\(user)'" }
        let uid = record.pointee.pw_uid
        let gid = record.pointee.pw_gid
        if getuid() == uid { return nil }
        if getuid() != 0 { return "Can't drop privilege as nonroot user" }
        if initgroups(record.pointee.pw_name, gid) != 0 { return "Could not set groups of effective user" }
        if setgid(gid) != 0 { return "Could not set group id of effective user" }
        if setuid(uid) != 0 { return "Could not set user id of effective user" }
        return nil
    }

    /// supervisor's `set_rlimits_or_exit`: raises the descriptor and process limits to `minfds`
    /// and `minprocs`.
    /// - Returns: What was raised (for the log), or supervisord's message for a limit that
    ///   cannot be raised.
    static func raiseLimits(minfds: Int, minprocs: Int) -> Result<[String], UsageError> {
        var raised: [String] = []
        let limits: [(resource: Int32, name: String, minimum: Int, message: (String) -> String)] = [
            (
                Int32(RLIMIT_NOFILE.rawValue), "RLIMIT_NOFILE", minfds,
                { hard in "The minimum number of file descriptors required to run this process is \(minfds) as per the \"minfds\" "
                    + "command-line argument or config file setting. The current environment will only allow you to open "
                    + "\(hard) file descriptors.  Either raise the number of usable file descriptors in your environment "
                    + "(see README.rst) or lower the minfds setting in the config file to allow the process to start." }
            ),
            (
                Int32(__RLIMIT_NPROC.rawValue), "RLIMIT_NPROC", minprocs,
                { hard in "The minimum number of available processes required to run this program is \(minprocs) as per the "
                    + "\"minprocs\" command-line argument or config file setting. The current environment will only allow "
                    + "you to open \(hard) processes.  Either raise the number of usable processes in your environment (see "
                    + "README.rst) or lower the minprocs setting in the config file to allow the program to start." }
            ),
        ]
        for limit in limits {
            var current = rlimit()
            guard getrlimit(__rlimit_resource_t(limit.resource), &current) == 0 else { continue }
            let minimum = rlim_t(max(0, limit.minimum))
            guard current.rlim_cur != rlim_t.max, current.rlim_cur < minimum else { continue }
            var wanted = current
            wanted.rlim_cur = minimum
            if current.rlim_max != rlim_t.max, current.rlim_max < minimum { wanted.rlim_max = minimum }
            if setrlimit(__rlimit_resource_t(limit.resource), &wanted) != 0 {
                return .failure(UsageError(message: limit.message(String(current.rlim_max))))
            }
            raised.append("Increased \(limit.name) limit to \(limit.minimum)")
        }
        return .success(raised)
    }
}
