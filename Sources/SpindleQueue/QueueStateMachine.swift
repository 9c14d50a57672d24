import DequeModule
import SpindleSystem
import Synchronization

/// The queue's state and rules, with no locking and no waking: every operation returns what must
/// be done once the lock is released (which waiters to resolve), so no waiter runs under the lock.
///
/// Invariants: getters wait only while the buffer is empty; putters wait only while it is full.
///
/// A bounded FIFO queue keeps its items in a lock-free `BoundedRing` instead of `buffer`; the
/// machine then holds only the waiter lists, and every change to a list stores the list's length
/// in the ring, where puts and gets that take no lock look for waiters to wake.
@usableFromInline
struct QueueStateMachine<Order: QueueOrder> {
    @usableFromInline typealias Element = Order.Element
    @usableFromInline typealias Waiter = QueueWaiter<Element>

    @usableFromInline var buffer = Order()
    @usableFromInline let maxsize: Int
    @usableFromInline var getters = Deque<Waiter>()
    /// Waiting putters; each carries its item as its payload.
    @usableFromInline var putters = Deque<Waiter>()
    @usableFromInline var joiners = Deque<Waiter>()
    @usableFromInline var unfinished = 0
    @usableFromInline var isShutdown = false
    /// Waiters whose waits are over, kept for the next waits (at most `spareLimit`).
    var spares: [Waiter] = []
    static var spareLimit: Int { 16 }

    /// The lock-free item storage of a bounded FIFO queue, or `nil` when `buffer` holds the items.
    @usableFromInline let ring: BoundedRing<Element>?

    @usableFromInline init(maxsize: Int, ring: BoundedRing<Element>?) {
        self.maxsize = maxsize
        self.ring = ring
    }

    /// Stores the lists' lengths in the ring, after a list changed (under the lock).
    @inlinable mutating func publishCounts() {
        guard let ring else { return }
        ring.waitingGetters.pointee.store(getters.count, ordering: .relaxed)
        ring.waitingPutters.pointee.store(putters.count, ordering: .relaxed)
        ring.waitingJoiners.pointee.store(joiners.count, ordering: .relaxed)
    }

    /// Queues `waiter` at the end of `list`.
    @usableFromInline mutating func enlist(_ waiter: Waiter, on list: List) {
        switch list {
        case .getters: getters.append(waiter)
        case .putters: putters.append(waiter)
        case .joiners: joiners.append(waiter)
        }
        publishCounts()
    }

    /// Removes the first waiter of `list`, to be woken to try again (a ring queue's wake-up).
    /// - Returns: What wakes it, or `nil` when the list is empty.
    @usableFromInline mutating func popFirst(_ list: List) -> Resumption? {
        let waiter: Waiter?
        switch list {
        case .getters: waiter = getters.popFirst()
        case .putters: waiter = putters.popFirst()
        case .joiners: waiter = joiners.popFirst()
        }
        publishCounts()
        return waiter?.resumption
    }

    @inlinable var isFull: Bool { maxsize > 0 && buffer.count >= maxsize }

    /// Waiters to resolve after the lock is released. Empty arrays cost no allocation, so the
    /// common single hand-over allocates nothing.
    @usableFromInline
    struct Wake {
        /// Resolved with `granted`: a getter handed an item, a putter whose item went in.
        @usableFromInline var one: Resumption?
        /// Resolved with `shutDown`: getters and putters of a queue that shut down.
        @usableFromInline var shutOut: [Resumption] = []
        /// Resolved with `granted`: joiners, once no task is unfinished.
        @usableFromInline var joiners: [Resumption] = []

        @inlinable init(one: Resumption? = nil) { self.one = one }

        /// Resolves the waiters; call without holding the lock.
        @inlinable func run() {
            one?.resume(WaitToken.granted)
            for waiter in shutOut { waiter.resume(WaitToken.shutDown) }
            for waiter in joiners { waiter.resume(WaitToken.granted) }
        }
    }

    @usableFromInline
    enum PutOutcome {
        /// The item went in; resolve the getter it was handed to, if any, with `granted`.
        case done(Resumption?)
        case full
        case shutDown
    }

    /// Puts `item` if there is room, handing it straight to a waiting getter when there is one.
    @inlinable mutating func put(_ item: Element) -> PutOutcome {
        if isShutdown { return .shutDown }
        if !getters.isEmpty {
            let getter = getters.removeFirst()
            unfinished += 1
            getter.payload = item
            return .done(getter.resumption)
        }
        if isFull { return .full }
        unfinished += 1
        buffer.push(item)
        return .done(nil)
    }

