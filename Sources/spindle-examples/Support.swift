#if canImport(Glibc)
import Glibc
#endif
import Spindle
import SpindleSystem

/// Unbuffered output for the examples: every call is one write(2), so lines written by different
/// threads never mix inside a line, and nothing waits in a buffer when the output is a pipe.
enum Console {
    /// Writes `text` to standard output as it is, at once.
    /// - Parameter text: What to write.
    static func write(_ text: String) {
        write(text, to: 1)
    }

    /// Writes `text` and a newline to standard output, in one write(2).
    /// - Parameter text: The line, without its newline.
    static func line(_ text: String = "") {
        write(text + "\n", to: 1)
    }

    /// Writes `text` and a newline to standard error, in one write(2).
    /// - Parameter text: The line, without its newline.
    static func error(_ text: String) {
        write(text + "\n", to: 2)
    }

    /// Writes all of `text` to `fd`, retrying after signals and short writes.
    private static func write(_ text: String, to fd: Int32) {
        var text = text
        text.withUTF8 { bytes in
            guard let base = bytes.baseAddress else { return }
            var offset = 0
            while offset < bytes.count {
                let n = Glibc.write(fd, base + offset, bytes.count - offset)
                if n < 0 {
                    if errno == EINTR { continue }
                    return
                }
                offset += n
            }
        }
    }
}

/// The printed form of a "-------------------- title" separator line, as the Python programs print it.
/// - Parameter title: The words after the dashes.
/// - Returns: The line.
func separator(_ title: String) -> String {
    String(repeating: "-", count: 20) + " " + title
}

/// Sleeps the calling thread.
/// - Parameter seconds: How long.
func sleep(seconds: Double) {
    var request = timespec(tv_sec: Int(seconds), tv_nsec: Int((seconds - Double(Int(seconds))) * 1e9))
    var remaining = timespec()
    while nanosleep(&request, &remaining) == -1, errno == EINTR {
        request = remaining
    }
}

/// The local wall-clock time as "HH:MM:SS".
/// - Returns: The time of day.
func clockTime() -> String {
    tzset()
    var now = time(nil)
    var parts = tm()
    localtime_r(&now, &parts)
    var buffer = [CChar](repeating: 0, count: 16)
    let count = strftime(&buffer, buffer.count, "%H:%M:%S", &parts)
    return String(decoding: buffer[0..<count].map { UInt8(bitPattern: $0) }, as: UTF8.self)
}

/// `value` as at least two decimal digits ("%02d").
/// - Parameter value: A non-negative number.
/// - Returns: The digits.
func twoDigits(_ value: Int) -> String {
    value < 10 && value >= 0 ? "0\(value)" : "\(value)"
}

extension String {
    /// The string followed by spaces up to `width` characters.
    /// - Parameter width: The width to fill.
    /// - Returns: The padded string (the string itself when already that wide).
    func padding(_ width: Int) -> String {
        count >= width ? self : self + String(repeating: " ", count: width - count)
    }
}
