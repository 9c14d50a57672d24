import SpindleSystem
import Synchronization

/// A condition variable shared between processes (Python's `multiprocessing.Condition`), over
/// a `ProcessRLock` (the default, as in Python) or a `ProcessLock`.
///
/// Its shared state follows Python's: a count of sleepers, a count of waiters that have woken
/// (or timed out), and wake tokens behind a futex sequence word. `notify(n)` hands out at most
/// `n` tokens, then, still holding the lock, waits until as many waiters have woken and takes
/// back any token left over, so no more than `n` of the waiters present at the call return
/// notified, and none that starts waiting later can take their place. Make one with
/// `ProcessCondition()` and pass it to workers (it is `Codable`: the blocks' names and offsets
/// of the condition and its lock cross), or place it with `init(lock:in:offset:)` in a block
/// every process maps (zeroed memory is a condition nobody waits on). As in Python, a process
/// that dies while waiting leaves `notify` waiting for its acknowledgement.
public final class ProcessCondition: @unchecked Sendable, Codable {
    /// The bytes the condition's own state takes in shared memory (its lock lives apart).
    public static let size = 16
    /// The alignment its offset needs.
    public static let alignment = 4

    enum Guard {
        case lock(ProcessLock)
        case rlock(ProcessRLock)
    }

    private let region: SharedRegion
    private let guardLock: Guard
    private let sequence: UnsafeMutablePointer<Atomic<UInt32>>
    private let sleepers: UnsafeMutablePointer<Atomic<UInt32>>
    private let tokens: UnsafeMutablePointer<Atomic<UInt32>>
    private let woken: UnsafeMutablePointer<Atomic<UInt32>>

    init(region: SharedRegion, guardLock: Guard) {
        self.region = region
        self.guardLock = guardLock
        sequence = region.word(0)
        sleepers = region.word(4)
        tokens = region.word(8)
        woken = region.word(12)
    }

    /// Makes a condition with a new `ProcessRLock`, both in a new shared memory block.
    /// - Throws: `MultiprocessingError.system` when the block cannot be made.
    public convenience init() throws(MultiprocessingError) {
        let region = try SharedRegion.fresh(size: 32)
        let lock = try ProcessRLock(in: region.memory, offset: 16)
        self.init(region: region, guardLock: .rlock(lock))
    }

    /// Makes a condition over `lock`, its state in a new shared memory block.
    /// - Parameter lock: The lock waiters hold.
    /// - Throws: `MultiprocessingError.system` when the block cannot be made.
    public convenience init(lock: ProcessRLock) throws(MultiprocessingError) {
        self.init(region: try .fresh(size: Self.size), guardLock: .rlock(lock))
    }

    /// Makes a condition over `lock`, its state in a new shared memory block.
    /// - Parameter lock: The lock waiters hold.
    /// - Throws: `MultiprocessingError.system` when the block cannot be made.
    public convenience init(lock: ProcessLock) throws(MultiprocessingError) {
        self.init(region: try .fresh(size: Self.size), guardLock: .lock(lock))
    }

    /// Places a condition over `lock` at `offset` of `memory`; every process does the same
    /// with the same lock and place.
    /// - Parameters:
    ///   - lock: The lock waiters hold.
    ///   - memory: The shared block; the condition keeps it.
    ///   - offset: Where its 16 bytes are; a multiple of 4.
    /// - Throws: `MultiprocessingError.invalidState` for an offset that is misaligned or outside the block.
    public convenience init(lock: ProcessRLock, in memory: SharedMemory, offset: Int = 0) throws(MultiprocessingError) {
        self.init(region: try Self.place(memory, offset), guardLock: .rlock(lock))
    }

    /// Places a condition over `lock` at `offset` of `memory`; every process does the same
    /// with the same lock and place.
    /// - Parameters:
    ///   - lock: The lock waiters hold.
    ///   - memory: The shared block; the condition keeps it.
    ///   - offset: Where its 16 bytes are; a multiple of 4.
    /// - Throws: `MultiprocessingError.invalidState` for an offset that is misaligned or outside the block.
    public convenience init(lock: ProcessLock, in memory: SharedMemory, offset: Int = 0) throws(MultiprocessingError) {
        self.init(region: try Self.place(memory, offset), guardLock: .lock(lock))
    }

