import CSpindle
import Glibc
import SpindleSystem

/// Everything the C spawn needs, in Swift values.
struct ChildSpec {
    /// The program as the caller named it (reported when no PATH entry has it).
    var program: String
    var argv: [String]
    /// Candidate executable paths (the PATH search, done here in the parent).
    var paths: [String]
    var environment: [String]?
    /// (parent descriptor, child descriptor) pairs.
    var descriptors: [(source: Int32, target: Int32)] = []
    var keep: [Int32] = []
    var closeFDs = true
    var cwd: String?
    var newSession = false
    var processGroup: Int32 = -1
    var restoreSignals = true
    var umask: UInt32?
    var gid: gid_t?
    var groups: [gid_t]?
    var uid: uid_t?
    var cgroupDirectory: Int32?
}

/// NUL-terminated copies of strings, and a NULL-terminated array of them, freed together.
final class CStrings {
    let pointers: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>
    let count: Int

    init(_ strings: [String]) {
        count = strings.count
        pointers = .allocate(capacity: strings.count + 1)
        for (i, s) in strings.enumerated() { pointers[i] = strdup(s) }
        pointers[strings.count] = nil
    }

    deinit {
        for i in 0..<count { free(pointers[i]) }
        pointers.deallocate()
    }
}

private let stepNames: [Int32: String] = [
    1: "descriptors", 2: "chdir", 3: "signals", 4: "setsid", 5: "setpgid", 6: "setgroups",
    7: "setgid", 8: "setuid", 9: "close_fds", 10: "exec", 11: "fork", 12: "cgroup",
]

/// Starts a child.
/// - Parameter spec: What to start.
/// - Returns: The child's pid and pidfd (-1 without one).
/// - Throws: `SpawnError` naming the failed step, its errno and its path.
func spawnChild(_ spec: ChildSpec) throws(SpawnError) -> (pid: pid_t, pidfd: Int32) {
    if spec.paths.isEmpty { throw SpawnError(step: "exec", errno: ENOENT, path: spec.program) }
    let argv = CStrings(spec.argv)
    let paths = CStrings(spec.paths)
    let environment = spec.environment.map(CStrings.init)
    let cwd = spec.cwd.map { strdup($0) } ?? nil
    defer { free(cwd) }
    var fds = spec.descriptors.map { spindle_spawn_fd(source: $0.source, target: $0.target) }
    var keep = spec.keep
    var groups = spec.groups ?? []
    var result = spindle_spawn_result()
    let rc: Bool = fds.withUnsafeMutableBufferPointer { fdBuffer in
        keep.withUnsafeMutableBufferPointer { keepBuffer in
            groups.withUnsafeMutableBufferPointer { groupBuffer in
                var config = spindle_spawn_config()
                config.paths = UnsafePointer(OpaquePointer(paths.pointers))
                config.path_count = Int32(paths.count)
                config.argv = UnsafePointer(argv.pointers)
                config.envp = environment.map { UnsafePointer($0.pointers) }
                config.fds = UnsafePointer(fdBuffer.baseAddress)
                config.fd_count = Int32(fdBuffer.count)
                config.keep_fds = UnsafePointer(keepBuffer.baseAddress)
                config.keep_count = Int32(keepBuffer.count)
                config.close_fds = spec.closeFDs ? 1 : 0
                config.cwd = UnsafePointer(cwd)
                config.new_session = spec.newSession ? 1 : 0
                config.process_group = spec.processGroup
                config.restore_signals = spec.restoreSignals ? 1 : 0
                if let umask = spec.umask {
                    config.set_umask = 1
                    config.umask_value = mode_t(umask)
                }
                if let gid = spec.gid {
                    config.set_gid = 1
                    config.gid = gid
                }
                if spec.groups != nil {
                    config.set_groups = 1
                    config.groups = UnsafePointer(groupBuffer.baseAddress)
                    config.group_count = Int32(groupBuffer.count)
                }
                if let uid = spec.uid {
                    config.set_uid = 1
                    config.uid = uid
                }
                if let cgroup = spec.cgroupDirectory {
                    config.join_cgroup = 1
                    config.cgroup_dir_fd = cgroup
                }
                return SpawnedChildren.spawning { spindle_spawn(&config, &result) == 0 ? result.pid : nil }
            }
        }
    }
    if rc { return (result.pid, result.pidfd) }
    let step = stepNames[result.step] ?? "spawn"
    let path: String?
    switch result.step {
    case 10:
        // A PATH search that found nothing names the program as given, as Python does.
        let searched = spec.paths.count > 1 || !spec.program.contains("/")
        if result.error == ENOENT, searched {
            path = spec.program
        } else {
            path = result.failed_path >= 0 ? spec.paths[Int(result.failed_path)] : spec.program
        }
    case 2: path = spec.cwd
    default: path = nil
    }
    throw SpawnError(step: step, errno: result.error, path: path)
}

/// The candidate paths for `program`: itself when it has a slash, else every PATH entry.
/// - Parameters:
///   - program: The program.
///   - environment: The child's environment, whose PATH wins (as in Python), or `nil`.
/// - Returns: The candidates in order.
func executableCandidates(_ program: String, environment: [String: String]?) -> [String] {
    if program.contains("/") { return [program] }
    if program.isEmpty { return [] }
    let path = environment?["PATH"] ?? (getenv("PATH").map { String(cString: $0) } ?? "/usr/local/bin:/usr/bin:/bin")
    return path.split(separator: ":", omittingEmptySubsequences: false).map { dir in
        dir.isEmpty ? program : "\(dir)/\(program)"
    }
}

/// Resolves a user name or numeric id.
func resolveUser(_ user: String) throws(SpawnError) -> (uid: uid_t, gid: gid_t?) {
    if let uid = uid_t(user) { return (uid, nil) }
    var entry = passwd()
    var found: UnsafeMutablePointer<passwd>?
    var buffer = [CChar](repeating: 0, count: 16384)
    let rc = getpwnam_r(user, &entry, &buffer, buffer.count, &found)
    guard rc == 0, found != nil else { throw SpawnError(step: "user", errno: rc, path: user) }
    return (entry.pw_uid, entry.pw_gid)
}

/// Resolves a group name or numeric id.
func resolveGroup(_ group: String) throws(SpawnError) -> gid_t {
    if let gid = gid_t(group) { return gid }
    var entry = group_struct()
    var found: UnsafeMutablePointer<group_struct>?
    var buffer = [CChar](repeating: 0, count: 16384)
    let rc = getgrnam_r(group, &entry, &buffer, buffer.count, &found)
    guard rc == 0, found != nil else { throw SpawnError(step: "group", errno: rc, path: group) }
    return entry.gr_gid
}

typealias group_struct = Glibc.group

/// Makes a close-on-exec pipe.
/// - Returns: The read and write ends.
/// - Throws: `SpawnError` with step "pipe".
func makePipe() throws(SpawnError) -> (read: Int32, write: Int32) {
    var ends: [Int32] = [-1, -1]
    if spindle_pipe_cloexec(&ends) != 0 { throw SpawnError(step: "pipe", errno: errno, path: nil) }
    return (ends[0], ends[1])
}

/// The environment as "KEY=value" strings.
func environmentStrings(_ environment: [String: String]) -> [String] {
    environment.map { "\($0.key)=\($0.value)" }.sorted()
}
