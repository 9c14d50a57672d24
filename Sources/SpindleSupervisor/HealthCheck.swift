import SpindleSubprocess
import SpindleSystem

/// The health check of one supervised process: its state machine and the check command while
/// one runs. Guarded by the owning `Supervisor`'s lock, except `output`, which guards itself.
final class HealthCheck: @unchecked Sendable {
    /// The most of a check's output kept.
    static let outputLimit = 1024

    var machine: HealthCheckMachine
    /// When the machine wants `tick` called.
    var due: Double?
    /// The running check command.
    var popen: Popen?
    /// The watch of the running check's exit and output.
    var monitor: ProcessMonitor?
    /// Counts checks, so that a watch reports only for its own check.
    var generation = 0
    /// When the last check ended (seconds since the epoch), 0 if none has.
    var lastCheck: Double = 0
    /// What the last check wrote, trimmed.
    var lastOutput = ""
    /// What the running check has written so far (its last `outputLimit` bytes).
    let output = Locked<[UInt8]>([])

    init(machine: HealthCheckMachine) {
        self.machine = machine
    }

    /// Keeps the end of what the check writes.
    func receive(_ bytes: [UInt8]) {
        output.withLock { kept in
            kept.append(contentsOf: bytes)
            if kept.count > HealthCheck.outputLimit { kept.removeFirst(kept.count - HealthCheck.outputLimit) }
        }
    }

    /// Takes what the finished check wrote, trailing whitespace removed.
    func takeOutput() -> String {
        let bytes = output.withLock { kept -> [UInt8] in
            defer { kept.removeAll() }
            return kept
        }
        var text = String(decoding: bytes, as: UTF8.self)
        while let last = text.last, last.isWhitespace { text.removeLast() }
        return text
    }
}
