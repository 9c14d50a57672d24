import Glibc
import SpindleSystem
import Synchronization

/// A reentrant lock shared between processes (Python's `multiprocessing.RLock`): the thread
/// that holds it may acquire it again, and must release it as many times.
///
/// The owner is a thread of a process (its pid and kernel thread id), kept in shared memory
/// next to the lock word and the recursion count; only the owner may release it. Make one with
/// `ProcessRLock()` and pass it to workers (it is `Codable`), or place it with
/// `ProcessRLock(in:offset:)` in a block every process maps (zeroed memory is an unlocked lock).
public final class ProcessRLock: @unchecked Sendable, Codable {
    /// The bytes one lock takes in shared memory: the lock word, the count and the owner.
    public static let size = 16
    /// The alignment its offset needs.
    public static let alignment = 8

    let region: SharedRegion
    private let word: UnsafeMutablePointer<Atomic<UInt32>>
    private let count: UnsafeMutablePointer<Atomic<UInt32>>
    private let owner: UnsafeMutablePointer<Atomic<UInt64>>

    init(region: SharedRegion) {
        self.region = region
        word = region.word(0)
        count = region.word(4)
        owner = region.address(8).assumingMemoryBound(to: Atomic<UInt64>.self)
    }

    /// Makes a lock in a new shared memory block of its own.
    /// - Throws: `MultiprocessingError.system` when the block cannot be made.
    public convenience init() throws(MultiprocessingError) {
        self.init(region: try .fresh(size: Self.size))
    }

    /// Places a lock at `offset` of `memory`.
    /// - Parameters:
    ///   - memory: The shared block; the lock keeps it, and it must not be closed while in use.
    ///   - offset: Where the lock's 16 bytes are; a multiple of 8.
    /// - Throws: `MultiprocessingError.invalidState` for an offset that is misaligned or outside the block.
    public convenience init(in memory: SharedMemory, offset: Int = 0) throws(MultiprocessingError) {
        self.init(region: try .placed(in: memory, offset: offset, size: Self.size, alignment: Self.alignment, type: "ProcessRLock"))
    }

    /// Attaches to the lock another process encoded (a worker's argument).
    /// - Parameter decoder: The decoder.
    /// - Throws: `DecodingError` when the block is gone or holds something else.
    public convenience init(from decoder: any Decoder) throws {
        let reference = try SharedRegion.Reference(from: decoder)
        self.init(
            region: try SharedRegion.attach(
                reference, kind: "ProcessRLock", size: Self.size, alignment: Self.alignment, codingPath: decoder.codingPath))
    }

    /// Encodes the lock as its block's name and offset.
    /// - Parameter encoder: The encoder.
    /// - Throws: What the encoder throws.
    public func encode(to encoder: any Encoder) throws {
        try region.reference(kind: "ProcessRLock").encode(to: encoder)
    }

    /// The calling thread, as the owner field holds it: pid in the high half, thread id in the low.
    static var currentOwner: UInt64 {
        UInt64(UInt32(bitPattern: getpid())) << 32 | UInt64(UInt32(bitPattern: currentNativeThreadID))
    }

    /// Acquires the lock, or counts one more acquisition when this thread holds it.
    /// - Parameters:
    ///   - blocking: Whether to wait when another thread holds it; `false` tries once.
    ///   - timeout: Seconds to wait at most; `nil` waits as long as it takes.
    /// - Returns: Whether the lock was acquired.
    @discardableResult
    public func acquire(blocking: Bool = true, timeout: Double? = nil) -> Bool {
        let me = Self.currentOwner
        if owner.pointee.load(ordering: .relaxed) == me {
            _ = count.pointee.wrappingAdd(1, ordering: .relaxed)
            return true
        }
        guard SharedLockWord.acquire(word, blocking: blocking, timeout: timeout) else { return false }
        owner.pointee.store(me, ordering: .relaxed)
        count.pointee.store(1, ordering: .relaxed)
        return true
    }

    /// Releases one acquisition; the last one frees the lock.
    /// - Throws: `MultiprocessingError.invalidState` ("cannot release un-acquired lock") when the
    ///   calling thread does not hold it.
    public func release() throws(MultiprocessingError) {
        guard isMine else { throw .invalidState("cannot release un-acquired lock") }
        let remaining = count.pointee.wrappingSubtract(1, ordering: .relaxed).newValue
        if remaining == 0 {
            owner.pointee.store(0, ordering: .relaxed)
            _ = SharedLockWord.release(word)
        }
    }

    /// Whether the calling thread holds the lock.
    public var isMine: Bool {
        owner.pointee.load(ordering: .relaxed) == Self.currentOwner && count.pointee.load(ordering: .relaxed) > 0
    }

    /// Whether some thread of some process holds the lock.
    public var locked: Bool { word.pointee.load(ordering: .relaxed) != 0 }

    /// How many times the holder has acquired it (0 when it is free).
    public var recursionCount: Int { locked ? Int(count.pointee.load(ordering: .relaxed)) : 0 }

    /// Releases every acquisition of the calling thread at once (a condition's wait); returns the count.
    func releaseAll() -> UInt32 {
        let saved = count.pointee.load(ordering: .relaxed)
        count.pointee.store(0, ordering: .relaxed)
        owner.pointee.store(0, ordering: .relaxed)
        _ = SharedLockWord.release(word)
        return saved
    }

    /// Acquires the lock again with the count `releaseAll` returned.
    func acquireRestoring(_ saved: UInt32) {
        _ = SharedLockWord.acquire(word, blocking: true, timeout: nil)
        owner.pointee.store(Self.currentOwner, ordering: .relaxed)
        count.pointee.store(saved, ordering: .relaxed)
    }

    /// Runs `body` while holding the lock (Python's `with rlock:`).
    /// - Parameter body: The critical section.
    /// - Returns: What `body` returns.
    /// - Throws: What `body` throws; the lock is released either way.
    public func withLock<T, Failure: Error>(_ body: () throws(Failure) -> T) throws(Failure) -> T {
        acquire()
        defer { try? release() }
        return try body()
    }
}
