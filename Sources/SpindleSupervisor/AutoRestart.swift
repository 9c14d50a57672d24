/// When an exited process is started again (`autorestart`).
public enum AutoRestart: String, Sendable, Hashable {
    /// Always (`autorestart=true`).
    case always = "true"
    /// Never (`autorestart=false`).
    case never = "false"
    /// Only when its exit code is not in `exitcodes` (`autorestart=unexpected`, the default).
    case unexpected
}
