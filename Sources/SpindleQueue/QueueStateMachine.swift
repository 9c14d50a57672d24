import DequeModule
import SpindleSystem

/// The queue's state and rules, with no locking and no waking: every operation returns what must
/// be done once the lock is released (which waiters to resolve), so no waiter runs under the lock.
///
/// Invariants: getters wait only while the buffer is empty; putters wait only while it is full.
struct QueueStateMachine<Order: QueueOrder> {
    typealias Element = Order.Element
    typealias QueueWaiter = Waiter<Element>

    var buffer = Order()
    let maxsize: Int
    var getters = Deque<QueueWaiter>()
    /// Waiting putters; each carries its item as its payload.
    var putters = Deque<QueueWaiter>()
    var joiners = Deque<QueueWaiter>()
    var unfinished = 0
    var isShutdown = false

    init(maxsize: Int) { self.maxsize = maxsize }

    var isFull: Bool { maxsize > 0 && buffer.count >= maxsize }

    /// Waiters to resolve after the lock is released. Empty arrays cost no allocation, so the
    /// common single hand-over allocates nothing.
    struct Wake {
        /// Resolved with `granted`: a getter handed an item, a putter whose item went in.
        var one: QueueWaiter?
        /// Resolved with `shutDown`: getters and putters of a queue that shut down.
        var shutOut: [QueueWaiter] = []
        /// Resolved with `granted`: joiners, once no task is unfinished.
        var joiners: [QueueWaiter] = []

        init(one: QueueWaiter? = nil) { self.one = one }

        /// Resolves the waiters; call without holding the lock.
        func run() {
            one?.resolve(WaitToken.granted)
            for waiter in shutOut { waiter.resolve(WaitToken.shutDown) }
            for waiter in joiners { waiter.resolve(WaitToken.granted) }
        }
    }

    enum PutOutcome {
        case done(Wake)
        case full
        case shutDown
    }

    /// Puts `item` if there is room, handing it straight to a waiting getter when there is one.
    mutating func put(_ item: Element) -> PutOutcome {
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

    enum GetOutcome {
        case item(Element, Wake)
        case empty
        case shutDown
    }

    /// Takes the next item, letting the first waiting putter's item in behind it.
    mutating func get() -> GetOutcome {
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
