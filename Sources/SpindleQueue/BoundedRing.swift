import SpindleSystem
import Synchronization

/// The lock-free storage of a bounded first-in first-out queue: a ring of exactly `capacity` slots,
/// each with a sequence number (Dmitry Vyukov's bounded MPMC queue), so a put or a get that finds
/// room or an item takes no lock and touches only its own slot and its own end's position.
///
/// Positions count every put (`tail`) and get (`head`) since the ring was made; the item of
/// position `p` lives in slot `p % capacity`. A slot's sequence number says whose turn it is:
/// `2p` when it is free for the put of position `p`, `2p + 1` once that put has written its item
/// (the release that publishes it), and `2(p + capacity)` once the get of `p` has moved it out
/// (free for the put one lap later). Doubling keeps "written at `p`" and "free for `p + 1`" apart
/// when the capacity is 1. Putters and getters claim a position with a compare-and-swap on
/// their end's word and then own the slot until they store its next sequence number.
///
/// The tail word also holds the closed bit (bit 0; the position is the word shifted right by one),
/// so that closing and claiming are one atomic order: no put claims a slot after `close()`. The
/// ring knows nothing of waiting; its owner (`BlockingQueue`) keeps the waiter lists under its lock
/// and the counts of waiters here, which every put and get reads after a full fence (the other
/// half of that handshake is the waiter's fence between counting itself and looking again).
///
/// It is a struct of pointers, so that a put or a get copies it without touching a reference
/// count (a retain on a shared object is a write to a cache line every thread shares); its owner
/// calls `deallocate()` once, when no put or get can run any more.
@usableFromInline
struct BoundedRing<Element>: @unchecked Sendable {
    /// The number of slots, which is the queue's `maxsize`.
    @usableFromInline let capacity: Int
    /// `capacity - 1` when the capacity is a power of two (slots by masking), otherwise -1.
    @usableFromInline let mask: Int
    /// The bytes from one slot to the next: a sequence number, then the item.
    @usableFromInline let stride: Int
    /// Where a slot's item starts, after its sequence number.
    @usableFromInline let itemOffset: Int
    @usableFromInline let slots: UnsafeMutableRawPointer
    /// The counters, one per 128-byte block so that putters, getters and the waiter counts do
    /// not share a cache line (nor its prefetched neighbour).
    @usableFromInline let words: UnsafeMutableRawPointer

    @usableFromInline static var headOffset: Int { 0 }
    @usableFromInline static var tailOffset: Int { 128 }
    @usableFromInline static var waitersOffset: Int { 256 }
    @usableFromInline static var donesOffset: Int { 384 }
    static var wordsSize: Int { 512 }

    /// Creates an empty ring.
    /// - Parameter capacity: The number of slots (at least 1).
    @usableFromInline init(capacity: Int) {
        precondition(capacity > 0, "a bounded ring needs at least one slot")
        self.capacity = capacity
        mask = capacity & (capacity &- 1) == 0 ? capacity &- 1 : -1
        let itemAlignment = MemoryLayout<Element>.alignment
        itemOffset = (MemoryLayout<Int>.size + itemAlignment - 1) / itemAlignment * itemAlignment
        let slotAlignment = Swift.max(MemoryLayout<Int>.alignment, itemAlignment)
        let end = itemOffset + MemoryLayout<Element>.size
        stride = (end + slotAlignment - 1) / slotAlignment * slotAlignment
        slots = .allocate(byteCount: stride * capacity, alignment: Swift.max(64, slotAlignment))
        for index in 0..<capacity {
            (slots + index * stride).bindMemory(to: Atomic<Int>.self, capacity: 1).initialize(to: Atomic(Self.free(index)))
        }
        words = .allocate(byteCount: Self.wordsSize, alignment: 128)
        for offset in [Self.headOffset, Self.tailOffset, Self.donesOffset] {
            (words + offset).bindMemory(to: Atomic<Int>.self, capacity: 1).initialize(to: Atomic(0))
        }
        let waiters = (words + Self.waitersOffset).bindMemory(to: Atomic<Int>.self, capacity: 3)
        for index in 0..<3 { (waiters + index).initialize(to: Atomic(0)) }
    }

