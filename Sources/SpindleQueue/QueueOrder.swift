/// The order in which a `BlockingQueue` hands out its items: first-in first-out (`FIFOOrder`),
/// last-in first-out (`LIFOOrder`) or lowest first (`PriorityOrder`).
///
/// An order is a plain container the queue keeps behind its lock; it is never shared.
public protocol QueueOrder<Element>: SendableMetatype {
    /// The items' type.
    associatedtype Element

    /// Creates an empty container.
    init()

    /// The number of items held.
    var count: Int { get }

    /// Adds an item.
    /// - Parameter item: The item.
    mutating func push(_ item: Element)

    /// Puts back an item that was taken out but not delivered, so that it comes out next.
    /// - Parameter item: The item.
    mutating func pushBack(_ item: Element)

    /// Removes the item that comes out next; the container is not empty.
    /// - Returns: The item.
    mutating func pop() -> Element

    /// Removes every item, in the order they would have come out.
    /// - Returns: The items.
    mutating func removeAll() -> [Element]
}
