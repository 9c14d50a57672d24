#if canImport(Glibc)
import Glibc
#endif

/// A whole supervisord configuration file: `[supervisord]`, the process groups, the servers,
/// `[supervisorctl]` and the RPC interfaces, read with supervisor's rules.
///
/// `load(path:)` reads a file and the files its `[include]` names; values are checked and
/// converted as supervisord does, and `%(name)s` expansions (`program_name`, `process_num`,
/// `group_name`, `here`, `host_node_name`, `ENV_X`) are applied.
public struct SupervisorConfig: Sendable, Hashable {
    /// The main file, absolute.
    public var path: String
    /// The `[supervisord]` options.
    public var supervisord: SupervisordOptions
    /// The process groups, sorted by priority and then name.
    public var groups: [ProcessGroupConfig]
    /// The `[eventlistener:x]` pools, sorted by priority and then name.
    public var eventListenerPools: [EventListenerPoolConfig]
    /// The `[unix_http_server]` sections.
    public var unixHTTPServers: [UnixHTTPServerConfig]
    /// The `[inet_http_server]` sections.
    public var inetHTTPServers: [InetHTTPServerConfig]
    /// The `[supervisorctl]` section, when there is one.
    public var supervisorctl: SupervisorctlConfig?
    /// The `[rpcinterface:x]` sections.
    public var rpcInterfaces: [RPCInterfaceConfig]
    /// The files `[include]` brought in, in reading order.
    public var includedFiles: [String]
    /// Things supervisord warns about but accepts (an include glob matching nothing, a
    /// deprecated value, an ignored option).
    public var warnings: [String]

    /// Creates a configuration from its parts (for building one in code).
    /// - Parameters:
    ///   - path: The file it stands for.
    ///   - supervisord: The `[supervisord]` options.
    ///   - groups: The process groups (they are sorted by priority, then name).
    public init(path: String = "", supervisord: SupervisordOptions = SupervisordOptions(), groups: [ProcessGroupConfig]) {
        self.path = path
        self.supervisord = supervisord
        self.groups = groups.sorted { ($0.priority, $0.name) < ($1.priority, $1.name) }
        self.eventListenerPools = []
        self.unixHTTPServers = []
        self.inetHTTPServers = []
        self.supervisorctl = nil
        self.rpcInterfaces = []
        self.includedFiles = []
        self.warnings = []
    }

    /// The group named `name`.
    /// - Parameter name: The group name.
    /// - Returns: The group, or `nil`.
    public func group(named name: String) -> ProcessGroupConfig? {
        groups.first { $0.name == name }
    }

    /// Reads and checks a configuration file and its includes.
    /// - Parameters:
    ///   - path: The file (relative paths are taken from the working directory).
    ///   - environment: The variables `%(ENV_X)s` sees; by default the process environment.
    ///   - hostNodeName: `%(host_node_name)s`; by default the machine's node name.
    /// - Returns: The configuration.
    /// - Throws: `ConfigError` naming the file, section and option at fault.
    public static func load(
        path: String, environment: [String: String]? = nil, hostNodeName: String? = nil
    ) throws(ConfigError) -> SupervisorConfig {
        let absolute = FileSystem.absolute(path)
        let text: String
        switch FileSystem.readText(absolute) {
        case .success(let t): text = t
        case .failure(let failure):
            let reason = failure.code == ENOENT ? "could not find config file \(path)" : "could not read config file \(path): \(failure.message)"
            throw ConfigError(.unreadableFile, file: absolute, reason: reason)
        }
        return try parse(text, path: absolute, environment: environment, hostNodeName: hostNodeName)
    }

    /// Checks a configuration given as text, as if read from `path` (includes are resolved
    /// against `path`'s directory).
    /// - Parameters:
    ///   - text: The file's contents.
    ///   - path: The file it stands for.
    ///   - environment: The variables `%(ENV_X)s` sees; by default the process environment.
    ///   - hostNodeName: `%(host_node_name)s`; by default the machine's node name.
    /// - Returns: The configuration.
    /// - Throws: `ConfigError`.
    public static func parse(
        _ text: String, path: String, environment: [String: String]? = nil, hostNodeName: String? = nil
    ) throws(ConfigError) -> SupervisorConfig {
        var loader = ConfigLoader(
            mainFile: FileSystem.absolute(path), environment: environment ?? FileSystem.environment,
            hostNodeName: hostNodeName ?? FileSystem.hostNodeName)
        return try loader.load(text)
    }

    /// Where supervisord looks for its configuration without `-c`, in order: `../etc/supervisord.conf`
    /// and `../supervisord.conf` relative to the executable's directory, `supervisord.conf` and
    /// `etc/supervisord.conf` in the working directory, `/etc/supervisord.conf`,
    /// `/etc/supervisor/supervisord.conf`.
    /// - Parameters:
    ///   - executable: The program's path (`argv[0]`).
    ///   - currentDirectory: The working directory; by default the process's.
    /// - Returns: The candidate paths.
    public static func searchPaths(executable: String, currentDirectory: String? = nil) -> [String] {
        let cwd = currentDirectory ?? FileSystem.currentDirectory
        let here = FileSystem.directoryName(FileSystem.directoryName(executable))
        return [
            FileSystem.join(FileSystem.join(here, "etc"), "supervisord.conf"),
            FileSystem.join(here, "supervisord.conf"),
            FileSystem.join(cwd, "supervisord.conf"),
            FileSystem.join(cwd, "etc/supervisord.conf"),
            "/etc/supervisord.conf",
            "/etc/supervisor/supervisord.conf",
        ]
    }

    /// The first of `searchPaths` that exists.
    /// - Parameters:
    ///   - executable: The program's path (`argv[0]`).
    ///   - currentDirectory: The working directory; by default the process's.
    /// - Returns: The configuration file, or `nil` when there is none.
    public static func defaultConfigFile(executable: String, currentDirectory: String? = nil) -> String? {
        searchPaths(executable: executable, currentDirectory: currentDirectory).first(where: FileSystem.exists)
    }
}
