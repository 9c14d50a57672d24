/// One plain value in shared memory (Python's `multiprocessing.Value`), optionally with a lock.
///
/// `T` is a bitwise-copyable type (`Int`, `Double`, `UInt8`, a struct of such): its bytes are
/// the same in every process. With `lock: true` (the default, as in Python) a `ProcessRLock`
/// sits next to the value; `value` takes it for each read and write, and `withLock` holds it
/// across a read-modify-write such as `counter.withLock { $0 += 1 }`. With `lock: false` there
/// is no lock (Python's `RawValue`). Pass it to workers as (part of) their argument: it is
/// `Codable`, and what crosses is the block's name. The block is unlinked when the value that
/// created it is freed.
public final class SharedValue<T: BitwiseCopyable>: @unchecked Sendable, Codable {
    /// The lock, when the value was made with one (Python's `get_lock()`).
    public let lock: ProcessRLock?

    private let region: SharedRegion
    private let pointer: UnsafeMutablePointer<T>

    private static var valueOffset: Int {
        let alignment = MemoryLayout<T>.alignment
        return (ProcessRLock.size + alignment - 1) / alignment * alignment
    }

    private static var blockSize: Int { valueOffset + max(1, MemoryLayout<T>.size) }

    private init(region: SharedRegion, locked: Bool) throws(MultiprocessingError) {
        self.region = region
        lock = locked ? try ProcessRLock(in: region.memory, offset: 0) : nil
        pointer = region.address(Self.valueOffset).bindMemory(to: T.self, capacity: 1)
    }

    /// Puts `initial` in a new shared memory block.
    /// - Parameters:
    ///   - initial: The value.
    ///   - lock: Whether to make a lock with it (Python's default `lock=True`).
    /// - Throws: `MultiprocessingError.system` when the block cannot be made.
    public convenience init(_ initial: T, lock: Bool = true) throws(MultiprocessingError) {
        let region = try SharedRegion.fresh(size: Self.blockSize)
        try self.init(region: region, locked: lock)
        pointer.initialize(to: initial)
    }

    private enum CodingKeys: String, CodingKey {
        case block, locked
    }

    private static var typeDetail: String { "\(T.self):\(MemoryLayout<T>.size)" }

    /// Attaches to the value another process encoded (a worker's argument).
    /// - Parameter decoder: The decoder.
    /// - Throws: `DecodingError` when the block is gone or holds another type.
    public convenience init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let reference = try container.decode(SharedRegion.Reference.self, forKey: .block)
        let region = try SharedRegion.attach(
            reference, kind: "SharedValue", detail: Self.typeDetail, size: Self.blockSize,
            alignment: 1, codingPath: decoder.codingPath)
        try self.init(region: region, locked: try container.decode(Bool.self, forKey: .locked))
    }

    /// Encodes the value as its block's name, its type and whether it has a lock.
    /// - Parameter encoder: The encoder.
    /// - Throws: What the encoder throws.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(region.reference(kind: "SharedValue", detail: Self.typeDetail), forKey: .block)
        try container.encode(lock != nil, forKey: .locked)
    }

    /// The shared memory block the value lives in.
    public var memory: SharedMemory { region.memory }

    /// The value; with a lock, each read and each write takes it.
    public var value: T {
        get {
            guard let lock else { return pointer.pointee }
            return lock.withLock { pointer.pointee }
        }
        set {
            guard let lock else {
                pointer.pointee = newValue
                return
            }
            lock.withLock { pointer.pointee = newValue }
        }
    }

    /// Runs `body` on the value with the lock held (Python's `with value.get_lock():`), so that
    /// no other process reads or writes it meanwhile.
    /// - Parameter body: Reads and changes the value.
    /// - Returns: What `body` returns.
    /// - Throws: What `body` throws; the lock is released either way.
    /// - Precondition: The value was made with a lock.
    public func withLock<R, Failure: Error>(_ body: (inout T) throws(Failure) -> R) throws(Failure) -> R {
        guard let lock else {
            preconditionFailure("SharedValue.withLock: this SharedValue was made with lock: false, so it has no lock")
        }
        lock.acquire()
        defer { try? lock.release() }
        return try body(&pointer.pointee)
    }
}
