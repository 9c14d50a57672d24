#if canImport(Glibc)
import Glibc
#endif
import SpindleSystem

/// Where one output channel of one process goes: its rotating log file, syslog, and
/// supervisord's own log at debug level (supervisor's `POutputDispatcher`).
final class ProcessOutput: Sendable {
    let processName: String
    let channel: LogChannel
    let file: RotatingLogFile?
    let syslog: Bool
    let stripANSI: Bool
    let mainLog: (@Sendable (LogLevel, String) -> Void)?
    /// With `*_forward`: the descriptor (1 or 2) the lines also go to, and the unfinished line.
    let forward: Int32?
    private let forwardPending = Locked<[UInt8]>([])
    /// Also receives every chunk (a health check's output is kept this way).
    let sink: (@Sendable ([UInt8]) -> Void)?

    init(
        processName: String, channel: LogChannel, file: RotatingLogFile?, syslog: Bool, stripANSI: Bool,
        mainLog: (@Sendable (LogLevel, String) -> Void)?, forward: Bool = false, sink: (@Sendable ([UInt8]) -> Void)? = nil
    ) {
        self.sink = sink
        self.forward = forward ? (channel == .stdout ? 1 : 2) : nil
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
        sink?(chunk)
        let data = stripANSI ? ProcessOutput.stripEscapes(chunk) : chunk
        file?.write(data)
        if syslog {
            let text = processName + " " + String(decoding: data, as: UTF8.self)
            text.withCString { cText in withVaList([cText]) { vsyslog(LOG_INFO, "%s", $0) } }
        }
        mainLog?(.debug, "'\(processName)' \(channel.rawValue) output:\n" + String(decoding: data, as: UTF8.self))
        if forward != nil { forwardLines(data, flush: false) }
    }

    /// Writes every whole line of `data` (and with `flush` an unfinished one) to `forward`,
    /// each prefixed by the process name, in one write per chunk so lines of different
    /// processes never interleave mid-line.
    private func forwardLines(_ data: [UInt8], flush: Bool) {
        guard let forward else { return }
        let prefix = Array((processName + " | ").utf8)
        let out = forwardPending.withLock { pending -> [UInt8] in
            pending.append(contentsOf: data)
            var out: [UInt8] = []
            var start = 0
            while let newline = pending[start...].firstIndex(of: UInt8(ascii: "\n")) {
                out += prefix
                out += pending[start...newline]
                start = newline + 1
            }
            pending.removeFirst(start)
            if flush, !pending.isEmpty {
                out += prefix + pending + [UInt8(ascii: "\n")]
                pending.removeAll()
            }
            return out
        }
        var offset = 0
        while offset < out.count {
            let n = out.withUnsafeBytes { write(forward, $0.baseAddress! + offset, $0.count - offset) }
            if n < 0, errno == EINTR { continue }
            if n <= 0 { return }
            offset += n
        }
    }

    /// The process's pipe closed: writes any unfinished line.
    func finish() {
        file?.flush()
        forwardLines([], flush: true)
    }

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
