/// Last in, first out (Python's `queue.LifoQueue`): a stack.
public struct LIFOOrder<Element>: QueueOrder {
    private var items: [Element] = []

    public init() {}

    public var count: Int { items.count }

    public mutating func push(_ item: Element) { items.append(item) }

    public mutating func pushBack(_ item: Element) { items.append(item) }

    public mutating func pop() -> Element { items.removeLast() }

    public mutating func removeAll() -> [Element] {
        defer { items.removeAll(keepingCapacity: true) }
        return items.reversed()
    }
}
