#if canImport(Glibc)
import Glibc
#endif
import NIOCore
import SpindleSupervisor

/// A log file followed as supervisor's `tail_f_producer` follows it: the last 1024 bytes
/// first, then whatever is appended, checked every 0.1 s; a file replaced by rotation is
/// opened again, and a truncated file is reported with `==> File truncated <==`.
///
/// It lives on one event loop and is used from it only.
final class LogTailStream {
    /// How much of the end of the file is sent first.
    static let head = 1024
    /// How much is read at most per check.
    static let chunk = 65536

    let path: String
    private var fd: Int32 = -1
    private var inode: ino_t = 0
    private var offset = 0
    private var stopped = false
    /// The file's modification time when it was opened.
    private(set) var modificationTime: time_t = 0

    /// Opens the file.
    /// - Parameter path: The log file.
    /// - Returns: `nil` when it cannot be opened.
    init?(path: String) {
        self.path = path
        guard openFile() else { return nil }
        var info = stat()
        guard fstat(fd, &info) == 0 else { return nil }
        modificationTime = info.st_mtim.tv_sec
        let size = Int(info.st_size)
        offset = size >= LogTailStream.head ? size - LogTailStream.head : 0
    }

    deinit { if fd >= 0 { close(fd) } }

    private func openFile() -> Bool {
        if fd >= 0 { close(fd) }
        fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return false }
        var info = stat()
        guard fstat(fd, &info) == 0 else { return false }
        inode = info.st_ino
        offset = 0
        return true
    }

    /// Sends what the file has now and then every 0.1 s, until `stop()` or `emit` returns false.
    /// - Parameters:
    ///   - eventLoop: The loop the stream lives on (the caller is on it).
    ///   - emit: Sends bytes; returns whether to go on.
    func run(on eventLoop: any EventLoop, emit: @escaping ([UInt8]) -> Bool) {
        guard !stopped else { return }
        if let bytes = poll(), !emit(bytes) {
            stop()
            return
        }
        eventLoop.assumeIsolated().scheduleTask(in: .milliseconds(100)) { [self] in
            run(on: eventLoop, emit: emit)
        }
    }

    /// Stops following and closes the file.
    func stop() {
        stopped = true
        if fd >= 0 { close(fd) }
        fd = -1
    }

    /// What to send now, if anything.
    private func poll() -> [UInt8]? {
        var named = stat()
        if stat(path, &named) == 0, named.st_ino != inode { _ = openFile() }
        guard fd >= 0 else { return nil }
        var info = stat()
        guard fstat(fd, &info) == 0 else { return nil }
        let size = Int(info.st_size)
        if size < offset {
            offset = 0
            return Array("==> File truncated <==\n".utf8)
        }
        guard size > offset else { return nil }
        let bytes = LogFiles.readBytes(fd, at: offset, count: min(size - offset, LogTailStream.chunk))
        offset += bytes.count
        return bytes.isEmpty ? nil : bytes
    }

    /// The log a tail URL names (supervisor's `logtail_handler` and `mainlogtail_handler`):
    /// `/logtail/NAME[/CHANNEL]` (stdout by default) or `/mainlogtail`.
    /// - Returns: The file, or `nil` (404) when there is no such process, channel or file.
    static func file(for uri: String, interface: SupervisorRPCInterface, mainLog: String?) -> String? {
        var path = Substring(uri)
        if let cut = path.firstIndex(where: { $0 == "?" || $0 == "#" || $0 == ";" }) { path = path[..<cut] }
        var text = String(path)
        if text.contains("%") { text = percentDecoded(text) }
        if text.hasPrefix("/mainlogtail") {
            guard let mainLog, LogFiles.exists(mainLog) else { return nil }
            return mainLog
        }
        while text.hasPrefix("/") { text.removeFirst() }
        guard let slash = text.firstIndex(of: "/") else { return nil }
        let rest = text[text.index(after: slash)...]
        let name: String
        let channel: String
        if let split = rest.firstIndex(of: "/") {
            name = String(rest[..<split])
            channel = String(rest[rest.index(after: split)...])
        } else {
            name = String(rest)
            channel = "stdout"
        }
        guard Supervisor.splitName(name).process != nil, let info = try? interface.supervisor.processInfo(name: name) else { return nil }
        let file: String
        switch channel {
        case "stdout": file = info.stdout_logfile
        case "stderr": file = info.stderr_logfile
        default: return nil
        }
        guard !file.isEmpty, LogFiles.exists(file) else { return nil }
        return file
    }

    /// `%XX` escapes decoded (invalid ones kept as written).
    static func percentDecoded(_ text: String) -> String {
        let bytes = Array(text.utf8)
        var out: [UInt8] = []
        var i = 0
        while i < bytes.count {
            if bytes[i] == UInt8(ascii: "%"), i + 2 < bytes.count,
                let value = UInt8(String(decoding: bytes[(i + 1)...(i + 2)], as: UTF8.self), radix: 16)
            {
                out.append(value)
                i += 3
            } else {
                out.append(bytes[i])
                i += 1
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// An HTTP date: `Sun, 06 Nov 1994 08:49:37 GMT`.
    static func httpDate(_ seconds: time_t) -> String {
        var time = seconds
        var parts = tm()
        gmtime_r(&time, &parts)
        var buffer = [Int8](repeating: 0, count: 64)
        let n = strftime(&buffer, buffer.count, "%a, %d %b %Y %H:%M:%S GMT", &parts)
        return String(decoding: buffer[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
