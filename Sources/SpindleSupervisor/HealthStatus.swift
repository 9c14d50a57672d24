/// The health of a supervised process, as its health check last found it.
public enum HealthStatus: String, Sendable, Hashable, CaseIterable {
    /// The program has no health check.
    case none
    /// The program has a check, but the process is not RUNNING, so no check runs.
    case inactive
    /// The process is RUNNING and no check has passed yet since it started.
    case starting
    /// The last check passed.
    case healthy
    /// `healthcheck_retries` checks failed in a row; the process is being restarted.
    case unhealthy
}
