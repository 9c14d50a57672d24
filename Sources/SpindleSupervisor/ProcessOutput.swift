#if canImport(Glibc)
import Glibc
#endif

/// Where one output channel of one process goes: its rotating log file, syslog, and
/// supervisord's own log at debug level (supervisor's `POutputDispatcher`).
final class ProcessOutput: Sendable {
    let processName: String
    let channel: LogChannel
    let file: RotatingLogFile?
    let syslog: Bool
    let stripANSI: Bool
    let mainLog: (@Sendable (LogLevel, String) -> Void)?

    init(
        processName: String, channel: LogChannel, file: RotatingLogFile?, syslog: Bool, stripANSI: Bool,
        mainLog: (@Sendable (LogLevel, String) -> Void)?
    ) {
        self.processName = processName
        self.channel = channel
        self.file = file
        self.syslog = syslog
        self.stripANSI = stripANSI
        self.mainLog = mainLog
    }

    /// Takes a chunk read from the process.
    func receive(_ chunk: [UInt8]) {
        guard !chunk.isEmpty else { return }
        let data = stripANSI ? ProcessOutput.stripEscapes(chunk) : chunk
        file?.write(data)
        if syslog {
            let text = processName + " " + String(decoding: data, as: UTF8.self)
            text.withCString { cText in withVaList([cText]) { vsyslog(LOG_INFO, "%s", $0) } }
        }
        mainLog?(.debug, "'\(processName)' \(channel.rawValue) output:\n" + String(decoding: data, as: UTF8.self))
    }

    /// The process's pipe closed: writes any unfinished line.
    func finish() { file?.flush() }

    /// Supervisor's `stripEscapes`: removes `ESC [` ... sequences up to a terminator letter.
    static func stripEscapes(_ bytes: [UInt8]) -> [UInt8] {
        let terminators = Set("HfABCDRsuJKhlpm".utf8)
        var result: [UInt8] = []
        result.reserveCapacity(bytes.count)
        var showing = true
        var i = 0
        while i < bytes.count {
            if showing {
                if bytes[i] == 0x1b, i + 1 < bytes.count, bytes[i + 1] == UInt8(ascii: "[") {
                    showing = false
                    i += 2
                    continue
                }
                result.append(bytes[i])
            } else if terminators.contains(bytes[i]) {
                showing = true
            }
            i += 1
        }
        return result
    }
}
