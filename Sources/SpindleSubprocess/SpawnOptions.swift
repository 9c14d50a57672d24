/// The less common knobs of starting a child, shared by `Popen` and the `Subprocess` functions.
public struct SpawnOptions: Sendable {
    /// The program to run instead of `args[0]` (which stays the child's `argv[0]`).
    public var executable: String?
    /// Close every descriptor above 2 except `passFDs` (Python's default `close_fds=True`).
    public var closeFDs = true
    /// Descriptors the child keeps, under the same numbers.
    public var passFDs: [Int32] = []
    /// Run the child in a new session (`setsid`), so it and its descendants form their own group.
    public var startNewSession = false
    /// Put the child in this process group (0: a new group the child leads).
    public var processGroup: Int32?
    /// Run as this user (a name or a numeric id).
    public var user: String?
    /// Run with this group (a name or a numeric id).
    public var group: String?
    /// Supplementary groups (names or numeric ids).
    public var extraGroups: [String]?
    /// The child's umask.
    public var umask: UInt32?
    /// Give the child default handling of SIGPIPE and SIGXFSZ and an empty signal mask.
    public var restoreSignals = true
    /// An open descriptor of a cgroup v2 directory that the child starts in, before it runs
    /// anything (so none of its descendants starts outside it); `nil` leaves the child in its
    /// parent's cgroup. The child is created there (clone3's `CLONE_INTO_CGROUP`), or, on a
    /// kernel older than 5.7, joins it first thing after the fork. A failure fails the spawn
    /// (step `cgroup`).
    public var cgroupDirectory: Int32?

    /// Creates options with Python's defaults.
    public init(
        executable: String? = nil, closeFDs: Bool = true, passFDs: [Int32] = [],
        startNewSession: Bool = false, processGroup: Int32? = nil, user: String? = nil,
        group: String? = nil, extraGroups: [String]? = nil, umask: UInt32? = nil,
        restoreSignals: Bool = true
    ) {
        self.executable = executable
        self.closeFDs = closeFDs
        self.passFDs = passFDs
        self.startNewSession = startNewSession
        self.processGroup = processGroup
        self.user = user
        self.group = group
        self.extraGroups = extraGroups
        self.umask = umask
        self.restoreSignals = restoreSignals
    }
}
