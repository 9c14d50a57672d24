#if canImport(Glibc)
import Glibc
#endif

/// An operating-system call that failed, with the call's name and its `errno`.
///
/// Every Spindle module reports failed system calls with this type, so a caller can tell
/// which call failed and why without parsing a message.
public struct SystemError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The name of the system call or library function that failed, such as `"open"`.
    public let call: String
    /// The `errno` value the call left behind.
    public let errno: Int32
    /// What the call was acting on (a path, a descriptor), when there was one.
    public let subject: String?

    /// Creates an error for `call` failing with `errno`.
    /// - Parameters:
    ///   - call: The name of the failed call.
    ///   - errno: The error number.
    ///   - subject: The path or object the call was acting on, if any.
    public init(call: String, errno: Int32, subject: String? = nil) {
        self.call = call
        self.errno = errno
        self.subject = subject
    }

    /// The C library's text for `errno`, such as "No such file or directory".
    public var message: String { String(cString: strerror(errno)) }

    public var description: String {
        if let subject {
            return "\(call)(\(subject)) failed: \(message) (errno \(errno))"
        }
        return "\(call) failed: \(message) (errno \(errno))"
    }
}
