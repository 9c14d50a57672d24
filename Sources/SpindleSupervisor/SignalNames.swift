#if canImport(Glibc)
import Glibc
#endif

/// Signal names and numbers as Python's `signal` module has them on Linux.
enum SignalNames {
    static let byNumber: [Int32: String] = [
        1: "SIGHUP", 2: "SIGINT", 3: "SIGQUIT", 4: "SIGILL", 5: "SIGTRAP", 6: "SIGABRT", 7: "SIGBUS",
        8: "SIGFPE", 9: "SIGKILL", 10: "SIGUSR1", 11: "SIGSEGV", 12: "SIGUSR2", 13: "SIGPIPE",
        14: "SIGALRM", 15: "SIGTERM", 16: "SIGSTKFLT", 17: "SIGCHLD", 18: "SIGCONT", 19: "SIGSTOP",
        20: "SIGTSTP", 21: "SIGTTIN", 22: "SIGTTOU", 23: "SIGURG", 24: "SIGXCPU", 25: "SIGXFSZ",
        26: "SIGVTALRM", 27: "SIGPROF", 28: "SIGWINCH", 29: "SIGIO", 30: "SIGPWR", 31: "SIGSYS",
        34: "SIGRTMIN", 64: "SIGRTMAX",
    ]

    static let byName: [String: Int32] = {
        var names: [String: Int32] = [:]
        for (number, name) in byNumber { names[name] = number }
        names["SIGIOT"] = 6
        names["SIGPOLL"] = 29
        names["SIGCLD"] = 17
        return names
    }()

    /// `signame`: "SIGTERM", or "signal N" for a number without a name.
    static func name(_ number: Int32) -> String { byNumber[number] ?? "signal \(number)" }

    /// `signal_number`: a number, or a name with or without "SIG" in any case.
    /// - Parameter text: The value.
    /// - Returns: The signal number, or `nil` (with the reason) when it is not a signal.
    static func number(_ text: String) -> Result<Int32, SignalNameFailure> {
        let trimmed = text.trimmingWhitespace()
        if let n = Int32(trimmed) {
            return byNumber[n] != nil ? .success(n) : .failure(SignalNameFailure(reason: "value '\(text)' is not a valid signal number"))
        }
        var name = trimmed.uppercased()
        if !name.hasPrefix("SIG") { name = "SIG" + name }
        if let n = byName[name] { return .success(n) }
        return .failure(SignalNameFailure(reason: "value '\(text)' is not a valid signal name"))
    }
}

/// A value that names no signal.
struct SignalNameFailure: Error {
    var reason: String
}
