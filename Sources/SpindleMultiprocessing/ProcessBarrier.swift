import SpindleSystem
import SpindleThreading
import Synchronization

/// A barrier shared between processes (Python's `multiprocessing.Barrier`): `parties` waiters,
/// in any processes, block in `wait` until the last one arrives; then all go on together.
///
/// Its state (a `ProcessLock`, a `ProcessCondition`, the count and the phase) lives in shared
/// memory. Make one with `ProcessBarrier(parties:)` and pass it to workers (it is `Codable`:
/// the block's name and offset cross), or create it in a caller's block with
/// `init(parties:timeout:action:in:offset:)` and attach with `init(attachingTo:offset:action:)`.
///
/// The `action` is this process's: when the last party to arrive is a process whose barrier has
/// one, it runs there, before the others are released. A closure cannot cross to another
/// process, so a barrier a worker decodes has none unless it attaches with one.
/// Errors are SpindleThreading's `BrokenBarrierError`.
public final class ProcessBarrier: @unchecked Sendable, Codable {
    /// The bytes one barrier takes in shared memory.
    public static let size = 48
    /// The alignment its offset needs.
    public static let alignment = 8

    private static let tagValue: UInt32 = 0x5350_4252  // "SPBR"
    private static let noTimeout = UInt64.max

    private enum Phase: UInt32 {
        case filling = 0, draining, resetting, broken
    }

    private let region: SharedRegion
    private let lock: ProcessLock
    private let condition: ProcessCondition
    private let action: (() throws -> Void)?

    /// How many waiters it takes to pass.
    public let parties: Int
    /// The default timeout of `wait`, in seconds; `nil` waits as long as it takes.
    public let timeout: Double?

    private var tag: UnsafeMutablePointer<Atomic<UInt32>> { region.word(4) }
    private var count: UnsafeMutablePointer<Atomic<UInt32>> { region.word(28) }
    private var phaseWord: UnsafeMutablePointer<Atomic<UInt32>> { region.word(32) }
    private var reasonWord: UnsafeMutablePointer<Atomic<UInt32>> { region.word(36) }

    private init(region: SharedRegion, action: (() throws -> Void)?) throws(MultiprocessingError) {
        self.region = region
        self.action = action
        lock = try ProcessLock(in: region.memory, offset: region.offset)
        condition = try ProcessCondition(lock: lock, in: region.memory, offset: region.offset + 8)
        parties = Int(region.word(24).pointee.load(ordering: .relaxed))
        let bits = region.address(40).assumingMemoryBound(to: Atomic<UInt64>.self).pointee.load(ordering: .relaxed)
        timeout = bits == Self.noTimeout ? nil : Double(bitPattern: bits)
    }

    private static func create(
        _ region: SharedRegion, parties: Int, timeout: Double?, action: (() throws -> Void)?
    ) throws(MultiprocessingError) -> SharedRegion {
        guard parties >= 1, parties <= Int(Int32.max) else {
            throw .invalidState("a ProcessBarrier needs at least one party, not \(parties)")
        }
        if let timeout, !(timeout >= 0) { throw .invalidState("a ProcessBarrier's timeout must be 0 or more, not \(timeout)") }
        region.word(24).pointee.store(UInt32(parties), ordering: .relaxed)
        region.address(40).assumingMemoryBound(to: Atomic<UInt64>.self).pointee.store(
            timeout.map(\.bitPattern) ?? noTimeout, ordering: .relaxed)
        region.word(4).pointee.store(tagValue, ordering: .releasing)
        return region
    }

    private static func checked(_ region: SharedRegion) throws(MultiprocessingError) -> SharedRegion {
        guard region.word(4).pointee.load(ordering: .acquiring) == tagValue else {
            throw .invalidState(
                "no ProcessBarrier was created at offset \(region.offset) of '\(region.memory.name)'")
        }
        return region
    }

    private static func place(_ memory: SharedMemory, _ offset: Int) throws(MultiprocessingError) -> SharedRegion {
        try .placed(in: memory, offset: offset, size: size, alignment: alignment, type: "ProcessBarrier")
    }

    /// Makes a barrier in a new shared memory block of its own.
    /// - Parameters:
    ///   - parties: How many waiters it takes to pass, at least 1.
    ///   - timeout: The default timeout of `wait`, in seconds; `nil` waits as long as it takes.
    ///   - action: Runs in the last waiter to arrive (when it is this process), before the others go on.
    /// - Throws: `MultiprocessingError.invalidState` for fewer than one party or a negative
    ///   timeout; `.system` when the block cannot be made.
    public convenience init(
        parties: Int, timeout: Double? = nil, action: (() throws -> Void)? = nil
    ) throws(MultiprocessingError) {
        let region = try Self.create(try .fresh(size: Self.size), parties: parties, timeout: timeout, action: action)
        try self.init(region: region, action: action)
    }

    /// Creates a barrier at `offset` of `memory`; other processes attach with `init(attachingTo:offset:action:)`.
    /// - Parameters:
    ///   - parties: How many waiters it takes to pass, at least 1.
    ///   - timeout: The default timeout of `wait`, in seconds.
    ///   - action: Runs in the last waiter to arrive (when it is this process).
    ///   - memory: The shared block; the barrier keeps it.
    ///   - offset: Where its 48 bytes are; a multiple of 8.
    /// - Throws: `MultiprocessingError.invalidState` for bad parties or timeout, or a misaligned or outside offset.
    public convenience init(
        parties: Int, timeout: Double? = nil, action: (() throws -> Void)? = nil, in memory: SharedMemory, offset: Int = 0
    ) throws(MultiprocessingError) {
        let region = try Self.create(try Self.place(memory, offset), parties: parties, timeout: timeout, action: action)
        try self.init(region: region, action: action)
    }

