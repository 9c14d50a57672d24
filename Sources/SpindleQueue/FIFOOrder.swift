/// First in, first out (Python's `queue.Queue`): a growable ring buffer that allocates only when it
/// grows past its largest size so far, never per item, and stores each item in its own stride.
///
/// Copies share their ring until one of them changes (copy-on-write).
public struct FIFOOrder<Element>: QueueOrder {
    @usableFromInline var ring: FIFORing<Element>

    @inlinable public init() { ring = FIFORing() }

    @inlinable public var count: Int { ring.count }

    /// Gives this order a ring of its own before it changes one that a copy shares.
    @inlinable @inline(__always) mutating func makeUnique() {
        if _slowPath(!isKnownUniquelyReferenced(&ring)) { ring = ring.copy() }
    }

    @inlinable public mutating func push(_ item: Element) {
        makeUnique()
        ring.push(item)
    }

    @inlinable public mutating func pushBack(_ item: Element) {
        makeUnique()
        ring.pushBack(item)
    }

    @inlinable public mutating func pop() -> Element {
        makeUnique()
        return ring.pop()
    }

    @inlinable public mutating func removeAll() -> [Element] {
        makeUnique()
        var items: [Element] = []
        items.reserveCapacity(ring.count)
        while ring.count > 0 { items.append(ring.pop()) }
        return items
    }
}
