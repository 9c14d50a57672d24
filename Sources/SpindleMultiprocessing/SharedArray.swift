/// A fixed-size array of plain values in shared memory (Python's `multiprocessing.Array`),
/// optionally with a lock.
///
/// `T` is a bitwise-copyable type (`Int`, `Double`, `UInt8`, a struct of such). With
/// `lock: true` (the default, as in Python) a `ProcessRLock` sits in the block; each subscript
/// read and write takes it, and `withLock` holds it across several (`withLock { $0[0] += 1 }`).
/// With `lock: false` there is no lock (Python's `RawArray`). Pass it to workers as (part of)
/// their argument: it is `Codable`, and what crosses is the block's name. The block is unlinked
/// when the array that created it is freed.
public final class SharedArray<T: BitwiseCopyable>: @unchecked Sendable, Codable, RandomAccessCollection {
    /// The lock, when the array was made with one (Python's `get_lock()`).
    public let lock: ProcessRLock?
    /// The number of elements.
    public let count: Int

    private let region: SharedRegion
    private let elements: UnsafeMutablePointer<T>

    private static var elementsOffset: Int {
        let alignment = MemoryLayout<T>.alignment
        return (ProcessRLock.size + 8 + alignment - 1) / alignment * alignment
    }

    private static func blockSize(_ count: Int) -> Int {
        elementsOffset + Swift.max(1, MemoryLayout<T>.stride * count)
    }

    private init(region: SharedRegion, locked: Bool, count: Int) throws(MultiprocessingError) {
        self.region = region
        self.count = count
        lock = locked ? try ProcessRLock(in: region.memory, offset: 0) : nil
        elements = region.address(Self.elementsOffset).bindMemory(to: T.self, capacity: Swift.max(count, 1))
    }

    private static func make(count: Int, lock: Bool) throws(MultiprocessingError) -> (SharedRegion, Int) {
        guard count >= 0 else { throw .invalidState("a SharedArray cannot have a negative count (\(count))") }
        let (bytes, overflow) = MemoryLayout<T>.stride.multipliedReportingOverflow(by: count)
        guard !overflow, bytes < Int.max / 2 else { throw .invalidState("a SharedArray of \(count) \(T.self) is too large") }
        let region = try SharedRegion.fresh(size: blockSize(count))
        region.address(ProcessRLock.size).storeBytes(of: Int64(count), as: Int64.self)
        return (region, count)
    }

    /// Makes an array of `count` copies of `value` in a new shared memory block.
    /// - Parameters:
    ///   - value: The initial value of every element.
    ///   - count: The number of elements, 0 or more.
    ///   - lock: Whether to make a lock with it (Python's default `lock=True`).
    /// - Throws: `MultiprocessingError.invalidState` for a negative or huge count; `.system`
    ///   when the block cannot be made.
    public convenience init(repeating value: T, count: Int, lock: Bool = true) throws(MultiprocessingError) {
        let (region, count) = try Self.make(count: count, lock: lock)
        try self.init(region: region, locked: lock, count: count)
        elements.initialize(repeating: value, count: count)
    }

    /// Makes an array holding `values` in a new shared memory block.
    /// - Parameters:
    ///   - values: The initial elements.
    ///   - lock: Whether to make a lock with it (Python's default `lock=True`).
    /// - Throws: `MultiprocessingError.system` when the block cannot be made.
    public convenience init(_ values: some Collection<T>, lock: Bool = true) throws(MultiprocessingError) {
        let (region, count) = try Self.make(count: values.count, lock: lock)
        try self.init(region: region, locked: lock, count: count)
        _ = UnsafeMutableBufferPointer(start: elements, count: count).initialize(from: values)
    }

    private enum CodingKeys: String, CodingKey {
        case block, locked
    }

    private static var typeDetail: String { "\(T.self):\(MemoryLayout<T>.stride)" }

    /// Attaches to the array another process encoded (a worker's argument).
    /// - Parameter decoder: The decoder.
    /// - Throws: `DecodingError` when the block is gone, is too small, or holds another type.
    public convenience init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let reference = try container.decode(SharedRegion.Reference.self, forKey: .block)
        let header = try SharedRegion.attach(
            reference, kind: "SharedArray", detail: Self.typeDetail, size: Self.elementsOffset,
            alignment: 1, codingPath: decoder.codingPath)
        let stored = header.address(ProcessRLock.size).load(as: Int64.self)
        guard stored >= 0, stored <= Int64((header.memory.size - Self.elementsOffset) / Swift.max(1, MemoryLayout<T>.stride)) else {
            throw DecodingError.dataCorruptedError(
                forKey: .block, in: container,
                debugDescription: "the SharedArray block '\(reference.name)' says it holds \(stored) elements, "
                    + "more than its \(header.memory.size) bytes can")
        }
        try self.init(region: header, locked: try container.decode(Bool.self, forKey: .locked), count: Int(stored))
    }

    /// Encodes the array as its block's name, its element type and whether it has a lock.
    /// - Parameter encoder: The encoder.
    /// - Throws: What the encoder throws.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(region.reference(kind: "SharedArray", detail: Self.typeDetail), forKey: .block)
        try container.encode(lock != nil, forKey: .locked)
    }

    /// The shared memory block the array lives in.
    public var memory: SharedMemory { region.memory }

    /// The first index, 0.
    public var startIndex: Int { 0 }

    /// One past the last index, `count`.
    public var endIndex: Int { count }

    /// The element at `index`; with a lock, each read and each write takes it.
    /// - Parameter index: From 0 to `count - 1`.
    public subscript(index: Int) -> T {
        get {
            precondition(index >= 0 && index < count, "SharedArray index \(index) is out of range 0..<\(count)")
            guard let lock else { return elements[index] }
            return lock.withLock { elements[index] }
        }
        set {
            precondition(index >= 0 && index < count, "SharedArray index \(index) is out of range 0..<\(count)")
            guard let lock else {
                elements[index] = newValue
                return
            }
            lock.withLock { elements[index] = newValue }
        }
    }

    /// A copy of every element, read under the lock at once (Python's `array[:]`).
    public var values: [T] {
        guard let lock else { return Array(UnsafeBufferPointer(start: elements, count: count)) }
        return lock.withLock { Array(UnsafeBufferPointer(start: elements, count: count)) }
    }

    /// Runs `body` on the elements with the lock held, so that no other process reads or
    /// writes them meanwhile.
    /// - Parameter body: Reads and changes the elements (the buffer is valid only inside it).
    /// - Returns: What `body` returns.
    /// - Throws: What `body` throws; the lock is released either way.
    /// - Precondition: The array was made with a lock.
    public func withLock<R, Failure: Error>(
        _ body: (UnsafeMutableBufferPointer<T>) throws(Failure) -> R
    ) throws(Failure) -> R {
        guard let lock else {
            preconditionFailure("SharedArray.withLock: this SharedArray was made with lock: false, so it has no lock")
        }
        lock.acquire()
        defer { try? lock.release() }
        return try body(UnsafeMutableBufferPointer(start: elements, count: count))
    }
}
