/// The storage of a `FIFOOrder`: a power-of-two ring of initialised slots `head ..< head + count`
/// (modulo the capacity) in raw memory, so an item takes exactly its own stride (8 bytes for an
/// `Int`, where an `Optional` slot took 16). Slots outside that range are uninitialised; the ring
/// initialises a slot when an item goes in, moves the item out when it leaves, moves (never
/// copies) the items into a larger ring when it grows, and deinitialises what is left when it is
/// freed.
@usableFromInline
final class FIFORing<Element> {
    // Guarded by the owner (the queue's lock); unchecked, so the hot path pays no dynamic
    // exclusivity check per access.
    @exclusivity(unchecked) @usableFromInline var slots: UnsafeMutableBufferPointer<Element>
    @exclusivity(unchecked) @usableFromInline var head = 0
    @exclusivity(unchecked) @usableFromInline var count = 0

    @inlinable init() { slots = UnsafeMutableBufferPointer(start: nil, count: 0) }

    @inlinable init(capacity: Int) { slots = .allocate(capacity: capacity) }

    deinit {
        deinitializeLive()
        slots.deallocate()
    }

    /// The capacity minus one: slot indexes wrap by masking with it.
    @inlinable @inline(__always) var mask: Int { slots.count &- 1 }

    @inlinable @inline(__always) var base: UnsafeMutablePointer<Element> { slots.baseAddress.unsafelyUnwrapped }

    /// The live items as at most two contiguous runs: from `head` to the end, then from slot 0.
    @inlinable var runs: (first: Range<Int>, second: Range<Int>) {
        let end = head &+ count
        if end <= slots.count { return (head..<end, 0..<0) }
        return (head..<slots.count, 0..<(end &- slots.count))
    }

    @usableFromInline func deinitializeLive() {
        guard count > 0 else { return }
        let (first, second) = runs
        (base + first.lowerBound).deinitialize(count: first.count)
        if !second.isEmpty { base.deinitialize(count: second.count) }
        count = 0
        head = 0
    }

    /// A ring with the same items, copied (for copy-on-write of a shared `FIFOOrder`).
    @usableFromInline func copy() -> FIFORing {
        let other = slots.count == 0 ? FIFORing() : FIFORing(capacity: slots.count)
        guard count > 0 else { return other }
        let (first, second) = runs
        other.base.initialize(from: base + first.lowerBound, count: first.count)
        if !second.isEmpty { (other.base + first.count).initialize(from: base, count: second.count) }
        other.count = count
        return other
    }

    /// Doubles the capacity (at least 16 slots), moving the items to the new ring's start; the
    /// old ring's memory is freed before anything else is allocated.
    @inlinable func grow() {
        let grown = UnsafeMutableBufferPointer<Element>.allocate(capacity: Swift.max(16, slots.count &* 2))
        if count > 0 {
            let (first, second) = runs
            let to = grown.baseAddress.unsafelyUnwrapped
            to.moveInitialize(from: base + first.lowerBound, count: first.count)
            if !second.isEmpty { (to + first.count).moveInitialize(from: base, count: second.count) }
        }
        slots.deallocate()
        slots = grown
        head = 0
    }

    @inlinable func push(_ item: __owned Element) {
        if count == slots.count { grow() }
        (base + ((head &+ count) & mask)).initialize(to: item)
        count &+= 1
    }

    @inlinable func pushBack(_ item: __owned Element) {
        if count == slots.count { grow() }
        head = (head &- 1) & mask
        (base + head).initialize(to: item)
        count &+= 1
    }

    @inlinable func pop() -> Element {
        let item = (base + head).move()
        head = (head &+ 1) & mask
        count &-= 1
        return item
    }
}
