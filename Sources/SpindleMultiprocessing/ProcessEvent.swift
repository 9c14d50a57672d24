import SpindleSystem
import Synchronization

/// An event shared between processes (Python's `multiprocessing.Event`): a flag that `set()`
/// raises, `clear()` lowers, and `wait` waits for.
///
/// Make one with `ProcessEvent()` and pass it to workers (it is `Codable`: the block's name
/// and offset cross), or place it with `ProcessEvent(in:offset:)` in a block every process
/// maps (zeroed memory is a cleared event).
public final class ProcessEvent: @unchecked Sendable, Codable {
    /// The bytes one event takes in shared memory: the flag and the number of sleepers.
    public static let size = 8
    /// The alignment its offset needs.
    public static let alignment = 4

    private let region: SharedRegion
    private let flag: UnsafeMutablePointer<Atomic<UInt32>>
    private let sleepers: UnsafeMutablePointer<Atomic<UInt32>>

    private init(region: SharedRegion) {
        self.region = region
        flag = region.word(0)
        sleepers = region.word(4)
    }

    /// Makes a cleared event in a new shared memory block of its own.
    /// - Throws: `MultiprocessingError.system` when the block cannot be made.
    public convenience init() throws(MultiprocessingError) {
        self.init(region: try .fresh(size: Self.size))
    }

    /// Places an event at `offset` of `memory`.
    /// - Parameters:
    ///   - memory: The shared block; the event keeps it.
    ///   - offset: Where its 8 bytes are; a multiple of 4.
    /// - Throws: `MultiprocessingError.invalidState` for an offset that is misaligned or outside the block.
    public convenience init(in memory: SharedMemory, offset: Int = 0) throws(MultiprocessingError) {
        self.init(region: try .placed(in: memory, offset: offset, size: Self.size, alignment: Self.alignment, type: "ProcessEvent"))
    }

    /// Attaches to the event another process encoded (a worker's argument).
    /// - Parameter decoder: The decoder.
    /// - Throws: `DecodingError` when the block is gone or holds something else.
    public convenience init(from decoder: any Decoder) throws {
        let reference = try SharedRegion.Reference(from: decoder)
        self.init(
            region: try SharedRegion.attach(
                reference, kind: "ProcessEvent", size: Self.size, alignment: Self.alignment, codingPath: decoder.codingPath))
    }

    /// Encodes the event as its block's name and offset.
    /// - Parameter encoder: The encoder.
    /// - Throws: What the encoder throws.
    public func encode(to encoder: any Encoder) throws {
        try region.reference(kind: "ProcessEvent").encode(to: encoder)
    }

    /// Whether the flag is set (Python's `is_set()`).
    public var isSet: Bool { flag.pointee.load(ordering: .acquiring) != 0 }

    /// Sets the flag and wakes every waiter, in every process.
    public func set() {
        flag.pointee.store(1, ordering: .sequentiallyConsistent)
        if sleepers.pointee.load(ordering: .sequentiallyConsistent) > 0 {
            Futex.wake(flag, count: Int32.max, shared: true)
        }
    }

    /// Clears the flag: waits block again until the next `set()`.
    public func clear() {
        flag.pointee.store(0, ordering: .releasing)
    }

    /// Waits until the flag is set.
    /// - Parameter timeout: Seconds to wait at most; `nil` waits as long as it takes.
    /// - Returns: Whether the flag is set (`false` only when the timeout passed first).
    @discardableResult
    public func wait(timeout: Double? = nil) -> Bool {
        if isSet { return true }
        let deadline = Deadline.after(seconds: timeout.map { max(0, $0) })
        while true {
            _ = sleepers.pointee.wrappingAdd(1, ordering: .sequentiallyConsistent)
            var result = Futex.WaitResult.woken
            if flag.pointee.load(ordering: .sequentiallyConsistent) == 0 {
                result = Futex.wait(flag, expected: 0, deadline: deadline, shared: true)
            }
            _ = sleepers.pointee.wrappingSubtract(1, ordering: .sequentiallyConsistent)
            if isSet { return true }
            if result == .timedOut || deadline.hasPassed { return false }
        }
    }
}
