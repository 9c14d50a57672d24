import SpindleSystem
import Synchronization

/// A lock shared between processes (Python's `multiprocessing.Lock`): a futex word in a
/// `SharedMemory` block, taken and released with process-shared futex calls.
///
/// Every process makes its own `ProcessLock` over the same block and offset (the block's
/// memory starts zeroed, which is the unlocked state). As in Python, any process may release
/// it. A process that dies while holding it leaves it held.
public final class ProcessLock: @unchecked Sendable {
    /// The bytes one lock takes in shared memory.
    public static let size = 4

    private let memory: SharedMemory
    private let word: UnsafeMutablePointer<Atomic<UInt32>>

    /// Places a lock at `offset` of `memory`.
    /// - Parameters:
    ///   - memory: The shared block; the lock keeps it, and it must not be closed while in use.
    ///   - offset: Where the lock's 4 bytes are; a multiple of 4.
    /// - Throws: `MultiprocessingError.invalidState` for an offset that is misaligned or outside the block.
    public init(in memory: SharedMemory, offset: Int = 0) throws(MultiprocessingError) {
        guard offset >= 0, offset % 4 == 0, offset + Self.size <= memory.size else {
            throw .invalidState("a ProcessLock needs 4 aligned bytes inside the block, not offset \(offset) of \(memory.size)")
        }
        self.memory = memory
        word = (memory.buffer.baseAddress! + offset).assumingMemoryBound(to: Atomic<UInt32>.self)
    }

    /// Acquires the lock.
    /// - Parameters:
    ///   - blocking: Whether to wait when it is held; `false` tries once.
    ///   - timeout: Seconds to wait at most; `nil` waits as long as it takes.
    /// - Returns: Whether the lock was acquired.
    @discardableResult
    public func acquire(blocking: Bool = true, timeout: Double? = nil) -> Bool {
        if word.pointee.compareExchange(expected: 0, desired: 1, ordering: .acquiring).exchanged { return true }
        guard blocking else { return false }
        let deadline = Deadline.after(seconds: timeout.map { max(0, $0) })
        for _ in 0..<100 {
            let state = word.pointee.load(ordering: .relaxed)
            if state == 0, word.pointee.compareExchange(expected: 0, desired: 1, ordering: .acquiring).exchanged {
                return true
            }
            if state == 2 { break }
            cpuRelax()
        }
        // Mark it contended, so that the holder's release wakes a sleeper.
        while word.pointee.exchange(2, ordering: .acquiring) != 0 {
            if Futex.wait(word, expected: 2, deadline: deadline, shared: true) == .timedOut {
                return word.pointee.compareExchange(expected: 0, desired: 2, ordering: .acquiring).exchanged
            }
        }
        return true
    }

    /// Releases the lock; any process may release it.
    /// - Throws: `MultiprocessingError.invalidState` when it was not held.
    public func release() throws(MultiprocessingError) {
        let previous = word.pointee.exchange(0, ordering: .releasing)
        if previous == 0 { throw .invalidState("semaphore or lock released too many times") }
        if previous == 2 { Futex.wake(word, count: 1, shared: true) }
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