    @usableFromInline
    enum GetOutcome {
        /// The next item; resolve the putter whose item went in behind it, if any, with `granted`.
        case item(Element, Resumption?)
        case empty
        case shutDown
    }

    /// Takes the next item, letting the first waiting putter's item in behind it.
    @inlinable mutating func get() -> GetOutcome {
        if buffer.count > 0 {
            let item = buffer.pop()
            if putters.isEmpty { return .item(item, nil) }
            let putter = putters.removeFirst()
            buffer.push(putter.payload.take().unsafelyUnwrapped)
            unfinished += 1
            return .item(item, putter.resumption)
        }
        return isShutdown ? .shutDown : .empty
    }

    /// The lists a waiter can wait on.
    @usableFromInline
    enum List: Sendable {
        case getters, putters, joiners
    }

    /// Removes `waiter` from `list` if it is still there.
    /// - Returns: Whether it was (and so now belongs to the caller to resolve).
    @usableFromInline mutating func withdraw(_ waiter: Waiter, from list: List) -> Bool {
        let withdrawn: Bool
        switch list {
        case .getters: withdrawn = getters.remove(waiter)
        case .putters: withdrawn = putters.remove(waiter)
        case .joiners: withdrawn = joiners.remove(waiter)
        }
        if withdrawn { publishCounts() }
        return withdrawn
    }

    /// A waiter for a new wait: a spare one, or a new one when there is none.
    @usableFromInline mutating func takeWaiter() -> Waiter {
        spares.popLast() ?? Waiter()
    }

    /// Keeps a waiter whose wait is over (and whose owner has taken its item) for a later wait.
    mutating func recycle(_ waiter: Waiter) {
        guard spares.count < Self.spareLimit else { return }
        waiter.continuation = nil
        waiter.parker = nil
        waiter.payload = nil
        spares.append(waiter)
    }

    /// Puts back an item a cancelled getter was handed, ahead of the others.
    mutating func putBack(_ item: Element) -> Wake {
        if let getter = getters.popFirst() {
            getter.payload = item
            return Wake(one: getter.resumption)
        }
        buffer.pushBack(item)
        return Wake()
    }

    /// Marks one task done.
    mutating func taskDone() throws(QueueError) -> Wake {
        guard unfinished > 0 else { throw QueueError.taskDoneTooManyTimes }
        unfinished -= 1
        return unfinished == 0 ? releaseJoiners() : Wake()
    }

    mutating func releaseJoiners() -> Wake {
        var wake = Wake()
        wake.joiners = joiners.map(\.resumption)
        joiners.removeAll()
        publishCounts()
        return wake
    }

    /// Shuts the queue down (Python 3.13 rules). Every waiting getter and putter is woken with
    /// "shut down" (a putter keeps its item: it was never put); an immediate shutdown also removes
    /// the queued items, which it returns, and counts them as done for `join()`.
    mutating func shutdown(immediate: Bool) -> (removed: [Element], wake: Wake) {
        isShutdown = true
        var removed: [Element] = []
        if immediate {
            removed = buffer.removeAll()
            unfinished -= Swift.min(unfinished, removed.count)
        }
        var wake = unfinished == 0 ? releaseJoiners() : Wake()
        wake.shutOut = getters.map(\.resumption) + putters.map(\.resumption)
        getters.removeAll()
        putters.removeAll()
        return (removed, wake)
    }

    /// Shuts a ring queue down (the ring's closed bit is the only record of it): closes the ring
    /// (no put claims a slot after this), removes the items when `immediate` (waiting for puts
    /// that claimed a slot to write it) and counts them as done, and wakes every getter and putter with "shut down" (getters then drain what is
    /// left) and the joiners if nothing is unfinished.
    mutating func shutdownRing(_ ring: BoundedRing<Element>, immediate: Bool) -> (removed: [Element], wake: Wake) {
        let end = ring.close()
        var removed: [Element] = []
        if immediate {
            removed = ring.drain(upTo: end)
            ring.markDone(count: removed.count)
        }
        var wake = ring.unfinished == 0 ? releaseJoiners() : Wake()
        wake.shutOut = getters.map(\.resumption) + putters.map(\.resumption)
        getters.removeAll()
        putters.removeAll()
        publishCounts()
        return (removed, wake)
    }

    /// Wakes the joiners of a ring queue whose unfinished count is zero.
    mutating func releaseRingJoiners(_ ring: BoundedRing<Element>) -> Wake {
        ring.unfinished == 0 ? releaseJoiners() : Wake()
    }
}
