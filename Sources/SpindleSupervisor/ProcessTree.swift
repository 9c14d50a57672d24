#if canImport(Glibc)
import Glibc
#endif
import SpindleSystem
import SpindleThreading

/// Everything one spawn of a `killtree` program became: its child and every descendant,
/// including those that double-forked, called setsid and were re-parented away.
///
/// When a cgroup v2 is writable the child joins a cgroup of its own before it runs anything
/// (`<spindled's cgroup>/spindled.<pid>/<name>.<n>`), and the tree is exactly that cgroup's
/// processes. Otherwise the child gets a cookie in its environment (`SPINDLED_TREE=<pid>.<n>`)
/// and the tree is every process whose initial environment holds it, every process still in the
/// child's session (started after it), and their descendants: what a program that scrubs its
/// environment *and* leaves its session escapes, which only a cgroup catches.
final class ProcessTree: @unchecked Sendable {
    /// The environment variable of the cookie.
    static let cookieName = "SPINDLED_TREE"

    /// The process name, for messages.
    let name: String
    /// The cgroup directory, when there is one.
    let cgroup: String?
    /// `SPINDLED_TREE=...`, when there is no cgroup.
    let cookie: String?
    /// Clock ticks after boot just before the spawn: nothing older belongs to the tree.
    let bornAfter: UInt64
    /// The child, once spawned.
    private(set) var leader: Int32 = 0

    init(name: String, cgroup: String?, cookie: String?) {
        self.name = name
        self.cgroup = cgroup
        self.cookie = cookie
        self.bornAfter = ProcessTable.ticksNow &- 1
    }

    private struct Shared {
        /// Whether the cgroup base was looked for, and what was found.
        var probed = false
        var base: String?
        /// Trees made and not removed, keeping `base` alive.
        var live = 0
        var serial = 0
        /// Set when a child could not join its cgroup: later spawns use the cookie.
        var cgroupsRefused = false
    }

    private static let shared = Locked(Shared())

    /// A tree for a spawn of `name`: a fresh cgroup when one can be made, else a cookie.
    static func make(name: String) -> ProcessTree {
        make(name: name, cgroups: true)
    }

    /// Stops using cgroups (a child could not join one: writable directories, but no right to
    /// move processes there); later trees use the cookie.
    static func refuseCgroups() {
        shared.withLock { $0.cgroupsRefused = true }
    }