    /// Attaches to the barrier another process created at `offset` of `memory`.
    /// - Parameters:
    ///   - memory: The shared block.
    ///   - offset: Where the barrier was created.
    ///   - action: This process's action, run when its waiter is the last to arrive.
    /// - Throws: `MultiprocessingError.invalidState` when no barrier was created there.
    public convenience init(
        attachingTo memory: SharedMemory, offset: Int = 0, action: (() throws -> Void)? = nil
    ) throws(MultiprocessingError) {
        try self.init(region: try Self.checked(try Self.place(memory, offset)), action: action)
    }

    /// Attaches to the barrier another process encoded (a worker's argument); it has no action.
    /// - Parameter decoder: The decoder.
    /// - Throws: `DecodingError` when the block is gone or holds something else.
    public convenience init(from decoder: any Decoder) throws {
        let reference = try SharedRegion.Reference(from: decoder)
        let region = try SharedRegion.attach(
            reference, kind: "ProcessBarrier", size: Self.size, alignment: Self.alignment, codingPath: decoder.codingPath)
        try self.init(region: try Self.checked(region), action: nil)
    }

    /// Encodes the barrier as its block's name and offset.
    /// - Parameter encoder: The encoder.
    /// - Throws: What the encoder throws.
    public func encode(to encoder: any Encoder) throws {
        try region.reference(kind: "ProcessBarrier").encode(to: encoder)
    }

    private var phase: Phase {
        get { Phase(rawValue: phaseWord.pointee.load(ordering: .relaxed)) ?? .broken }
        set { phaseWord.pointee.store(newValue.rawValue, ordering: .relaxed) }
    }

    private var waiting: UInt32 {
        get { count.pointee.load(ordering: .relaxed) }
        set { count.pointee.store(newValue, ordering: .relaxed) }
    }

    /// How many are waiting now (Python's `n_waiting`).
    public var nWaiting: Int { lock.withLock { phase == .filling ? Int(waiting) : 0 } }

    /// Whether the barrier is broken (by `abort()`, a timeout or a failed action) and not yet `reset()`.
    public var broken: Bool { lock.withLock { phase == .broken } }

    /// Waits until `parties` waiters have arrived.
    /// - Parameter timeout: Seconds to wait at most; `nil` uses the barrier's `timeout`.
    /// - Returns: This waiter's arrival index, from 0 to `parties - 1` (the last runs the action).
    /// - Throws: `BrokenBarrierError` when the barrier is or becomes broken, is reset meanwhile,
    ///   the wait times out (which breaks it for everyone), or the action fails.
    public func wait(timeout: Double? = nil) throws(BrokenBarrierError) -> Int {
        let limit = timeout ?? self.timeout
        lock.acquire()
        defer { try? lock.release() }
        while phase == .draining || phase == .resetting {
            _ = try? condition.wait()
        }
        if phase == .broken { throw brokenError() }
        let index = Int(waiting)
        waiting += 1
        defer { leave() }
        if index + 1 == parties {
            do {
                try action?()
            } catch {
                breakBarrier(reason: 3)
                throw BrokenBarrierError(.actionFailed, actionError: error)
            }
            phase = .draining
            try? condition.notifyAll()
            return index
        }
        let passed = (try? condition.waitFor(timeout: limit) { phase != .filling }) ?? false
        if !passed {
            breakBarrier(reason: 2)
            throw BrokenBarrierError(.timedOut)
        }
        switch phase {
        case .resetting: throw BrokenBarrierError(.reset)
        case .broken: throw brokenError()
        case .filling, .draining: return index
        }
    }

    private func brokenError() -> BrokenBarrierError {
        switch reasonWord.pointee.load(ordering: .relaxed) {
        case 2: return BrokenBarrierError(.timedOut)
        case 3: return BrokenBarrierError(.actionFailed)
        default: return BrokenBarrierError(.aborted)
        }
    }

    /// With the lock held: one waiter leaves; the last one out of a draining or resetting
    /// barrier opens it for the next round.
    private func leave() {
        waiting -= 1
        if waiting == 0, phase == .draining || phase == .resetting {
            phase = .filling
            try? condition.notifyAll()
        }
    }

    /// With the lock held: breaks the barrier and wakes everyone.
    private func breakBarrier(reason: UInt32) {
        reasonWord.pointee.store(reason, ordering: .relaxed)
        phase = .broken
        try? condition.notifyAll()
    }

    /// Returns the barrier to its first state; waiters get `BrokenBarrierError(.reset)`.
    public func reset() {
        lock.withLock {
            if waiting > 0 {
                if phase == .filling || phase == .broken { phase = .resetting }
            } else {
                phase = .filling
            }
            reasonWord.pointee.store(0, ordering: .relaxed)
            try? condition.notifyAll()
        }
    }

    /// Breaks the barrier: current and later waiters get `BrokenBarrierError(.aborted)` until `reset()`.
    public func abort() {
        lock.withLock { breakBarrier(reason: 1) }
    }
}
