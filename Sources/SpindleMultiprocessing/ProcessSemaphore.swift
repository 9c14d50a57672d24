/// A semaphore shared between processes (Python's `multiprocessing.Semaphore`): a counter that
/// `acquire` decrements, waiting while it is zero, and `release` increments.
///
/// Releasing never fails for being over the initial value (use `ProcessBoundedSemaphore` for that). Make one with `ProcessSemaphore(value)` and pass it to workers (it is
/// `Codable`: the block's name and offset cross), or create it in a caller's block with
/// `init(value:in:offset:)` and attach elsewhere with `init(attachingTo:offset:)`.
///
/// `ProcessBoundedSemaphore` is a subclass, as in Python.
public class ProcessSemaphore: @unchecked Sendable, Codable {
    /// The bytes one semaphore takes in shared memory.
    public static let size = SharedSemaphoreCore.size
    /// The alignment its offset needs.
    public static let alignment = SharedSemaphoreCore.alignment

    private let core: SharedSemaphoreCore

    /// Whether releasing past the initial value is an error (the bounded subclass).
    class var bounded: Bool { false }
    /// The type's name, in errors and in the block's kind tag.
    class var typeName: String { "ProcessSemaphore" }

    /// Makes a semaphore in a new shared memory block of its own.
    /// - Parameter value: The initial value (Python's default is 1).
    /// - Throws: `MultiprocessingError.invalidState` for a negative value or one over `Int32.max`;
    ///   `.system` when the block cannot be made.
    public convenience init(_ value: Int = 1) throws(MultiprocessingError) {
        try self.init(creating: try .fresh(size: Self.size), value: value)
    }

    /// Creates a semaphore at `offset` of `memory`; other processes attach with `init(attachingTo:offset:)`.
    /// - Parameters:
    ///   - value: The initial value.
    ///   - memory: The shared block; the semaphore keeps it.
    ///   - offset: Where its 16 bytes are; a multiple of 4.
    /// - Throws: `MultiprocessingError.invalidState` for a bad value or a misaligned or outside offset.
    public convenience init(value: Int = 1, in memory: SharedMemory, offset: Int = 0) throws(MultiprocessingError) {
        try self.init(creating: try Self.place(memory, offset), value: value)
    }

    /// Attaches to the semaphore another process created at `offset` of `memory`.
    /// - Parameters:
    ///   - memory: The shared block.
    ///   - offset: Where the semaphore was created.
    /// - Throws: `MultiprocessingError.invalidState` when no semaphore of this type was created there.
    public init(attachingTo memory: SharedMemory, offset: Int = 0) throws(MultiprocessingError) {
        core = try .attach(try Self.place(memory, offset), bounded: Self.bounded, type: Self.typeName)
    }

    private init(creating region: SharedRegion, value: Int) throws(MultiprocessingError) {
        core = try .create(region, value: value, bounded: Self.bounded, type: Self.typeName)
    }

    private static func place(_ memory: SharedMemory, _ offset: Int) throws(MultiprocessingError) -> SharedRegion {
        try .placed(in: memory, offset: offset, size: size, alignment: alignment, type: typeName)
    }

    /// Attaches to the semaphore another process encoded (a worker's argument).
    /// - Parameter decoder: The decoder.
    /// - Throws: `DecodingError` when the block is gone or holds something else.
    public required init(from decoder: any Decoder) throws {
        let reference = try SharedRegion.Reference(from: decoder)
        let region = try SharedRegion.attach(
            reference, kind: Self.typeName, size: Self.size, alignment: Self.alignment, codingPath: decoder.codingPath)
        core = try SharedSemaphoreCore.attach(region, bounded: Self.bounded, type: Self.typeName)
    }

    /// Encodes the semaphore as its block's name and offset.
    /// - Parameter encoder: The encoder.
    /// - Throws: What the encoder throws.
    public func encode(to encoder: any Encoder) throws {
        try core.region.reference(kind: Self.typeName).encode(to: encoder)
    }

    /// The current value (Python's `get_value()`).
    public var value: Int { core.value }

    /// Decrements the value, waiting while it is zero.
    /// - Parameters:
    ///   - blocking: Whether to wait; `false` tries once.
    ///   - timeout: Seconds to wait at most; `nil` waits as long as it takes.
    /// - Returns: Whether the value was decremented.
    @discardableResult
    public func acquire(blocking: Bool = true, timeout: Double? = nil) -> Bool {
        core.acquire(blocking: blocking, timeout: timeout)
    }

    /// Increments the value by `n`, waking up to `n` waiters.
    /// - Parameter n: How much to add, at least 1.
    /// - Throws: `MultiprocessingError.invalidState` for `n` below 1, when the value would pass
    ///   `Int32.max`, or for a bounded semaphore ("semaphore or lock released too many times")
    ///   when it would pass its initial value.
    public func release(_ n: Int = 1) throws(MultiprocessingError) {
        try core.release(n, type: Self.typeName)
    }

    /// Runs `body` between an acquire and a release (Python's `with semaphore:`).
    /// - Parameter body: The guarded section.
    /// - Returns: What `body` returns.
    /// - Throws: What `body` throws; the semaphore is released either way.
    public func withPermit<T, Failure: Error>(_ body: () throws(Failure) -> T) throws(Failure) -> T {
        acquire()
        defer { try? release() }
        return try body()
    }
}
