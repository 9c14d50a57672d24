/// Last in, first out (Python's `queue.LifoQueue`): a stack.
public struct LIFOOrder<Element>: QueueOrder {
    @usableFromInline var items: [Element] = []

    @inlinable public init() {}

    @inlinable public var count: Int { items.count }

    @inlinable public mutating func push(_ item: Element) { items.append(item) }

    @inlinable public mutating func pushBack(_ item: Element) { items.append(item) }

    @inlinable public mutating func pop() -> Element { items.removeLast() }

    @inlinable public mutating func removeAll() -> [Element] {
        defer { items.removeAll(keepingCapacity: true) }
        return items.reversed()
    }
}
