import DequeModule
import SpindleSystem

/// The queue's state and rules, with no locking and no waking: every operation returns what must
/// be done once the lock is released (which waiters to resolve), so no waiter runs under the lock.
///
/// Invariants: getters wait only while the buffer is empty; putters wait only while it is full.
@usableFromInline
struct QueueStateMachine<Order: QueueOrder> {
    @usableFromInline typealias Element = Order.Element
    @usableFromInline typealias QueueWaiter = Waiter<Element>

    @usableFromInline var buffer = Order()
    @usableFromInline let maxsize: Int
    @usableFromInline var getters = Deque<QueueWaiter>()
    /// Waiting putters; each carries its item as its payload.
    @usableFromInline var putters = Deque<QueueWaiter>()
    @usableFromInline var joiners = Deque<QueueWaiter>()
    @usableFromInline var unfinished = 0
    @usableFromInline var isShutdown = false

    @usableFromInline init(maxsize: Int) { self.maxsize = maxsize }

    @inlinable var isFull: Bool { maxsize > 0 && buffer.count >= maxsize }

    /// Waiters to resolve after the lock is released. Empty arrays cost no allocation, so the
    /// common single hand-over allocates nothing.
    @usableFromInline
    struct Wake {
        /// Resolved with `granted`: a getter handed an item, a putter whose item went in.
        @usableFromInline var one: QueueWaiter?
        /// Resolved with `shutDown`: getters and putters of a queue that shut down.
        @usableFromInline var shutOut: [QueueWaiter] = []
        /// Resolved with `granted`: joiners, once no task is unfinished.
        @usableFromInline var joiners: [QueueWaiter] = []

        @inlinable init(one: QueueWaiter? = nil) { self.one = one }

        /// Resolves the waiters; call without holding the lock.
        @inlinable func run() {
            one?.resolve(WaitToken.granted)
            for waiter in shutOut { waiter.resolve(WaitToken.shutDown) }
            for waiter in joiners { waiter.resolve(WaitToken.granted) }
        }
    }

    @usableFromInline
    enum PutOutcome {
        case done(Wake)
        case full
        case shutDown
    }

    /// Puts `item` if there is room, handing it straight to a waiting getter when there is one.
    @inlinable mutating func put(_ item: Element) -> PutOutcome {
        if isShutdown { return .shutDown }
        if let getter = getters.popFirst() {
            unfinished += 1
            getter.payload = item
            return .done(Wake(one: getter))
        }
        if isFull { return .full }
        unfinished += 1
        buffer.push(item)
        return .done(Wake())
    }

    @usableFromInline
    enum GetOutcome {
        case item(Element, Wake)
        case empty
        case shutDown
    }

    /// Takes the next item, letting the first waiting putter's item in behind it.
    @inlinable mutating func get() -> GetOutcome {
        if buffer.count > 0 {
            let item = buffer.pop()
            var wake = Wake()
            if let putter = putters.popFirst() {
                buffer.push(putter.payload.take()!)
                unfinished += 1
                wake.one = putter
            }
            return .item(item, wake)
        }
        return isShutdown ? .shutDown : .empty
    }

    /// Puts back an item a cancelled getter was handed, ahead of the others.
    mutating func putBack(_ item: Element) -> Wake {
        if let getter = getters.popFirst() {
            getter.payload = item
            return Wake(one: getter)
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
        wake.joiners = Array(joiners)
        joiners.removeAll()
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
        wake.shutOut = Array(getters) + Array(putters)
        getters.removeAll()
        putters.removeAll()
        return (removed, wake)
    }
}