    /// Frees the ring and the items left in it; call once, when no put or get runs any more
    /// (every claimed slot was written).
    @usableFromInline func deallocate() {
        var position = head.pointee.load(ordering: .acquiring)
        let end = tailPosition
        while position < end {
            let slot = self.slot(position)
            if sequence(slot).pointee.load(ordering: .acquiring) == Self.written(position) { item(slot).deinitialize(count: 1) }
            position &+= 1
        }
        for index in 0..<capacity { sequence(index).deinitialize(count: 1) }
        slots.deallocate()
        for offset in [Self.headOffset, Self.tailOffset, Self.donesOffset] {
            (words + offset).assumingMemoryBound(to: Atomic<Int>.self).deinitialize(count: 1)
        }
        (words + Self.waitersOffset).assumingMemoryBound(to: Atomic<Int>.self).deinitialize(count: 3)
        words.deallocate()
    }

    // MARK: - Words

    /// The next position to get.
    @inlinable @inline(__always) var head: UnsafeMutablePointer<Atomic<Int>> {
        (words + Self.headOffset).assumingMemoryBound(to: Atomic<Int>.self)
    }

    /// The next position to put, shifted left by one, with the closed bit as bit 0.
    @inlinable @inline(__always) var tail: UnsafeMutablePointer<Atomic<Int>> {
        (words + Self.tailOffset).assumingMemoryBound(to: Atomic<Int>.self)
    }

    /// The number of threads and tasks on the owner's getter list.
    @inlinable @inline(__always) var waitingGetters: UnsafeMutablePointer<Atomic<Int>> {
        (words + Self.waitersOffset).assumingMemoryBound(to: Atomic<Int>.self)
    }

    /// The number on the owner's putter list.
    @inlinable @inline(__always) var waitingPutters: UnsafeMutablePointer<Atomic<Int>> { waitingGetters + 1 }

    /// The number on the owner's joiner list.
    @inlinable @inline(__always) var waitingJoiners: UnsafeMutablePointer<Atomic<Int>> { waitingGetters + 2 }

    /// The items marked done (`taskDone()`, or removed by an immediate shutdown); the unfinished
    /// count is the number of puts (`tailPosition`) minus this.
    @inlinable @inline(__always) var dones: UnsafeMutablePointer<Atomic<Int>> {
        (words + Self.donesOffset).assumingMemoryBound(to: Atomic<Int>.self)
    }

    /// The number of puts that claimed a slot so far.
    @inlinable var tailPosition: Int { tail.pointee.load(ordering: .acquiring) >> 1 }

    /// Whether `close()` was called.
    @inlinable var isClosed: Bool { tail.pointee.load(ordering: .acquiring) & 1 != 0 }

    /// The items in the ring now (a put that claimed its slot counts, written or not).
    @inlinable var count: Int {
        let got = head.pointee.load(ordering: .acquiring)
        let put = tailPosition
        return Swift.min(capacity, Swift.max(0, put &- got))
    }

    /// Whether a get has claimed every position a put claimed: no item is in the ring or on its way.
    @inlinable var isDrained: Bool { head.pointee.load(ordering: .acquiring) >= tailPosition }

    // MARK: - Slots

    @inlinable @inline(__always) func slot(_ position: Int) -> Int {
        mask >= 0 ? position & mask : position % capacity
    }

    /// The sequence number of a slot free for the put of `position`.
    @inlinable @inline(__always) static func free(_ position: Int) -> Int { position &<< 1 }

    /// The sequence number of a slot holding the item the put of `position` wrote.
    @inlinable @inline(__always) static func written(_ position: Int) -> Int { position &<< 1 | 1 }

    @inlinable @inline(__always) func sequence(_ slot: Int) -> UnsafeMutablePointer<Atomic<Int>> {
        (slots + slot &* stride).assumingMemoryBound(to: Atomic<Int>.self)
    }

    @inlinable @inline(__always) func item(_ slot: Int) -> UnsafeMutablePointer<Element> {
        (slots + (slot &* stride &+ itemOffset)).assumingMemoryBound(to: Element.self)
    }

    /// The outcome of `tryPush`.
    @usableFromInline
    enum PushOutcome {
        case done, full, closed
    }

    /// Puts a copy of `item` in the next slot if it is free and the ring is not closed.
    /// - Parameter item: The item.
    /// - Returns: `.done`, `.full` (the next slot still holds the item of a lap ago), or `.closed`.
    @inlinable @inline(__always)
    func tryPush(_ item: Element) -> PushOutcome {
        var word = tail.pointee.load(ordering: .relaxed)
        while true {
            if word & 1 != 0 { return .closed }
            let position = word >> 1
            let slot = self.slot(position)
            let turn = sequence(slot).pointee.load(ordering: .acquiring) &- Self.free(position)
            if turn == 0 {
                let (claimed, current) = tail.pointee.compareExchange(
                    expected: word, desired: word &+ 2, successOrdering: .relaxed, failureOrdering: .relaxed)
                if claimed {
                    self.item(slot).initialize(to: item)
                    sequence(slot).pointee.store(Self.written(position), ordering: .releasing)
                    return .done
                }
                word = current
            } else if turn < 0 {
                return tail.pointee.load(ordering: .relaxed) & 1 != 0 ? .closed : .full
            } else {
                word = tail.pointee.load(ordering: .relaxed)
            }
        }
    }

