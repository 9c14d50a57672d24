import CSpindle
import SpindleSystem
#if canImport(Glibc)
import Glibc
#endif

/// The close-on-exec pipe through which a detaching daemon tells the process that started it
/// whether it started.
///
/// The records are one byte, "S" (started) or "X" (about to exec the program: the pipe's end
/// of file then means the exec succeeded, since the pipe closes on exec), or an error: "E",
/// the step, a tab, the errno or "-", a tab, the message and a newline. The starting process
/// reads to end of file; an end of file with no record means the daemon died before reporting.
package struct StatusChannel: Sendable {
    /// The end the starting process reads.
    package let readFD: Int32
    /// The end the daemon writes.
    package let writeFD: Int32

    /// What the starting process learned.
    package enum Outcome: Sendable, Equatable {
        /// The daemon started (or exec'd its program).
        case started
        /// A step failed.
        case failed(DaemonError)
        /// The pipe closed with no record: the daemon died before it could report.
        case vanished
    }

    /// Creates the pipe, both ends close-on-exec.
    /// - Returns: The channel.
    /// - Throws: `DaemonError` with step "detach".
    package static func make() throws(DaemonError) -> StatusChannel {
        var fds: [Int32] = [-1, -1]
        if spindle_daemon_pipe_cloexec(&fds) == -1 { throw DaemonError.system("detach", "pipe2") }
        return StatusChannel(readFD: fds[0], writeFD: fds[1])
    }

    /// Tells the starting process the daemon started, then closes the daemon's end.
    package func reportStarted() {
        send([UInt8(ascii: "S")])
        closeWriteEnd()
    }

    /// Tells the starting process the daemon is about to exec its program; the end stays open
    /// (it closes on exec) so that an exec failure can still be reported.
    package func reportExecPending() {
        send([UInt8(ascii: "X")])
    }

    /// Reports `error` to the starting process and ends the calling process.
    /// - Parameter error: The failed step.
    package func fail(_ error: DaemonError) -> Never {
        send(Self.encode(error))
        _exit(1)
    }

    /// Closes the daemon's end.
    package func closeWriteEnd() { _ = try? closeDescriptor(writeFD) }

    /// Closes the starting process's end.
    package func closeReadEnd() { _ = try? closeDescriptor(readFD) }

    /// Reads everything the daemon sends, to end of file, and closes the reading end.
    /// - Returns: What it means.
    package func awaitOutcome() -> Outcome {
        var data: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 1024)
        while true {
            let n = buffer.withUnsafeMutableBytes { read(readFD, $0.baseAddress!, $0.count) }
            if n < 0, errno == EINTR { continue }
            if n <= 0 { break }
            data.append(contentsOf: buffer[0..<n])
        }
        closeReadEnd()
        return Self.decode(data)
    }

    private func send(_ bytes: [UInt8]) {
        _ = bytes.withUnsafeBytes { spindle_daemon_write_status(writeFD, $0.baseAddress, $0.count) }
    }

    /// The record for `error`.
    /// - Parameter error: The error.
    /// - Returns: "E", the step, tab, errno or "-", tab, the message, newline.
    package static func encode(_ error: DaemonError) -> [UInt8] {
        let clean: (String) -> String = { String($0.map { $0 == "\t" || $0 == "\n" ? " " : $0 }) }
        let code = error.errno.map(String.init) ?? "-"
        return Array("E\(clean(error.step))\t\(code)\t\(clean(error.message))\n".utf8)
    }

    /// What a sequence of records means: the first error if there is one, else started if any
    /// "S" or "X" came, else vanished.
    /// - Parameter bytes: Everything read from the pipe.
    /// - Returns: The outcome.
    package static func decode(_ bytes: [UInt8]) -> Outcome {
        var started = false
        var index = 0
        while index < bytes.count {
            switch bytes[index] {
            case UInt8(ascii: "S"), UInt8(ascii: "X"):
                started = true
                index += 1
            case UInt8(ascii: "E"):
                let end = bytes[index...].firstIndex(of: UInt8(ascii: "\n")) ?? bytes.count
                let fields = String(decoding: bytes[(index + 1)..<end], as: UTF8.self)
                    .split(separator: "\t", maxSplits: 2, omittingEmptySubsequences: false)
                guard fields.count == 3 else {
                    return .failed(DaemonError(step: "detach", message: "the daemon sent a garbled report"))
                }
                return .failed(DaemonError(step: String(fields[0]), message: String(fields[2]), errno: Int32(fields[1])))
            default:
                return .failed(DaemonError(step: "detach", message: "the daemon sent a garbled report"))
            }
        }
        return started ? .started : .vanished
    }
}
