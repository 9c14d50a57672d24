import CSpindle
import Glibc
import SpindleSystem

/// Moves bytes between this process and a child's (or a pipeline's) pipes all at once: writes
/// input to one pipe while it reads any number of others, so that no pipe fills up and blocks
/// the children. Used by `Popen.communicate` and by envoy's pipelines.
///
/// What it has read is kept across runs, so a run cut short by a deadline can be resumed.
package final class IOPump: @unchecked Sendable {
    private var writer: PipeWriter?
    private var input: [UInt8]
    private var inputOffset = 0
    private var readers: [PipeReader?]
    private var buffers: [[UInt8]]
    /// Per reader: where bytes go as they arrive instead of being kept (for streaming).
    private let sinks: [(([UInt8]) -> Void)?]
    private var scratch = [UInt8](repeating: 0, count: 65536)

    /// Prepares a pump.
    /// - Parameters:
    ///   - writer: The pipe to write `input` to, closed once it is written (at once without input).
    ///   - input: The bytes to write.
    ///   - readers: The pipes to read to their end (`nil` entries keep their index and stay empty).
    ///   - sinks: Per reader, a function that receives the bytes instead of the buffer.
    package init(
        writer: PipeWriter?, input: [UInt8]?, readers: [PipeReader?], sinks: [(([UInt8]) -> Void)?]? = nil
    ) {
        self.writer = writer
        self.input = input ?? []
        self.readers = readers
        self.sinks = sinks ?? Array(repeating: nil, count: readers.count)
        buffers = readers.map { $0?.takePending() ?? [] }
        for (index, bytes) in buffers.enumerated() where !bytes.isEmpty {
            if let sink = self.sinks[index] {
                sink(bytes)
                buffers[index] = []
            }
        }
        for fd in [writer?.fileDescriptor] + readers.map({ $0?.fileDescriptor }) {
            if let fd, fd >= 0 { _ = fcntlSetNonBlocking(fd) }
        }
    }

    /// Pumps until every stream is done or the deadline passes.
    /// - Parameter deadline: When to stop.
    /// - Returns: `true` when every stream is done, `false` when the deadline came first.
    package func run(until deadline: Deadline) -> Bool {
        while true {
            var entries: [pollfd] = []
            var roles: [Int] = []  // -1: the writer; otherwise a reader's index
            if let writer, !writer.isClosed {
                if inputOffset < input.count {
                    entries.append(pollfd(fd: writer.fileDescriptor, events: Int16(POLLOUT), revents: 0))
                    roles.append(-1)
                } else {
                    writer.close()
                }
            }
            for (index, reader) in readers.enumerated() {
                if let reader, !reader.isClosed {
                    entries.append(pollfd(fd: reader.fileDescriptor, events: Int16(POLLIN), revents: 0))
                    roles.append(index)
                }
            }
            if entries.isEmpty { return true }
            let left = deadline.remainingSeconds
            if let left, left <= 0 { return false }
            let ms = left.map { Int32(Swift.min(($0 * 1000).rounded(.up), 3_600_000)) } ?? -1
            let ready = Glibc.poll(&entries, nfds_t(entries.count), ms)
            if ready < 0 {
                if errno == EINTR { continue }
                return true
            }
            for (entry, role) in zip(entries, roles) where entry.revents != 0 {
                if role < 0 { writeSome() } else { readSome(role) }
            }
        }
    }

    /// What has been read from reader `index` (and not yet taken).
    /// - Parameter index: The reader's index.
    /// - Returns: The bytes.
    package func output(_ index: Int) -> [UInt8] { buffers[index] }

    /// Drops the bytes read so far (after they have been handed out).
    package func clear() {
        for index in buffers.indices { buffers[index] = [] }
        input = []
    }

    private func writeSome() {
        guard let writer else { return }
        let fd = writer.fileDescriptor
        let end = Swift.min(input.count, inputOffset + 65536)
        let n = input[inputOffset..<end].withUnsafeBytes { raw in
            spindle_write_nosigpipe(fd, raw.baseAddress, raw.count)
        }
        if n > 0 { inputOffset += n }
        // EPIPE (the child stopped reading) or the last byte written: close.
        if (n < 0 && errno != EAGAIN && errno != EINTR) || inputOffset >= input.count { writer.close() }
    }

    private func readSome(_ index: Int) {
        guard let reader = readers[index] else { return }
        let fd = reader.fileDescriptor
        let n = scratch.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
        if n > 0 {
            if let sink = sinks[index] {
                sink(Array(scratch[0..<n]))
            } else {
                buffers[index].append(contentsOf: scratch[0..<n])
            }
        } else if n == 0 || (errno != EAGAIN && errno != EINTR) {
            reader.close()
        }
    }
}
