/// First in, first out (Python's `queue.Queue`): a growable ring buffer that allocates only when it
/// grows past its largest size so far, never per item.
public struct FIFOOrder<Element>: QueueOrder {
    @usableFromInline var slots: [Element?] = []
    @usableFromInline var head = 0
    @inlinable public var count: Int { storedCount }
    @usableFromInline var storedCount = 0

    @inlinable public init() {}

    @inlinable @inline(__always)
    func index(_ offset: Int) -> Int { (head &+ offset) & (slots.count &- 1) }

    @inlinable mutating func grow() {
        let newCapacity = Swift.max(16, slots.count * 2)
        var grown = [Element?](repeating: nil, count: newCapacity)
        for i in 0..<count { grown[i] = slots[index(i)] }
        slots = grown
        head = 0
    }

    @inlinable public mutating func push(_ item: Element) {
        if count == slots.count { grow() }
        slots[index(count)] = item
        storedCount &+= 1
    }

    @inlinable public mutating func pushBack(_ item: Element) {
        if count == slots.count { grow() }
        head = (head &- 1) & (slots.count &- 1)
        slots[head] = item
        storedCount &+= 1
    }

    @inlinable public mutating func pop() -> Element {
        let item = slots[head].take()!
        head = (head &+ 1) & (slots.count &- 1)
        storedCount &-= 1
        return item
    }

    @inlinable public mutating func removeAll() -> [Element] {
        var items: [Element] = []
        items.reserveCapacity(count)
        while count > 0 { items.append(pop()) }
        return items
    }
}
