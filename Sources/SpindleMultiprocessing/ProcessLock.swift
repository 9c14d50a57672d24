import SpindleSystem
import Synchronization

/// A lock shared between processes (Python's `multiprocessing.Lock`): a futex word in a
/// `SharedMemory` block, taken and released with process-shared futex calls.
///
/// `ProcessLock()` makes a lock in a block of its own; pass it to a worker as (part of) its
/// argument, and the worker gets the same lock (it is `Codable`: what crosses is the block's
/// name and the offset). The block is unlinked when the lock that created it is freed.
/// Alternatively, every process makes its own `ProcessLock(in:offset:)` over the same block
/// and offset (the block's memory starts zeroed, which is the unlocked state).
///
/// As in Python, any process may release it. A process that dies while holding it leaves it held.
public final class ProcessLock: @unchecked Sendable, Codable {
    /// The bytes one lock takes in shared memory.
    public static let size = 4
    /// The alignment its offset needs.
    public static let alignment = 4

    let region: SharedRegion
    private let word: UnsafeMutablePointer<Atomic<UInt32>>

    private init(region: SharedRegion) {
        self.region = region
        word = region.word(0)
    }

    /// Makes a lock in a new shared memory block of its own.
    /// - Throws: `MultiprocessingError.system` when the block cannot be made.
    public convenience init() throws(MultiprocessingError) {
        self.init(region: try .fresh(size: Self.size))
    }

    /// Places a lock at `offset` of `memory`.
    /// - Parameters:
    ///   - memory: The shared block; the lock keeps it, and it must not be closed while in use.
    ///   - offset: Where the lock's 4 bytes are; a multiple of 4.
    /// - Throws: `MultiprocessingError.invalidState` for an offset that is misaligned or outside the block.
    public convenience init(in memory: SharedMemory, offset: Int = 0) throws(MultiprocessingError) {
        self.init(region: try .placed(in: memory, offset: offset, size: Self.size, alignment: Self.alignment, type: "ProcessLock"))
    }

    /// Attaches to the lock another process encoded (a worker's argument).
    /// - Parameter decoder: The decoder.
    /// - Throws: `DecodingError` when the block is gone or holds something else.
    public convenience init(from decoder: any Decoder) throws {
        let reference = try SharedRegion.Reference(from: decoder)
        self.init(
            region: try SharedRegion.attach(
                reference, kind: "ProcessLock", size: Self.size, alignment: Self.alignment, codingPath: decoder.codingPath))
    }

    /// Encodes the lock as its block's name and offset.
    /// - Parameter encoder: The encoder.
    /// - Throws: What the encoder throws.
    public func encode(to encoder: any Encoder) throws {
        try region.reference(kind: "ProcessLock").encode(to: encoder)
    }

    /// The shared memory block the lock lives in.
    public var memory: SharedMemory { region.memory }

    /// Acquires the lock.
    /// - Parameters:
    ///   - blocking: Whether to wait when it is held; `false` tries once.
    ///   - timeout: Seconds to wait at most; `nil` waits as long as it takes.
    /// - Returns: Whether the lock was acquired.
    @discardableResult
    public func acquire(blocking: Bool = true, timeout: Double? = nil) -> Bool {
        SharedLockWord.acquire(word, blocking: blocking, timeout: timeout)
    }

    /// Releases the lock; any process may release it.
    /// - Throws: `MultiprocessingError.invalidState` when it was not held.
    public func release() throws(MultiprocessingError) {
        if !SharedLockWord.release(word) { throw .invalidState("semaphore or lock released too many times") }
    }

    /// Whether some process holds the lock.
    public var locked: Bool { word.pointee.load(ordering: .relaxed) != 0 }

    /// Runs `body` while holding the lock (Python's `with lock:`).
    /// - Parameter body: The critical section.
    /// - Returns: What `body` returns.
    /// - Throws: What `body` throws; the lock is released either way.
    public func withLock<T, Failure: Error>(_ body: () throws(Failure) -> T) throws(Failure) -> T {
        acquire()
        defer { try? release() }
        return try body()
    }
}
