/// First in, first out (Python's `queue.Queue`): a growable ring buffer that allocates only when it
/// grows past its largest size so far, never per item.
public struct FIFOOrder<Element>: QueueOrder {
    private var slots: [Element?] = []
    private var head = 0
    public private(set) var count = 0

    public init() {}

    @inline(__always)
    private func index(_ offset: Int) -> Int { (head &+ offset) & (slots.count &- 1) }

    private mutating func grow() {
        let newCapacity = Swift.max(16, slots.count * 2)
        var grown = [Element?](repeating: nil, count: newCapacity)
        for i in 0..<count { grown[i] = slots[index(i)] }
        slots = grown
        head = 0
    }

    public mutating func push(_ item: Element) {
        if count == slots.count { grow() }
        slots[index(count)] = item
        count &+= 1
    }

    public mutating func pushBack(_ item: Element) {
        if count == slots.count { grow() }
        head = (head &- 1) & (slots.count &- 1)
        slots[head] = item
        count &+= 1
    }

    public mutating func pop() -> Element {
        let item = slots[head].take()!
        head = (head &+ 1) & (slots.count &- 1)
        count &-= 1
        return item
    }

    public mutating func removeAll() -> [Element] {
        var items: [Element] = []
        items.reserveCapacity(count)
        while count > 0 { items.append(pop()) }
        return items
    }
}
