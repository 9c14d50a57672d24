/// Lowest first (Python's `queue.PriorityQueue`): a binary heap. Items that compare equal come out
/// in the order they were put, which Python's heap does not promise.
public struct PriorityOrder<Element: Comparable>: QueueOrder {
    @usableFromInline struct Entry {
        @usableFromInline var item: Element
        @usableFromInline var sequence: Int
        @inlinable init(item: Element, sequence: Int) {
            self.item = item
            self.sequence = sequence
        }
        @inlinable static func precedes(_ a: Entry, _ b: Entry) -> Bool {
            if a.item < b.item { return true }
            if b.item < a.item { return false }
            return a.sequence < b.sequence
        }
    }

    @usableFromInline var heap: [Entry] = []
    @usableFromInline var nextSequence = 0
    /// Put-back items take sequence numbers below every other, so they come out first among equals.
    @usableFromInline var nextBackSequence = -1

    @inlinable public init() {}

    @inlinable public var count: Int { heap.count }

    @inlinable public mutating func push(_ item: Element) {
        insert(Entry(item: item, sequence: nextSequence))
        nextSequence &+= 1
    }

    @inlinable public mutating func pushBack(_ item: Element) {
        insert(Entry(item: item, sequence: nextBackSequence))
        nextBackSequence &-= 1
    }

    @inlinable public mutating func pop() -> Element {
        heap.swapAt(0, heap.count - 1)
        let top = heap.removeLast()
        var i = 0
        let n = heap.count
        while true {
            let left = 2 * i + 1
            if left >= n { break }
            let right = left + 1
            var child = left
            if right < n, Entry.precedes(heap[right], heap[left]) { child = right }
            if !Entry.precedes(heap[child], heap[i]) { break }
            heap.swapAt(i, child)
            i = child
        }
        return top.item
    }

    @inlinable public mutating func removeAll() -> [Element] {
        var items: [Element] = []
        items.reserveCapacity(heap.count)
        while !heap.isEmpty { items.append(pop()) }
        return items
    }

    @inlinable mutating func insert(_ entry: Entry) {
        heap.append(entry)
        var i = heap.count - 1
        while i > 0 {
            let parent = (i - 1) / 2
            if !Entry.precedes(heap[i], heap[parent]) { break }
            heap.swapAt(i, parent)
            i = parent
        }
    }
}
