/// An unbounded first-in first-out queue without task tracking (Python's `queue.SimpleQueue`).
public final class SimpleQueue<Element: Sendable>: Sendable {
    private let queue = Queue<Element>()

    /// Creates an empty queue.
    public init() {}

    /// Puts an item; it never blocks.
    /// - Parameter item: The item.
    public func put(_ item: Element) {
        do {
            try queue.put(item, block: false)
        } catch {
            preconditionFailure("an unbounded SimpleQueue refused an item: \(error)")
        }
    }

    /// Puts an item (Python's `put_nowait`; the same as `put`).
    /// - Parameter item: The item.
    public func putNowait(_ item: Element) { put(item) }

    /// Removes and returns the next item.
    /// - Parameters:
    ///   - block: Whether to wait for an item.
    ///   - timeout: Seconds to wait at most; `nil` waits as long as it takes.
    /// - Returns: The item.
    /// - Throws: `QueueError.empty` when there is none (at once, or by the timeout).
    public func get(block: Bool = true, timeout: Double? = nil) throws(QueueError) -> Element {
        try queue.get(block: block, timeout: timeout)
    }

    /// Removes and returns the next item without waiting.
    /// - Returns: The item.
    /// - Throws: `QueueError.empty`.
    public func getNowait() throws(QueueError) -> Element { try queue.get(block: false) }

    /// Removes and returns the next item, suspending the task while the queue is empty.
    /// - Parameter timeout: Seconds to wait at most.
    /// - Returns: The item.
    /// - Throws: `QueueError.empty` on timeout, or `CancellationError`.
    nonisolated(nonsending) public func get(timeout: Double? = nil) async throws -> Element { try await queue.get(timeout: timeout) }

    /// The number of items in the queue now.
    public var qsize: Int { queue.qsize }

    /// Whether the queue is empty now.
    public var empty: Bool { queue.empty }
}
