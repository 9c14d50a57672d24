import SpindleQueue
import SpindleSystem

/// A `ProcessQueue` that counts unfinished tasks (Python's `multiprocessing.JoinableQueue`):
/// every put adds one, every `taskDone()` removes one, and `join()` waits until none is left.
///
/// The count lives in the shared block with the items, so the processes that get and finish
/// tasks and the one that joins may all be different.
public final class JoinableProcessQueue<Element: Codable & Sendable>: ProcessQueue<Element>, @unchecked Sendable {
    /// Creates a joinable queue in a new shared memory block.
    /// - Parameters:
    ///   - maxsize: The most items the queue holds; 0 or less for no limit but the data area.
    ///   - byteCapacity: The size of the data area in bytes (16 bytes to 2 GiB; 1 MiB by default).
    /// - Throws: `MultiprocessingError.invalidState` for a capacity out of range; `.system`
    ///   when the shared memory cannot be made.
    public init(maxsize: Int = 0, byteCapacity: Int = 1 << 20) throws(MultiprocessingError) {
        super.init(
            ring: try SharedRing(maxsize: maxsize, capacity: byteCapacity, joinable: true, elementType: String(describing: Element.self)))
    }

    /// Attaches to the joinable queue another process encoded.
    /// - Parameter decoder: The decoder.
    /// - Throws: `DecodingError.dataCorrupted` when the block is gone, is not a queue of
    ///   `Element`s with these settings, or is a plain `ProcessQueue`.
    public required init(from decoder: any Decoder) throws {
        try super.init(from: decoder)
        guard ring.joinable else {
            throw DecodingError.dataCorrupted(
                .init(
                    codingPath: decoder.codingPath,
                    debugDescription: "the process queue '\(name)' is a ProcessQueue, not a JoinableProcessQueue"))
        }
    }

    /// Tells the queue that a task taken from it is done (Python's `task_done`).
    /// - Throws: `QueueError.taskDoneTooManyTimes` when it is called more often than items were
    ///   put (Python's `ValueError`); `MultiprocessingError.invalidState` when this handle is closed.
    public func taskDone() throws {
        try ring.taskDone()
    }

    /// Waits until every item put has been got and marked done (Python's `join`).
    /// - Throws: `MultiprocessingError.invalidState` when this handle is closed (also while waiting).
    public func join() throws {
        _ = try ring.join(deadline: .never)
    }

    /// Waits until every item put has been got and marked done, or the timeout passes.
    /// - Parameter timeout: The seconds to wait at most; `nil` waits as long as it takes.
    /// - Returns: Whether no task was left in time.
    /// - Throws: `QueueError.invalidArgument` for a negative timeout;
    ///   `MultiprocessingError.invalidState` when this handle is closed (also while waiting).
    @discardableResult
    public func join(timeout: Double?) throws -> Bool {
        try ring.join(deadline: Self.deadline(block: true, timeout: timeout))
    }

    /// The number of items put and not yet marked done.
    public var unfinishedTasks: Int { ring.unfinished }
}
