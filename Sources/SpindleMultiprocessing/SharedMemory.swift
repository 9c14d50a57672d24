import CSpindle
import Glibc
import SpindleSystem

/// A block of memory shared between processes by name (Python's
/// `multiprocessing.shared_memory.SharedMemory`): a POSIX shared memory object (`shm_open`)
/// mapped into this process.
///
/// One process creates it (`create: true`), others attach to it by `name` (pass the name to a
/// worker function as a plain `String`). Every process calls `close()` when it is done with its
/// mapping, and exactly one calls `unlink()` to remove the name; the memory is freed when the
/// name is gone and the last mapping is closed. As in Python, a block created here is registered
/// with the `ResourceTracker`, which unlinks it if the program ends (or crashes) without doing so.
public final class SharedMemory: @unchecked Sendable, CustomStringConvertible {
    /// The name other processes attach with (without the leading slash, as in Python).
    public let name: String
    /// The size of the mapping, in bytes.
    public let size: Int
    /// The mapped bytes (Python's `buf`). Valid until `close()`; the memory starts zeroed.
    public let buffer: UnsafeMutableRawBufferPointer

    private let closedFlag = Locked(false)

    /// Creates a new block, or attaches to an existing one.
    /// - Parameters:
    ///   - name: The block's name; `nil` with `create` picks a new unique name ("psm_…").
    ///   - create: Whether to create the block (failing when the name exists) rather than attach.
    ///   - size: The size of a new block in bytes (at least 1); ignored when attaching, where the
    ///     block's own size is used.
    /// - Throws: `MultiprocessingError.invalidState` for a bad size or a missing name;
    ///   `.system` with `EEXIST` (creating a name that exists), `ENOENT` (attaching to a name
    ///   that does not), or the errno of another failed call.
    public init(name: String? = nil, create: Bool = false, size: Int = 0) throws(MultiprocessingError) {
        if create && size <= 0 { throw .invalidState("'size' must be a positive number different from zero") }
        guard let chosen = name ?? (create ? Self.uniqueName() : nil) else {
            throw .invalidState("'name' can only be nil if create is true")
        }
        let path = chosen.hasPrefix("/") ? chosen : "/" + chosen
        let fd = spindle_mp_shm_open(path, create ? 1 : 0, create ? 1 : 0, 0o600)
        if fd < 0 { throw .system(SystemError(call: "shm_open", errno: errno, subject: path)) }
        defer { try? closeDescriptor(fd) }
        var mappedSize = size
        if create {
            if spindle_mp_truncate(fd, Int64(size)) != 0 {
                let code = errno
                _ = spindle_mp_shm_unlink(path)
                throw .system(SystemError(call: "ftruncate", errno: code, subject: path))
            }
        } else {
            let existing = spindle_mp_file_size(fd)
            if existing < 0 { throw .system(SystemError(call: "fstat", errno: errno, subject: path)) }
            guard existing > 0 else { throw .invalidState("the shared memory '\(chosen)' is empty") }
            mappedSize = Int(existing)
        }
        guard let address = spindle_mp_map_shared(fd, mappedSize) else {
            let code = errno
            if create { _ = spindle_mp_shm_unlink(path) }
            throw .system(SystemError(call: "mmap", errno: code, subject: path))
        }
        if create {
            do throws(MultiprocessingError) {
                try ResourceTracker.register(String(path.dropFirst()))
            } catch {
                _ = spindle_mp_unmap(address, mappedSize)
                _ = spindle_mp_shm_unlink(path)
                throw error
            }
        }
        self.name = String(path.dropFirst())
        self.size = mappedSize
        buffer = UnsafeMutableRawBufferPointer(start: address, count: mappedSize)
    }

    deinit { close() }

    private static func uniqueName() -> String {
        let random = UInt64.random(in: 0...UInt64.max)
        return "psm_\(getpid())_\(String(random, radix: 16))"
    }

    /// Whether `close()` was called.
    public var closed: Bool { closedFlag.withLock { $0 } }

    public var description: String { "SharedMemory(name='\(name)', size=\(size))" }

    /// Unmaps the memory from this process; `buffer` must not be used afterwards. The block
    /// itself lives on for the others. Closing twice does nothing.
    public func close() {
        let first = closedFlag.withLock { closed -> Bool in
            defer { closed = true }
            return !closed
        }
        if first { _ = spindle_mp_unmap(buffer.baseAddress, size) }
    }

    /// Removes the block's name, so that no other process can attach; the memory is freed when
    /// every process has closed it (Python's `unlink`).
    /// - Throws: `MultiprocessingError.system` (`ENOENT` when it was already unlinked).
    public func unlink() throws(MultiprocessingError) {
        let failed = spindle_mp_shm_unlink("/" + name) != 0
        let code = errno
        try? ResourceTracker.unregister(name)
        if failed { throw .system(SystemError(call: "shm_unlink", errno: code, subject: "/" + name)) }
    }
}