    /// Takes the item of the next position if it has been written.
    /// - Returns: The item, or `nil` when the next slot holds none yet (the ring is empty, or its
    ///   next put claimed the slot and has not written it yet).
    @inlinable @inline(__always)
    func tryPop() -> Element? {
        var position = head.pointee.load(ordering: .relaxed)
        while true {
            let slot = self.slot(position)
            let turn = sequence(slot).pointee.load(ordering: .acquiring) &- Self.written(position)
            if turn == 0 {
                let (claimed, current) = head.pointee.compareExchange(
                    expected: position, desired: position &+ 1, successOrdering: .relaxed, failureOrdering: .relaxed)
                if claimed {
                    let item = self.item(slot).move()
                    sequence(slot).pointee.store(Self.free(position &+ capacity), ordering: .releasing)
                    return item
                }
                position = current
            } else if turn < 0 {
                return nil
            } else {
                position = head.pointee.load(ordering: .relaxed)
            }
        }
    }

    /// How many items a spinning getter waits to see written (a spinning putter, slots to see
    /// free) before it goes on: taking or filling a run of slots keeps their cache lines on one
    /// processor, where taking each item as soon as it is written moves a line per item.
    @usableFromInline var batch: Int { Swift.max(1, Swift.min(16, capacity / 4)) }

    /// Whether the get `ahead` positions after the next one would find its item written (a hint
    /// for a spinning getter; `ahead` is below the capacity).
    @inlinable func isWritten(ahead: Int) -> Bool {
        let position = head.pointee.load(ordering: .relaxed) &+ ahead
        return sequence(slot(position)).pointee.load(ordering: .relaxed) == Self.written(position)
    }

    /// Whether the put `ahead` positions after the next one would find its slot free, or the ring
    /// is closed (a hint for a spinning putter; `ahead` is below the capacity).
    @inlinable func isFree(ahead: Int) -> Bool {
        let word = tail.pointee.load(ordering: .relaxed)
        let position = (word >> 1) &+ ahead
        return word & 1 != 0 || sequence(slot(position)).pointee.load(ordering: .relaxed) == Self.free(position)
    }

    /// Closes the ring: every later put is refused, and the puts that claimed a slot before it
    /// still write their items.
    /// - Returns: The number of puts that claimed a slot (so every position below it will be written).
    @usableFromInline func close() -> Int {
        tail.pointee.bitwiseOr(1, ordering: .sequentiallyConsistent).oldValue >> 1
    }

    /// Removes every item up to position `end`, waiting for puts that claimed a slot and have not
    /// written it yet; concurrent getters may take some of them first.
    /// - Parameter end: A position every put below which has claimed its slot (from `close()`).
    /// - Returns: The items removed, in order.
    @usableFromInline func drain(upTo end: Int) -> [Element] {
        var removed: [Element] = []
        while head.pointee.load(ordering: .acquiring) < end {
            if let item = tryPop() {
                removed.append(item)
            } else {
                yieldProcessor()  // a put claimed the slot and was preempted before writing it
            }
        }
        return removed
    }

    /// Marks one item done unless every put already was.
    /// - Returns: The unfinished count after it, or `nil` when nothing was unfinished.
    @usableFromInline func markDone() -> Int? {
        var done = dones.pointee.load(ordering: .relaxed)
        while true {
            let puts = tailPosition
            guard done < puts else { return nil }
            let (marked, current) = dones.pointee.compareExchange(
                expected: done, desired: done &+ 1, ordering: .sequentiallyConsistent)
            if marked { return puts &- (done &+ 1) }
            done = current
        }
    }

    /// Marks `count` items done (an immediate shutdown's), at most as many as are unfinished.
    @usableFromInline func markDone(count: Int) {
        var done = dones.pointee.load(ordering: .relaxed)
        while true {
            let target = Swift.min(tailPosition, done &+ count)
            let (marked, current) = dones.pointee.compareExchange(expected: done, desired: target, ordering: .sequentiallyConsistent)
            if marked { return }
            done = current
        }
    }

    /// The puts not yet marked done.
    @usableFromInline var unfinished: Int {
        Swift.max(0, tailPosition &- dones.pointee.load(ordering: .acquiring))
    }
}
