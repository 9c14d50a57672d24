#if canImport(Glibc)
import Glibc
#endif

extension SupervisorctlConfig {
    /// Reads the `[supervisorctl]` section of a configuration file as supervisorctl does: only
    /// that section is looked at (no `[include]`), with `%(here)s` and `%(ENV_X)s` expanded.
    /// - Parameters:
    ///   - path: The file (relative paths are taken from the working directory).
    ///   - environment: The variables `%(ENV_X)s` sees; by default the process environment.
    /// - Returns: The section's settings.
    /// - Throws: `ConfigError` when the file cannot be read, has no `[supervisorctl]` section,
    ///   or has a bad value in it.
    public static func load(path: String, environment: [String: String]? = nil) throws(ConfigError) -> SupervisorctlConfig {
        let absolute = FileSystem.absolute(path)
        let text: String
        switch FileSystem.readText(absolute) {
        case .success(let t): text = t
        case .failure(let failure):
            let reason = failure.code == ENOENT ? "could not find config file \(path)" : "could not read config file \(path)"
            throw ConfigError(.unreadableFile, file: absolute, reason: reason)
        }
        var loader = ConfigLoader(mainFile: absolute, environment: environment ?? FileSystem.environment, hostNodeName: FileSystem.hostNodeName)
        try loader.document.read(text, file: absolute)
        guard let config = try loader.supervisorctl() else {
            throw ConfigError(.missingSection, file: absolute, section: "supervisorctl", reason: ".ini file does not include supervisorctl section")
        }
        return config
    }
}
