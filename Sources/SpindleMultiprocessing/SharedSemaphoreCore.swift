import SpindleSystem
import Synchronization

/// The shared state of `ProcessSemaphore` and `ProcessBoundedSemaphore`, 16 bytes:
/// a tag (which kind made it), the value (the futex word), the sleepers, the bound.
struct SharedSemaphoreCore: @unchecked Sendable {
    static let size = 16
    static let alignment = 4
    /// Tags written by the creating process; attaching checks them.
    static let unboundedTag: UInt32 = 0x5350_5345  // "SPSE"
    static let boundedTag: UInt32 = 0x5350_4253  // "SPBS"
    /// The largest value (Python's SEM_VALUE_MAX on Linux).
    static let maximum = Int(Int32.max)

    let region: SharedRegion
    private let tag: UnsafeMutablePointer<Atomic<UInt32>>
    private let valueWord: UnsafeMutablePointer<Atomic<UInt32>>
    private let sleepers: UnsafeMutablePointer<Atomic<UInt32>>
    private let boundWord: UnsafeMutablePointer<Atomic<UInt32>>

    init(region: SharedRegion) {
        self.region = region
        tag = region.word(0)
        valueWord = region.word(4)
        sleepers = region.word(8)
        boundWord = region.word(12)
    }

    /// Writes a new semaphore into the region.
    static func create(
        _ region: SharedRegion, value: Int, bounded: Bool, type: String
    ) throws(MultiprocessingError) -> SharedSemaphoreCore {
        guard value >= 0, value <= maximum else {
            throw .invalidState("a \(type)'s initial value must be between 0 and \(maximum), not \(value)")
        }
        let core = SharedSemaphoreCore(region: region)
        core.valueWord.pointee.store(UInt32(value), ordering: .relaxed)
        core.sleepers.pointee.store(0, ordering: .relaxed)
        core.boundWord.pointee.store(bounded ? UInt32(value) : UInt32(maximum), ordering: .relaxed)
        core.tag.pointee.store(bounded ? boundedTag : unboundedTag, ordering: .releasing)
        return core
    }

    /// Attaches to a semaphore another process created, checking its kind.
    static func attach(_ region: SharedRegion, bounded: Bool, type: String) throws(MultiprocessingError) -> SharedSemaphoreCore {
        let core = SharedSemaphoreCore(region: region)
        let found = core.tag.pointee.load(ordering: .acquiring)
        guard found == (bounded ? boundedTag : unboundedTag) else {
            let what =
                found == unboundedTag
                ? "a ProcessSemaphore" : found == boundedTag ? "a ProcessBoundedSemaphore" : "no semaphore (not created yet?)"
            throw .invalidState("expected a \(type) at offset \(region.offset) of '\(region.memory.name)', found \(what)")
        }
        return core
    }

    var value: Int { Int(valueWord.pointee.load(ordering: .relaxed)) }

    var bound: Int { Int(boundWord.pointee.load(ordering: .relaxed)) }

    private func tryTake() -> Bool {
        valueWord.pointee.decrementIfPositive()
    }

    func acquire(blocking: Bool, timeout: Double?) -> Bool {
        if tryTake() { return true }
        guard blocking else { return false }
        let deadline = Deadline.after(seconds: timeout.map { max(0, $0) })
        while true {
            _ = sleepers.pointee.wrappingAdd(1, ordering: .sequentiallyConsistent)
            let result: Futex.WaitResult
            if valueWord.pointee.load(ordering: .sequentiallyConsistent) == 0 {
                result = Futex.wait(valueWord, expected: 0, deadline: deadline, shared: true)
            } else {
                result = .woken
            }
            _ = sleepers.pointee.wrappingSubtract(1, ordering: .sequentiallyConsistent)
            if tryTake() { return true }
            if result == .timedOut || deadline.hasPassed { return false }
        }
    }

    func release(_ n: Int, type: String) throws(MultiprocessingError) {
        guard n >= 1 else { throw .invalidState("\(type).release: n must be one or more, not \(n)") }
        let limit = UInt32(bound)
        var current = valueWord.pointee.load(ordering: .relaxed)
        while true {
            guard n <= Int(limit) - Int(current) else {
                if tag.pointee.load(ordering: .relaxed) == Self.boundedTag { throw .invalidState("semaphore or lock released too many times") }
                throw .invalidState("\(type).release: the value would pass \(Self.maximum)")
            }
            let (exchanged, original) = valueWord.pointee.compareExchange(
                expected: current, desired: current + UInt32(n), ordering: .sequentiallyConsistent)
            if exchanged { break }
            current = original
        }
        if sleepers.pointee.load(ordering: .sequentiallyConsistent) > 0 {
            Futex.wake(valueWord, count: Int32(clamping: n), shared: true)
        }
    }
}
