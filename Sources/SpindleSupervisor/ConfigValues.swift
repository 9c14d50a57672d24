#if canImport(Glibc)
import Glibc
#endif

/// Supervisor's option types (`supervisor.datatypes`): each turns a value's text into a typed
/// value or returns the reason it cannot.
enum ConfigValues {
    /// A reason a value was refused.
    struct Refusal: Error {
        var reason: String
    }

    static let truthy: Set<String> = ["yes", "true", "on", "1"]
    static let falsy: Set<String> = ["no", "false", "off", "0"]

    static func integer(_ text: String) throws(Refusal) -> Int {
        let cleaned = text.trimmingWhitespace().replacingUnderscoresBetweenDigits()
        guard let value = Int(cleaned.hasPrefix("+") ? String(cleaned.dropFirst()) : cleaned) else {
            throw Refusal(reason: "'\(text)' is not an integer")
        }
        return value
    }

    /// `startretries`: a count of retries, or -1 for spindled's "retry forever".
    static func retryCount(_ text: String) throws(Refusal) -> Int {
        let value = try integer(text)
        guard value >= -1 else { throw Refusal(reason: "startretries must be -1 (retry forever) or a number of retries, not \(value)") }
        return value
    }

    /// A whole number above zero.
    static func positiveInteger(_ text: String) throws(Refusal) -> Int {
        let value = try integer(text)
        guard value > 0 else { throw Refusal(reason: "must be a whole number of seconds above 0, not \(value)") }
        return value
    }

    static func boolean(_ text: String) throws(Refusal) -> Bool {
        let lowered = text.lowercased()
        if truthy.contains(lowered) { return true }
        if falsy.contains(lowered) { return false }
        throw Refusal(reason: "'\(text)' is not a valid boolean value")
    }

    static func byteSize(_ text: String) throws(Refusal) -> Int {
        let lowered = text.lowercased()
        let multipliers: [(String, Int)] = [("kb", 1024), ("mb", 1024 * 1024), ("gb", 1024 * 1024 * 1024)]
        for (suffix, multiplier) in multipliers where lowered.hasSuffix(suffix) {
            if let n = Int(String(lowered.dropLast(2)).trimmingWhitespace()) { return n * multiplier }
            throw Refusal(reason: "'\(text)' is not a valid byte size")
        }
        guard let n = Int(lowered.trimmingWhitespace()) else {
            throw Refusal(reason: "'\(text)' is not a valid byte size")
        }
        return n
    }

    static func octal(_ text: String) throws(Refusal) -> UInt32 {
        var digits = text.trimmingWhitespace()
        if digits.lowercased().hasPrefix("0o") { digits = String(digits.dropFirst(2)) }
        guard let value = UInt32(digits, radix: 8) else {
            throw Refusal(reason: "'\(text)' can not be converted to an octal type")
        }
        return value
    }

    static func exitCodes(_ text: String) throws(Refusal) -> [Int] {
        if text.isEmpty { return [] }
        var codes: [Int] = []
        for part in text.split(separator: ",", omittingEmptySubsequences: false) {
            guard let code = Int(part.trimmingWhitespace()), (0...255).contains(code) else {
                throw Refusal(reason: "'\(text)' is not a valid list of exit codes")
            }
            codes.append(code)
        }
        return codes
    }

