import SpindleQueue
import SpindleSystem

/// A FIFO queue shared between processes (Python's `multiprocessing.Queue`): any number of
/// processes, and threads in them, put and get Codable items.
///
/// The items live in a ring of bytes in one `SharedMemory` block, each in Spindle's compact
/// Codable encoding, guarded by a mutex in the block and waited on with process-shared futexes.
/// Unlike Python's queue there is no feeder thread and no pipe: a `put` has copied the item into
/// the shared block when it returns, so a process may exit right after it (there is nothing like
/// `join_thread` or `cancel_join_thread` to call), and `qsize` counts every item put.
///
/// The queue is bounded twice: by `maxsize` items (0 for no limit) and by the `byteCapacity` of
/// its data area. A put that finds either one full waits, or throws `QueueError.full`; an item
/// that is larger than the whole data area can never fit and is an error at once.
///
/// To share it, pass it in the argument of a `WorkerProcess` or a pool task: it encodes the
/// block's name and its settings, and the child attaches to the same block. The process that
/// created the queue owns the block: its `close()` (or the queue being freed) removes the name,
/// after which no other process can attach, while those already attached go on using it. Keep the
/// creator's queue until every child has started.
///
/// A process that dies while it holds the queue's mutex (in the middle of a put or get) does not
/// leave it locked: the mutex word holds the holder's pid, and a process that waits for it longer
/// than a tenth of a second and finds that process gone takes it over. The items are never torn
/// (each is published or retired by one store), so the queue goes on with every item that was
/// put; only the unfinished-task count of a `JoinableProcessQueue` may be off by the operation
/// that died. A process that dies after taking an item from the queue has taken it: the item
/// is gone, as in Python.
public class ProcessQueue<Element: Codable & Sendable>: @unchecked Sendable, Codable, CustomStringConvertible {
    let ring: SharedRing

    /// Creates a queue in a new shared memory block.
    /// - Parameters:
    ///   - maxsize: The most items the queue holds; 0 or less for no limit but the data area.
    ///   - byteCapacity: The size of the data area in bytes (16 bytes to 2 GiB; 1 MiB by
    ///     default). Each item takes its encoded size plus 4 bytes.
    /// - Throws: `MultiprocessingError.invalidState` for a capacity out of range; `.system`
    ///   when the shared memory cannot be made.
    public convenience init(maxsize: Int = 0, byteCapacity: Int = 1 << 20) throws(MultiprocessingError) {
        try self.init(
            ring: SharedRing(maxsize: maxsize, capacity: byteCapacity, joinable: false, elementType: String(describing: Element.self)))
    }

    init(ring: SharedRing) {
        self.ring = ring
    }

    /// The name of the shared memory block that holds the items.
    public var name: String { ring.memory.name }

    /// The most items the queue holds; 0 when only the data area limits it.
    public var maxsize: Int { ring.maxsize }

    /// The size of the data area in bytes.
    public var byteCapacity: Int { ring.capacity }

    /// The queue's type, block name, maxsize and current size, for logs.
    public var description: String {
        "\(Self.self)(name: '\(name)', maxsize: \(maxsize), qsize: \(qsize)\(closed ? ", closed" : ""))"
    }

    // MARK: - Putting

    /// Puts an item at the end of the queue (Python's `put`).
    /// - Parameters:
    ///   - item: The item; it is encoded here, and decoded by the process that gets it.
    ///   - block: Whether to wait for room when the queue is full.
    ///   - timeout: With `block`, the seconds to wait at most (`nil`: as long as it takes).
    /// - Throws: `QueueError.full` when there is no room (in time);
    ///   `QueueError.invalidArgument` for a negative timeout;
    ///   `MultiprocessingError.invalidState` when this handle is closed or the item is larger
    ///   than the data area; `MultiprocessingError.encodingFailed` when the item cannot be encoded.
    public func put(_ item: Element, block: Bool = true, timeout: Double? = nil) throws {
        let deadline = try Self.deadline(block: block, timeout: timeout)
        let payload: [UInt8]
        do {
            payload = try CompactEncoder().encode(item)
        } catch {
            throw MultiprocessingError.encodingFailed("\(error)")
        }
        try ring.put(payload, block: block, deadline: deadline)
    }

    /// Puts an item without waiting (Python's `put_nowait`).
    /// - Parameter item: The item.
    /// - Throws: `QueueError.full` when there is no room now; otherwise as `put`.
    public func putNowait(_ item: Element) throws {
        try put(item, block: false)
    }

