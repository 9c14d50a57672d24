#if canImport(Glibc)
import Glibc
#endif
import SpindleSystem
import SpindleThreading

/// A log file that is rotated when it reaches a size, keeping numbered backups
/// (`name.1` ... `name.N`) like supervisor's `RotatingFileHandler`, and that never splits a line.
///
/// Bytes written are cut into lines. A whole line goes to the current file unless it would
/// take the file past `maxBytes`; then the file is rotated first (`name` becomes `name.1`,
/// `name.1` becomes `name.2`... and the oldest beyond `backups` is dropped). Only a single line
/// longer than `maxBytes` is split, into pieces of `maxBytes` each in a file of its own. An
/// unfinished line is held until its newline arrives, `flush()` is called, or it outgrows
/// `maxBytes`; with `maxBytes` 0 the file is never rotated and bytes are written as they come.
/// With `backups` 0 a rotation truncates the file, as supervisor's does.
///
/// With `compress` (spindled's `*_logfile_compress`) the backups are gzip files `name.1.gz` ...
/// `name.N.gz`: a rotation only renames the full file aside (the writer never waits for zlib)
/// and a background thread shifts the backups and compresses it; `waitForCompression` waits
/// for that work (spindled does before it exits).
public final class RotatingLogFile: @unchecked Sendable {
    /// The file written to.
    public let path: String
    /// The size at which the file is rotated; 0 never rotates.
    public let maxBytes: Int
    /// How many rotated files are kept.
    public let backups: Int
    /// Whether rotated files are gzipped (`name.1.gz` ...).
    public let compress: Bool

    private let lock = Lock()
    private var fd: Int32 = -1
    private var size = 0
    private var pending: [UInt8] = []

    /// Opens (creating, appending to) the file.
    /// - Parameters:
    ///   - path: The file.
    ///   - maxBytes: The rotation size; 0 for none.
    ///   - backups: The backups kept.
    ///   - compress: Whether the backups are gzipped.
    /// - Throws: `SystemError` when the file cannot be opened.
    public init(path: String, maxBytes: Int, backups: Int, compress: Bool = false) throws(SystemError) {
        self.path = path
        self.maxBytes = max(0, maxBytes)
        self.backups = max(0, backups)
        self.compress = compress
        try lock.withLock { () throws(SystemError) in try openFile(truncate: false) }
    }

    deinit { if fd >= 0 { try? closeDescriptor(fd) } }

    /// Appends output.
    /// - Parameter bytes: The bytes, in any pieces; lines may span calls.
    public func write(_ bytes: some Collection<UInt8>) {
        lock.withLock {
            if maxBytes == 0 {
                append(ArraySlice(bytes))
                return
            }
            pending.append(contentsOf: bytes)
            // Whole lines that fit the current file go out together, in one write: a line that
            // would take the file past maxBytes rotates it first (as `writeLine` does), and only
            // a line longer than maxBytes is cut, by `writeLine`.
            var start = 0
            var batchStart = 0
            func flushBatch(upTo end: Int) {
                if end > batchStart { append(pending[batchStart..<end]) }
                batchStart = end
            }
            while let newline = nextNewline(from: start) {
                let count = newline + 1 - start
                if count > maxBytes {
                    flushBatch(upTo: start)
                    writeLine(pending[start...newline])
                    batchStart = newline + 1
                } else {
                    let filled = size + (start - batchStart)
                    if filled > 0, filled + count > maxBytes {
                        flushBatch(upTo: start)
                        rotate()
                    }
                }
                start = newline + 1
            }
            flushBatch(upTo: start)
            pending.removeFirst(start)
            while pending.count >= maxBytes {
                writeLine(pending[0..<maxBytes])
                pending.removeFirst(maxBytes)
            }
        }
    }

    /// Writes an unfinished last line, if there is one.
    public func flush() {
        lock.withLock {
            if !pending.isEmpty {
                writeLine(pending[...])
                pending.removeAll()
            }
        }
    }

    /// Deletes the file and starts an empty one (supervisor's `clearProcessLogs`); backups stay.
    /// - Throws: `SystemError` when the file cannot be removed or opened again.
    public func clear() throws(SystemError) {
        try lock.withLock { () throws(SystemError) in
            pending.removeAll()
            closeFile()
            if unlink(path) != 0, errno != ENOENT { throw SystemError(call: "unlink", errno: errno, subject: path) }
            try openFile(truncate: false)
        }
    }

    /// Closes and opens the file again (after it was moved away, say).
    /// - Throws: `SystemError` when it cannot be opened.
    public func reopen() throws(SystemError) {
        try lock.withLock { () throws(SystemError) in
            closeFile()
            try openFile(truncate: false)
        }
    }

    /// Waits until the backups of every compressing log file have been written.
    /// - Parameter timeout: Seconds to wait at most; `nil` waits as long as it takes.
    /// - Returns: Whether no compression is pending.
    @discardableResult
    public static func waitForCompression(timeout: Double? = nil) -> Bool {
        LogCompressor.shared.waitUntilIdle(timeout: timeout)
    }

    /// Writes any unfinished line and closes the file; later writes are dropped.
    public func close() {
        flush()
        lock.withLock { closeFile() }
    }

    // MARK: - Under the lock

    /// The index of the first newline in `pending` at or after `start` (memchr), or nil.
    private func nextNewline(from start: Int) -> Int? {
        pending.withUnsafeBufferPointer { buffer -> Int? in
            guard start < buffer.count, let base = buffer.baseAddress,
                let found = memchr(base + start, Int32(UInt8(ascii: "\n")), buffer.count - start)
            else { return nil }
            return base.distance(to: found.assumingMemoryBound(to: UInt8.self))
        }
    }

    private func openFile(truncate: Bool) throws(SystemError) {
        let flags = O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | (truncate ? O_TRUNC : 0)
        let opened = open(path, flags, 0o644)
        if opened < 0 { throw SystemError(call: "open", errno: errno, subject: path) }
        fd = opened
        var info = stat()
        size = fstat(opened, &info) == 0 ? Int(info.st_size) : 0
    }

    private func closeFile() {
        if fd >= 0 { try? closeDescriptor(fd) }
        fd = -1
    }

    /// Writes one line (or one piece of an over-long line), rotating first when it does not fit.
    private func writeLine(_ line: ArraySlice<UInt8>) {
        if line.count > maxBytes {
            var offset = line.startIndex
            while offset < line.endIndex {
                let end = min(offset + maxBytes, line.endIndex)
                writeLine(line[offset..<end])
                offset = end
            }
            return
        }
        if size > 0, size + line.count > maxBytes { rotate() }
        append(line)
    }

    private func append(_ bytes: ArraySlice<UInt8>) {
        guard fd >= 0, !bytes.isEmpty else { return }
        var offset = 0
        while offset < bytes.count {
            let n = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress! + offset, $0.count - offset) }
            if n < 0 {
                if errno == EINTR { continue }
                return
            }
            offset += n
        }
        size += bytes.count
    }

    private func rotate() {
        closeFile()
        if backups > 0, compress {
            let rotated = LogCompressor.shared.rotatedName(for: path)
            if rename(path, rotated) == 0 {
                LogCompressor.shared.enqueue(.init(path: path, rotated: rotated, backups: backups))
            }
        } else if backups > 0 {
            for i in stride(from: backups - 1, through: 1, by: -1) {
                let source = "\(path).\(i)"
                if access(source, F_OK) == 0 { _ = rename(source, "\(path).\(i + 1)") }
            }
            _ = rename(path, path + ".1")
        }
        do {
            try openFile(truncate: true)
        } catch {
            fd = -1
        }
    }
}
