#if canImport(Glibc)
import Glibc
#endif

/// The few path and file operations the supervisor needs, on Glibc.
enum FileSystem {
    /// The whole contents of a file as UTF-8 text.
    /// - Parameter path: The file.
    /// - Returns: The text, or the errno of the failed call.
    static func readText(_ path: String) -> Result<String, SystemErrno> {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        if fd < 0 { return .failure(SystemErrno(code: errno)) }
        defer { close(fd) }
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                return .failure(SystemErrno(code: errno))
            }
            if n == 0 { break }
            bytes.append(contentsOf: buffer[0..<n])
        }
        return .success(String(decoding: bytes, as: UTF8.self))
    }

    /// The file's status, or `nil` when it does not exist.
    static func status(_ path: String) -> stat? {
        var info = stat()
        return stat(path, &info) == 0 ? info : nil
    }

    /// Whether something exists at `path`.
    static func exists(_ path: String) -> Bool { access(path, F_OK) == 0 }

    /// Whether `path` is a directory.
    static func isDirectory(_ path: String) -> Bool {
        guard let info = status(path) else { return false }
        return (info.st_mode & S_IFMT) == S_IFDIR
    }

    /// The size of a file, or `nil` when it does not exist.
    static func size(_ path: String) -> Int? { status(path).map { Int($0.st_size) } }

    /// The current working directory.
    static var currentDirectory: String {
        var buffer = [UInt8](repeating: 0, count: Int(PATH_MAX) + 1)
        let ok = buffer.withUnsafeMutableBufferPointer { raw in
            raw.withMemoryRebound(to: CChar.self) { getcwd($0.baseAddress, $0.count) != nil }
        }
        guard ok else { return "/" }
        return String(decoding: buffer.prefix(while: { $0 != 0 }), as: UTF8.self)
    }

    /// The directory part of a path (`os.path.dirname`).
    static func directoryName(_ path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "" }
        let head = String(path[..<slash])
        if head.isEmpty || head.allSatisfy({ $0 == "/" }) { return "/" }
        var trimmed = head
        while trimmed.count > 1, trimmed.hasSuffix("/") { trimmed.removeLast() }
        return trimmed
    }

    /// The last component of a path.
    static func baseName(_ path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return path }
        return String(path[path.index(after: slash)...])
    }

    /// `os.path.join(base, path)`: `path` itself when absolute.
    static func join(_ base: String, _ path: String) -> String {
        if path.hasPrefix("/") || base.isEmpty { return path }
        return base.hasSuffix("/") ? base + path : base + "/" + path
    }

    /// `os.path.normpath(os.path.abspath(path))`: absolute, without `.`, `..` or doubled slashes.
    static func absolute(_ path: String, relativeTo base: String? = nil) -> String {
        let full = join(base ?? currentDirectory, path)
        var parts: [Substring] = []
        for part in full.split(separator: "/", omittingEmptySubsequences: true) {
            if part == "." { continue }
            if part == ".." {
                if !parts.isEmpty { parts.removeLast() }
                continue
            }
            parts.append(part)
        }
        return "/" + parts.joined(separator: "/")
    }

    /// `os.path.expanduser`: `~` and `~user` at the start become home directories.
    static func expandUser(_ path: String) -> String {
        guard path.hasPrefix("~") else { return path }
        let end = path.firstIndex(of: "/") ?? path.endIndex
        let user = path[path.index(after: path.startIndex)..<end]
        var home: String?
        if user.isEmpty {
            if let env = getenv("HOME") {
                home = String(cString: env)
            } else if let record = getpwuid(getuid()) {
                home = String(cString: record.pointee.pw_dir)
            }
        } else if let record = getpwnam(String(user)) {
            home = String(cString: record.pointee.pw_dir)
        }
        guard var home else { return path }
        while home.count > 1, home.hasSuffix("/") { home.removeLast() }
        return home + path[end...]
    }

    /// The paths matching a shell pattern, sorted; none when nothing matches.
    static func glob(_ pattern: String) -> [String] {
        var result = glob_t()
        defer { globfree(&result) }
        guard Glibc.glob(pattern, 0, nil, &result) == 0 else { return [] }
        var paths: [String] = []
        for i in 0..<Int(result.gl_pathc) {
            if let p = result.gl_pathv[i] { paths.append(String(cString: p)) }
        }
        return paths.sorted()
    }

    /// The machine's node name (Python's `platform.node()`).
    static var hostNodeName: String {
        var info = utsname()
        uname(&info)
        return withUnsafeBytes(of: &info.nodename) { raw in
            String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
        }
    }

    /// The temporary directory (Python's `tempfile.gettempdir()`): `$TMPDIR`, `$TEMP`, `$TMP`, or `/tmp`.
    static var temporaryDirectory: String {
        for name in ["TMPDIR", "TEMP", "TMP"] {
            if let value = getenv(name) {
                let dir = String(cString: value)
                if isDirectory(dir) { return dir }
            }
        }
        return "/tmp"
    }

    /// The process environment as a dictionary.
    static var environment: [String: String] {
        var result: [String: String] = [:]
        var pointer = environ
        while let entry = pointer.pointee {
            let text = String(cString: entry)
            if let eq = text.firstIndex(of: "=") {
                result[String(text[..<eq])] = String(text[text.index(after: eq)...])
            }
            pointer += 1
        }
        return result
    }
}

/// An errno from a failed call.
struct SystemErrno: Error {
    var code: Int32
    var message: String { String(cString: strerror(code)) }
}