    private static func place(_ memory: SharedMemory, _ offset: Int) throws(MultiprocessingError) -> SharedRegion {
        try .placed(in: memory, offset: offset, size: size, alignment: alignment, type: "ProcessCondition")
    }

    private enum CodingKeys: String, CodingKey {
        case state, lockKind, lock
    }

    /// Attaches to the condition (and its lock) another process encoded (a worker's argument).
    /// - Parameter decoder: The decoder.
    /// - Throws: `DecodingError` when a block is gone or holds something else.
    public convenience init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let reference = try container.decode(SharedRegion.Reference.self, forKey: .state)
        let region = try SharedRegion.attach(
            reference, kind: "ProcessCondition", size: Self.size, alignment: Self.alignment, codingPath: decoder.codingPath)
        let kind = try container.decode(String.self, forKey: .lockKind)
        switch kind {
        case "ProcessRLock": self.init(region: region, guardLock: .rlock(try container.decode(ProcessRLock.self, forKey: .lock)))
        case "ProcessLock": self.init(region: region, guardLock: .lock(try container.decode(ProcessLock.self, forKey: .lock)))
        default:
            throw DecodingError.dataCorruptedError(
                forKey: .lockKind, in: container, debugDescription: "a ProcessCondition's lock cannot be a '\(kind)'")
        }
    }

    /// Encodes the condition as its block's name and offset, and its lock's.
    /// - Parameter encoder: The encoder.
    /// - Throws: What the encoder throws.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(region.reference(kind: "ProcessCondition"), forKey: .state)
        switch guardLock {
        case .rlock(let lock):
            try container.encode("ProcessRLock", forKey: .lockKind)
            try container.encode(lock, forKey: .lock)
        case .lock(let lock):
            try container.encode("ProcessLock", forKey: .lockKind)
            try container.encode(lock, forKey: .lock)
        }
    }

    // MARK: - The lock

    /// The condition's lock when it is a `ProcessRLock`.
    public var rlock: ProcessRLock? {
        if case .rlock(let lock) = guardLock { return lock }
        return nil
    }

    /// The condition's lock when it is a `ProcessLock`.
    public var lock: ProcessLock? {
        if case .lock(let lock) = guardLock { return lock }
        return nil
    }

    /// Acquires the condition's lock.
    /// - Parameters:
    ///   - blocking: Whether to wait for it; `false` tries once.
    ///   - timeout: Seconds to wait at most; `nil` waits as long as it takes.
    /// - Returns: Whether the lock was acquired.
    @discardableResult
    public func acquire(blocking: Bool = true, timeout: Double? = nil) -> Bool {
        switch guardLock {
        case .rlock(let lock): return lock.acquire(blocking: blocking, timeout: timeout)
        case .lock(let lock): return lock.acquire(blocking: blocking, timeout: timeout)
        }
    }

    /// Releases the condition's lock.
    /// - Throws: `MultiprocessingError.invalidState` when it was not held (by this thread, for a `ProcessRLock`).
    public func release() throws(MultiprocessingError) {
        switch guardLock {
        case .rlock(let lock): try lock.release()
        case .lock(let lock): try lock.release()
        }
    }

    /// Runs `body` while holding the condition's lock (Python's `with condition:`).
    /// - Parameter body: The critical section.
    /// - Returns: What `body` returns.
    /// - Throws: What `body` throws; the lock is released either way.
    public func withLock<T, Failure: Error>(_ body: () throws(Failure) -> T) throws(Failure) -> T {
        acquire()
        defer { try? release() }
        return try body()
    }

    /// Whether the caller holds the lock: for a `ProcessRLock` this thread, for a `ProcessLock`
    /// anyone (it has no owner).
    private var held: Bool {
        switch guardLock {
        case .rlock(let lock): return lock.isMine
        case .lock(let lock): return lock.locked
        }
    }

    // MARK: - Waiting and notifying

    /// Releases the lock, waits for a notification, and takes the lock again before returning.
    /// - Parameter timeout: Seconds to wait at most; `nil` waits as long as it takes.
    /// - Returns: Whether a notification arrived (`false` when the timeout passed first).
    /// - Throws: `MultiprocessingError.invalidState` when the caller does not hold the lock.
    @discardableResult
    public func wait(timeout: Double? = nil) throws(MultiprocessingError) -> Bool {
        guard held else { throw .invalidState("cannot wait on un-acquired lock") }
        _ = sleepers.pointee.wrappingAdd(1, ordering: .sequentiallyConsistent)
        let saved: UInt32
        switch guardLock {
        case .rlock(let lock): saved = lock.releaseAll()
        case .lock(let lock):
            saved = 1
            try lock.release()
        }
        let deadline = Deadline.after(seconds: timeout.map { max(0, $0) })
        var notified = false
        while true {
            let seen = sequence.pointee.load(ordering: .sequentiallyConsistent)
            if takeToken() {
                notified = true
                break
            }
            if Futex.wait(sequence, expected: seen, deadline: deadline, shared: true) == .timedOut || deadline.hasPassed {
                notified = takeToken()
                break
            }
        }
        // The acknowledgement a notifier waits for (and, for a timeout, what the next notify
        // subtracts from the sleepers).
        _ = woken.pointee.wrappingAdd(1, ordering: .sequentiallyConsistent)
        Futex.wake(woken, count: 1, shared: true)
        switch guardLock {
        case .rlock(let lock): lock.acquireRestoring(saved)
        case .lock(let lock): lock.acquire()
        }
        return notified
    }

    private func takeToken() -> Bool {
        decrement(tokens)
    }

    /// Takes one from a counter that is above zero; returns whether it could.
    private func decrement(_ word: UnsafeMutablePointer<Atomic<UInt32>>) -> Bool {
        word.pointee.decrementIfPositive()
    }

    /// Waits until `predicate` holds (Python's `wait_for`); the predicate runs with the lock held.
    /// - Parameters:
    ///   - timeout: Seconds to wait at most in all; `nil` waits as long as it takes.
    ///   - predicate: The condition awaited.
    /// - Returns: The predicate's last value.
    /// - Throws: `MultiprocessingError.invalidState` when the caller does not hold the lock.
    public func waitFor(timeout: Double? = nil, _ predicate: () -> Bool) throws(MultiprocessingError) -> Bool {
        var result = predicate()
        let deadline = Deadline.after(seconds: timeout.map { max(0, $0) })
        while !result {
            let remaining = deadline.remainingSeconds
            if let remaining, remaining <= 0 { break }
            try wait(timeout: remaining)
            result = predicate()
        }
        return result
    }

    /// Wakes up to `n` waiters, in any process; each returns once it has the lock again.
    ///
    /// It returns when the woken waiters have left their sleep (they then wait for the lock).
    /// - Parameter n: How many at most.
    /// - Throws: `MultiprocessingError.invalidState` when the caller does not hold the lock.
    public func notify(_ n: Int = 1) throws(MultiprocessingError) {
        guard held else { throw .invalidState("cannot notify on un-acquired lock") }
        // Waiters that timed out since the last notify are sleepers no more.
        while decrement(woken) {
            _ = decrement(sleepers)
        }
        var count: UInt32 = 0
        while Int(count) < n, decrement(sleepers) {
            count += 1
        }
        guard count > 0 else { return }
        _ = tokens.pointee.wrappingAdd(count, ordering: .sequentiallyConsistent)
        _ = sequence.pointee.wrappingAdd(1, ordering: .sequentiallyConsistent)
        Futex.wake(sequence, count: Int32(clamping: Int(count)), shared: true)
        for _ in 0..<count {
            while !decrement(woken) {
                _ = Futex.wait(woken, expected: 0, shared: true)
            }
        }
        // A token left by a waiter that timed out meanwhile goes back, so that no later waiter takes it.
        tokens.pointee.store(0, ordering: .sequentiallyConsistent)
    }

    /// Wakes every waiter (Python's `notify_all`).
    /// - Throws: `MultiprocessingError.invalidState` when the caller does not hold the lock.
    public func notifyAll() throws(MultiprocessingError) {
        try notify(Int(Int32.max))
    }
}