    // MARK: - Getting

    /// Removes and returns the oldest item (Python's `get`).
    /// - Parameters:
    ///   - block: Whether to wait for an item when the queue is empty.
    ///   - timeout: With `block`, the seconds to wait at most (`nil`: as long as it takes).
    /// - Returns: The item.
    /// - Throws: `QueueError.empty` when there is no item (in time);
    ///   `QueueError.invalidArgument` for a negative timeout;
    ///   `MultiprocessingError.invalidState` when this handle is closed;
    ///   `MultiprocessingError.decodingFailed` when the item is not an `Element` (it has been
    ///   taken off the queue, as in Python, so that it does not block every other consumer).
    public func get(block: Bool = true, timeout: Double? = nil) throws -> Element {
        let deadline = try Self.deadline(block: block, timeout: timeout)
        let payload = try ring.get(block: block, deadline: deadline)
        do {
            return try CompactDecoder().decode(Element.self, from: payload)
        } catch {
            throw MultiprocessingError.decodingFailed("\(error)")
        }
    }

    /// Removes and returns the oldest item without waiting (Python's `get_nowait`).
    /// - Returns: The item.
    /// - Throws: `QueueError.empty` when there is no item now; otherwise as `get`.
    public func getNowait() throws -> Element {
        try get(block: false)
    }

    // MARK: - State

    /// The number of items in the queue (Python's `qsize`); others may change it at once.
    public var qsize: Int { ring.count }

    /// Whether the queue holds no item (Python's `empty`); others may change it at once.
    public var empty: Bool { ring.count == 0 }

    /// Whether the queue holds `maxsize` items (Python's `full`). A put may also wait when the
    /// queue is not full, for room in the data area.
    public var full: Bool { ring.maxsize > 0 && ring.count >= ring.maxsize }

    /// Whether `close()` was called on this handle.
    public var closed: Bool { ring.closed }

    /// Closes this process's handle on the queue (Python's `close`): its puts and gets throw from
    /// now on, and those waiting in other threads of this process wake and throw. The items stay
    /// for the other processes. In the process that created the queue it also removes the shared
    /// block's name, so that no process attaches any more; the memory goes when the last process
    /// frees its queue. Closing twice does nothing.
    public func close() {
        ring.close()
    }

    /// Takes the queue's mutex and never releases it: for the fixture test of a process that
    /// dies holding it.
    package func holdMutexForTesting() {
        ring.holdMutexForTesting()
    }

    // MARK: - Codable

    private enum CodingKeys: String, CodingKey {
        case name, maxsize, byteCapacity, joinable
    }

    /// Encodes the queue for another process: the block's name and the queue's settings.
    /// - Parameter encoder: The encoder (a `WorkerProcess` argument, a pool task, or any other).
    /// - Throws: `EncodingError.invalidValue` when this handle is closed.
    public func encode(to encoder: any Encoder) throws {
        if closed {
            throw EncodingError.invalidValue(
                name, .init(codingPath: encoder.codingPath, debugDescription: "a closed process queue cannot be passed on"))
        }
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(name, forKey: .name)
        try container.encode(maxsize, forKey: .maxsize)
        try container.encode(byteCapacity, forKey: .byteCapacity)
        try container.encode(ring.joinable, forKey: .joinable)
    }

    /// Attaches to the queue another process encoded.
    /// - Parameter decoder: The decoder.
    /// - Throws: `DecodingError.dataCorrupted` when the block is gone (its creator closed the
    ///   queue) or is not a queue of `Element`s with these settings.
    public required init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let name = try container.decode(String.self, forKey: .name)
        let maxsize = try container.decode(Int.self, forKey: .maxsize)
        let capacity = try container.decode(Int.self, forKey: .byteCapacity)
        do {
            ring = try SharedRing(attaching: name, maxsize: maxsize, capacity: capacity, elementType: String(describing: Element.self))
        } catch {
            throw DecodingError.dataCorrupted(
                .init(codingPath: decoder.codingPath, debugDescription: "cannot attach to the process queue '\(name)': \(error)"))
        }
    }

    // MARK: - Helpers

    /// The deadline of a call, after checking its timeout as Python's `queue` does.
    static func deadline(block: Bool, timeout: Double?) throws(QueueError) -> Deadline {
        guard block else { return .now }
        if let timeout, timeout < 0 || timeout.isNaN {
            throw QueueError.invalidArgument("'timeout' must be a non-negative number, not \(timeout)")
        }
        return .after(seconds: timeout)
    }
}