    static func stringList(_ text: String?) -> [String] {
        guard let text, !text.isEmpty else { return [] }
        return text.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingWhitespace() }
    }

    static func signal(_ text: String) throws(Refusal) -> Int32 {
        switch SignalNames.number(text) {
        case .success(let n): return n
        case .failure(let failure): throw Refusal(reason: failure.reason)
        }
    }

    static func autoRestart(_ text: String) throws(Refusal) -> AutoRestart {
        let lowered = text.lowercased()
        if truthy.contains(lowered) { return .always }
        if falsy.contains(lowered) { return .never }
        if lowered == "unexpected" { return .unexpected }
        throw Refusal(reason: "invalid 'autorestart' value '\(lowered)'")
    }

    static func logLevel(_ text: String) throws(Refusal) -> LogLevel {
        guard let level = LogLevel(configName: text) else { throw Refusal(reason: "bad logging level name '\(text)'") }
        return level
    }

    /// `process_or_group_name`: trimmed, without space, colon or slash.
    static func name(_ text: String) throws(Refusal) -> String {
        let trimmed = text.trimmingWhitespace()
        for c: Character in [" ", ":", "/"] where trimmed.contains(c) {
            throw Refusal(reason: "Invalid name: '\(text)' because of character: '\(c)'")
        }
        return trimmed
    }

    /// `dict_of_key_value_pairs`: `KEY=val,KEY2="val, with comma"`.
    static func keyValuePairs(_ text: String) throws(Refusal) -> [String: String] {
        let tokens: [String]
        do {
            tokens = try Shlex.keyValueTokens(text)
        } catch {
            throw Refusal(reason: "\(error.message) in '\(text)'")
        }
        var result: [String: String] = [:]
        var i = 0
        while i < tokens.count {
            guard i + 2 < tokens.count, tokens[i + 1] == "=" else {
                throw Refusal(reason: "Unexpected end of key/value pairs in value '\(text)'")
            }
            result[tokens[i]] = tokens[i + 2]
            i += 4
        }
        return result
    }

    /// `existing_directory`: the path (with `~` expanded) of a directory that exists.
    static func existingDirectory(_ text: String) throws(Refusal) -> String {
        let path = FileSystem.expandUser(text)
        guard FileSystem.isDirectory(path) else { throw Refusal(reason: "\(text) is not an existing directory") }
        return path
    }

    /// `existing_dirpath`: a path (with `~` expanded) whose directory exists.
    static func existingDirPath(_ text: String) throws(Refusal) -> String {
        let path = FileSystem.expandUser(text)
        let directory = FileSystem.directoryName(path)
        if directory.isEmpty || FileSystem.isDirectory(directory) { return path }
        throw Refusal(reason: "The directory named as part of the path \(text) does not exist")
    }

    /// `name_to_uid`: a user name or numeric id that exists.
    static func userID(_ text: String) throws(Refusal) -> UInt32 {
        if let n = UInt32(text) {
            guard getpwuid(n) != nil else { throw Refusal(reason: "Invalid user id \(text)") }
            return n
        }
        guard let record = getpwnam(text) else { throw Refusal(reason: "Invalid user name \(text)") }
        return record.pointee.pw_uid
    }

    /// `name_to_gid`: a group name or numeric id that exists.
    static func groupID(_ text: String) throws(Refusal) -> UInt32 {
        if let n = UInt32(text) {
            guard getgrgid(n) != nil else { throw Refusal(reason: "Invalid group id \(text)") }
            return n
        }
        guard let record = getgrnam(text) else { throw Refusal(reason: "Invalid group name \(text)") }
        return record.pointee.gr_gid
    }

    /// `colon_separated_user_group`: `user` or `user:group`.
    static func userAndGroup(_ text: String) throws(Refusal) -> (uid: UInt32, gid: UInt32?) {
        let parts = text.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
        do {
            let uid = try userID(parts[0])
            let gid = parts.count > 1 ? try groupID(parts[1]) : nil
            return (uid, gid)
        } catch {
            throw Refusal(reason: "Invalid user:group definition \(text)")
        }
    }

    /// `inet_address`: `port`, `host:port` or `*:port`.
    static func inetAddress(_ text: String) throws(Refusal) -> (host: String, port: Int) {
        var host = ""
        var portText = text
        if let colon = text.lastIndex(of: ":") {
            host = String(text[..<colon]).lowercased()
            portText = String(text[text.index(after: colon)...])
            if portText.isEmpty { throw Refusal(reason: "no port number specified in '\(text)'") }
        }
        guard let port = Int(portText.trimmingWhitespace()), (1...0xffff).contains(port) else {
            throw Refusal(reason: "not a valid port number: '\(portText)'")
        }
        if host == "*" { host = "" }
        return (host, port)
    }

    /// `url`: a value with a scheme and something after it.
    static func url(_ text: String) throws(Refusal) -> String {
        guard let colon = text.firstIndex(of: ":"), colon != text.startIndex,
            text[..<colon].allSatisfy({ $0.isLetter || $0.isNumber || "+-.".contains($0) }),
            text.index(after: colon) < text.endIndex
        else { throw Refusal(reason: "value '\(text)' is not a URL") }
        return text
    }

    /// The event type names an `[eventlistener:x]` may subscribe to.
    static let eventTypes: Set<String> = [
        "EVENT", "PROCESS_STATE", "PROCESS_STATE_STOPPED", "PROCESS_STATE_EXITED", "PROCESS_STATE_STARTING",
        "PROCESS_STATE_STOPPING", "PROCESS_STATE_BACKOFF", "PROCESS_STATE_FATAL", "PROCESS_STATE_RUNNING",
        "PROCESS_STATE_UNKNOWN", "PROCESS_COMMUNICATION", "PROCESS_COMMUNICATION_STDOUT",
        "PROCESS_COMMUNICATION_STDERR", "PROCESS_LOG", "PROCESS_LOG_STDOUT", "PROCESS_LOG_STDERR",
        "REMOTE_COMMUNICATION", "SUPERVISOR_STATE_CHANGE", "SUPERVISOR_STATE_CHANGE_RUNNING",
        "SUPERVISOR_STATE_CHANGE_STOPPING", "TICK", "TICK_5", "TICK_60", "TICK_3600", "PROCESS_GROUP",
        "PROCESS_GROUP_ADDED", "PROCESS_GROUP_REMOVED",
    ]
}

extension String {
    /// Python's `int()` accepts single underscores between digits ("1_000").
    fileprivate func replacingUnderscoresBetweenDigits() -> String {
        guard contains("_") else { return self }
        let chars = Array(self)
        var out = ""
        for (i, c) in chars.enumerated() {
            if c == "_", i > 0, i + 1 < chars.count, chars[i - 1].isNumber, chars[i + 1].isNumber { continue }
            out.append(c)
        }
        return out
    }
}
