/// The `[supervisorctl]` section.
public struct SupervisorctlConfig: Sendable, Hashable {
    /// `serverurl`; default `http://localhost:9001` (a `unix://` path is made absolute).
    public var serverurl: String
    /// `username`.
    public var username: String?
    /// `password`.
    public var password: String?
    /// `prompt`; default `supervisor`.
    public var prompt: String
    /// `history_file`, made absolute.
    public var historyFile: String?

    /// Creates the configuration with supervisorctl's defaults.
    /// - Parameters:
    ///   - serverurl: The server URL.
    ///   - username: The user name.
    ///   - password: The password.
    ///   - prompt: The prompt.
    ///   - historyFile: The history file.
    public init(
        serverurl: String = "http://localhost:9001", username: String? = nil, password: String? = nil,
        prompt: String = "supervisor", historyFile: String? = nil
    ) {
        self.serverurl = serverurl
        self.username = username
        self.password = password
        self.prompt = prompt
        self.historyFile = historyFile
    }
}