    /// A tree for a spawn of `name`, with a cgroup only when `cgroups` and they are usable.
    static func make(name: String, cgroups: Bool) -> ProcessTree {
        let safe = String(name.map { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" ? $0 : "_" })
        let made = shared.withLock { state -> (String?, Int) in
            state.serial += 1
            if cgroups, !state.cgroupsRefused, !state.probed || (state.base == nil && state.live == 0) {
                state.probed = true
                state.base = makeBase()
            }
            guard cgroups, !state.cgroupsRefused, let base = state.base else { return (nil, state.serial) }
            let path = "\(base)/\(safe).\(state.serial)"
            if mkdir(path, 0o755) != 0 { return (nil, state.serial) }
            state.live += 1
            return (path, state.serial)
        }
        if let path = made.0 { return ProcessTree(name: name, cgroup: path, cookie: nil) }
        return ProcessTree(name: name, cgroup: nil, cookie: "\(cookieName)=\(getpid()).\(made.1)")
    }

    /// `<own cgroup v2>/spindled.<pid>`, made; nil when there is no cgroup v2, it is not
    /// writable, or `SPINDLED_NO_CGROUP=1` is in the environment.
    private static func makeBase() -> String? {
        if let value = getenv("SPINDLED_NO_CGROUP"), String(cString: value) == "1" { return nil }
        guard let mount = cgroup2Mount(), let own = ownCgroup() else { return nil }
        let parent = own == "/" ? mount : mount + own
        let base = parent + "/spindled.\(getpid())"
        if mkdir(base, 0o755) != 0, errno != EEXIST { return nil }
        removeStale(in: parent)
        return base
    }

    /// Removes the empty cgroups a spindled that is gone (killed, say) left in `parent`; a
    /// cgroup that still holds a process refuses rmdir and stays.
    private static func removeStale(in parent: String) {
        func entries(_ path: String) -> [String] {
            guard let dir = opendir(path) else { return [] }
            defer { closedir(dir) }
            var names: [String] = []
            while let item = readdir(dir) {
                let name = withUnsafeBytes(of: item.pointee.d_name) { String(decoding: $0.prefix(while: { $0 != 0 }), as: UTF8.self) }
                if item.pointee.d_type == UInt8(DT_DIR), name != ".", name != ".." { names.append(name) }
            }
            return names
        }
        for name in entries(parent) where name.hasPrefix("spindled.") {
            guard let pid = Int32(name.dropFirst(9)), pid != getpid(), kill(pid, 0) != 0, errno == ESRCH else { continue }
            let stale = parent + "/" + name
            for child in entries(stale) { _ = rmdir(stale + "/" + child) }
            _ = rmdir(stale)
        }
    }

    /// Where the cgroup v2 hierarchy is mounted (`/sys/fs/cgroup`, or `.../unified` on a hybrid system).
    static func cgroup2Mount() -> String? {
        guard let bytes = ProcessTable.contents("/proc/self/mountinfo") else { return nil }
        for line in String(decoding: bytes, as: UTF8.self).split(separator: "\n") {
            let fields = line.split(separator: " ")
            guard let dash = fields.firstIndex(of: "-"), dash + 1 < fields.count, fields[dash + 1] == "cgroup2",
                fields.count > 4, fields[3] == "/"
            else { continue }
            return String(fields[4])
        }
        return nil
    }

    /// This process's cgroup v2 path (`0::/path` of `/proc/self/cgroup`).
    static func ownCgroup() -> String? {
        guard let bytes = ProcessTable.contents("/proc/self/cgroup") else { return nil }
        for line in String(decoding: bytes, as: UTF8.self).split(separator: "\n") where line.hasPrefix("0::") {
            let path = String(line.dropFirst(3))
            return path.hasSuffix(" (deleted)") ? nil : path
        }
        return nil
    }

    /// Opens the cgroup's directory for the spawn to start the child in (the caller closes it);
    /// nil without a cgroup or when it cannot be opened.
    func openDirectory() -> Int32? {
        guard let cgroup else { return nil }
        let fd = open(cgroup, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        return fd < 0 ? nil : fd
    }

    /// Records the spawned child.
    func spawned(_ pid: Int32) { leader = pid }

    /// The live processes of the tree (zombies left out: they cannot be signalled), never this
    /// process.
    func members() -> [Int32] {
        let me = getpid()
        if let cgroup {
            guard let bytes = ProcessTable.contents(cgroup + "/cgroup.procs") else { return [] }
            return String(decoding: bytes, as: UTF8.self).split(separator: "\n").compactMap { Int32($0) }.filter { pid in
                pid != me && ProcessTable.entry(pid).map { !$0.isZombie } ?? false
            }
        }
        guard let cookie else { return [] }
        let table = ProcessTable.all().filter { !$0.isZombie && $0.pid != me && $0.startTime >= bornAfter }
        var found = Set<Int32>()
        for entry in table {
            if (leader > 0 && entry.session == leader) || ProcessTable.environment(of: entry.pid, contains: cookie) {
                found.insert(entry.pid)
            }
        }
        // Descendants of members belong to the tree too (a child that scrubbed its environment).
        var grew = true
        while grew {
            grew = false
            for entry in table where !found.contains(entry.pid) && found.contains(entry.ppid) {
                found.insert(entry.pid)
                grew = true
            }
        }
        return found.sorted()
    }

    /// SIGKILLs the whole cgroup at once (`cgroup.kill`); false without one (or an old kernel).
    func killCgroup() -> Bool {
        guard let cgroup else { return false }
        let fd = open(cgroup + "/cgroup.kill", O_WRONLY | O_CLOEXEC)
        if fd < 0 { return false }
        defer { close(fd) }
        return write(fd, "1", 1) == 1
    }

    /// Removes the cgroup (once empty), and spindled's cgroup base with the last one.
    func remove() {
        guard let cgroup else { return }
        ProcessTree.shared.withLock { state in
            if rmdir(cgroup) != 0, errno != ENOENT { return }
            state.live -= 1
            if state.live == 0, let base = state.base {
                if rmdir(base) == 0 || errno == ENOENT { state.base = nil }
            }
        }
    }
}
