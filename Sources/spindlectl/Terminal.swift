#if canImport(Glibc)
import Glibc
#endif

/// Standard input and output, unbuffered.
enum Terminal {
    /// Writes bytes to a descriptor (standard output by default).
    static func write(_ bytes: [UInt8], to fd: Int32 = 1) {
        var offset = 0
        while offset < bytes.count {
            let n = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress! + offset, $0.count - offset) }
            if n < 0, errno == EINTR { continue }
            if n <= 0 { return }
            offset += n
        }
    }

    /// Shows a prompt and reads a line from standard input, without its newline.
    /// - Returns: The line, or `nil` at the end of input (or when a read is interrupted).
    static func readLine(_ prompt: String) -> String? {
        if !prompt.isEmpty { write(Array(prompt.utf8)) }
        var bytes: [UInt8] = []
        var byte: UInt8 = 0
        while true {
            let n = Glibc.read(0, &byte, 1)
            if n <= 0 { return bytes.isEmpty ? nil : String(decoding: bytes, as: UTF8.self) }
            if byte == UInt8(ascii: "\n") { return String(decoding: bytes, as: UTF8.self) }
            bytes.append(byte)
        }
    }

    /// Shows a prompt and reads a line with echo turned off (for a password).
    static func readSecret(_ prompt: String) -> String? {
        var saved = termios()
        let isTerminal = tcgetattr(0, &saved) == 0
        if isTerminal {
            var quiet = saved
            quiet.c_lflag &= ~tcflag_t(ECHO)
            tcsetattr(0, TCSAFLUSH, &quiet)
        }
        defer { if isTerminal { tcsetattr(0, TCSAFLUSH, &saved) } }
        return readLine(prompt)
    }
}
