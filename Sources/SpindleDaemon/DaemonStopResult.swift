/// How `PIDLockFile.stopDaemon(timeout:)` ended a daemon.
public enum DaemonStopResult: Sendable, Equatable {
    /// The daemon exited after SIGTERM, within the timeout.
    case terminated
    /// The daemon outlived the timeout and was killed with SIGKILL.
    case killed
}
