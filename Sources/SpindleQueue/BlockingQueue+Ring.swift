import SpindleSystem
import Synchronization

/// The paths of a bounded FIFO queue whose items live in a lock-free `BoundedRing`.
///
/// A put or get that finds room or an item takes no lock. Waiting is the only locked part, and it
/// never hands items over: a waiter is woken to try again. The handshake that keeps a wake-up from
/// being lost is Dekker's: a waiter adds itself to its list (storing the list's length in the
/// ring), makes a full fence and tries once more before it sleeps; a put or get makes a full fence
/// after writing or freeing its slot and then reads the count of the other side's waiters. One of
/// the two always sees the other. A waiter woken by a put that some other getter beat to the item
/// simply waits again, and a task cancelled after it was woken passes the wake-up on.
extension BlockingQueue {
    /// How many times a getter (putter) looks again, pausing the processor between looks, before
    /// it queues itself to sleep: about a microsecond, in which the other side on another
    /// processor usually writes (frees) a slot.
    @inlinable static var ringSpins: Int { 64 }

    /// What a waiter's look at the ring found, under the lock.
    @usableFromInline
    enum RingLook {
        /// The put went in, or the get took an item.
        case done
        /// Nothing to do yet: the waiter is (or stays) queued.
        case wait
        /// The queue is shut down (and, for a getter, drained).
        case shutDown
    }

    // MARK: - Wakes after a put or a get

    /// After a put wrote its slot: wakes a waiting getter, if any, to try again.
    @inlinable @inline(__always)
    func ringDidPut(_ ring: BoundedRing<Element>) {
        atomicMemoryFence(ordering: .sequentiallyConsistent)
        if ring.waitingGetters.pointee.load(ordering: .relaxed) != 0 { wakeFirst(of: .getters) }
    }

    /// After a get freed its slot: wakes a waiting putter, if any, to try again.
    @inlinable @inline(__always)
    func ringDidGet(_ ring: BoundedRing<Element>) {
        atomicMemoryFence(ordering: .sequentiallyConsistent)
        if ring.waitingPutters.pointee.load(ordering: .relaxed) != 0 { wakeFirst(of: .putters) }
    }

    /// Wakes the first waiter of `list` (if one is still there) to try again.
    @usableFromInline func wakeFirst(of list: Machine.List) {
        lock.lock()
        let first = state.pointee.popFirst(list)
        unlock(waking: first, with: WaitToken.granted)
    }

    /// Under the lock: looks at the ring with `look`; when there is nothing to do yet, queues
    /// `waiter` on `list`, fences, and looks once more (taking the waiter out again if that look
    /// found something to do).
    /// - Returns: What the last look found; `.wait` means the waiter is queued.
    @usableFromInline func enlist(_ waiter: Waiter, on list: Machine.List, looking look: () -> RingLook) -> RingLook {
        let first = look()
        if first != .wait { return first }
        state.pointee.enlist(waiter, on: list)
        atomicMemoryFence(ordering: .sequentiallyConsistent)
        let second = look()
        if second != .wait { _ = state.pointee.withdraw(waiter, from: list) }
        return second
    }

    /// A getter's look: takes the next item into `waiter`'s payload.
    @usableFromInline func lookForItem(_ ring: BoundedRing<Element>, into waiter: Waiter) -> RingLook {
        if let item = ring.tryPop() {
            waiter.payload = item
            return .done
        }
        return ring.isClosed && ring.isDrained ? .shutDown : .wait
    }

    /// A putter's look: puts `item` if there is room.
    @usableFromInline func lookForRoom(_ ring: BoundedRing<Element>, for item: Element) -> RingLook {
        switch ring.tryPush(item) {
        case .done: return .done
        case .full: return .wait
        case .closed: return .shutDown
        }
    }

    // MARK: - Threads

    /// Takes the lock and a waiter prepared for the calling thread, with the thread's parker.
    func lockForThreadWait() -> (Parker, Waiter) {
        lock.lock()
        let parker = Parker.forCurrentThread()
        let waiter = state.pointee.takeWaiter()
        waiter.prepare(parker: parker)
        return (parker, waiter)
    }

    /// The full ring's path of a thread's `put`: spin briefly, then sleep until woken, and try again.
    @inlinable @inline(never)
    func ringPutWaiting(_ ring: BoundedRing<Element>, _ item: Element, block: Bool, timeout: Double?) throws(QueueError) {
        guard block else { throw .full }
        let batch = ring.batch &- 1
        for spin in 0..<Self.ringSpins {
            cpuRelax()
            // First wait for a run of free slots, then for any.
            guard ring.isFree(ahead: spin < Self.ringSpins / 2 ? batch : 0) else { continue }
            switch ring.tryPush(item) {
            case .done:
                ringDidPut(ring)
                return
            case .closed: throw .shutDown
            case .full: continue
            }
        }
        try ringPutParking(ring, item, timeout: timeout)
    }

    @usableFromInline
    func ringPutParking(_ ring: BoundedRing<Element>, _ item: Element, timeout: Double?) throws(QueueError) {
        let deadline = Deadline.after(seconds: timeout)
        while true {
            let (parker, waiter) = lockForThreadWait()
            let look = enlist(waiter, on: .putters) { lookForRoom(ring, for: item) }
            if look != .wait {
                state.pointee.recycle(waiter)
                lock.unlock()
                if look == .shutDown { throw .shutDown }
                ringDidPut(ring)
                return
            }
            lock.unlock()
            switch park(waiter, on: parker, until: deadline, list: .putters) {
            case WaitToken.timedOut: throw .full
            case WaitToken.shutDown: throw .shutDown
            default: continue  // woken to try again (the next look is at the deadline at the latest)
            }
        }
    }

    /// The empty ring's path of a thread's `get`: spin briefly, then sleep until woken, and try again.
    @inlinable @inline(never)
    func ringGetWaiting(_ ring: BoundedRing<Element>, block: Bool, timeout: Double?) throws(QueueError) -> Element {
        if ring.isClosed && ring.isDrained { throw .shutDown }
        guard block else { throw .empty }
        let batch = ring.batch &- 1
        for spin in 0..<Self.ringSpins {
            cpuRelax()
            // First wait for a run of written items, then for any.
            guard ring.isWritten(ahead: spin < Self.ringSpins / 2 ? batch : 0), let item = ring.tryPop() else {
                continue
            }
            ringDidGet(ring)
            return item
        }
        return try ringGetParking(ring, timeout: timeout)
    }

    @usableFromInline
    func ringGetParking(_ ring: BoundedRing<Element>, timeout: Double?) throws(QueueError) -> Element {
        let deadline = Deadline.after(seconds: timeout)
        while true {
            let (parker, waiter) = lockForThreadWait()
            let look = enlist(waiter, on: .getters) { lookForItem(ring, into: waiter) }
            if look != .wait {
                let item = waiter.payload.take()
                state.pointee.recycle(waiter)
                lock.unlock()
                guard let item else { throw .shutDown }
                ringDidGet(ring)
                return item
            }
            lock.unlock()
            let token = park(waiter, on: parker, until: deadline, list: .getters)
            if token == WaitToken.granted { locked { $0.recycle(waiter) } }
            if token == WaitToken.timedOut { throw .empty }
            // Woken to try again, or by a shutdown: the next look drains what is left first.
        }
    }

    // MARK: - Tasks

    /// The full ring's path of a task's `put`: suspend until woken, and try again.
    @usableFromInline
    nonisolated(nonsending) func ringPutSuspending(_ ring: BoundedRing<Element>, _ item: Element, timeout: Double?) async throws {
        let deadline = Deadline.after(seconds: timeout)
        while true {
            let waiter = locked { $0.takeWaiter() }
            waiter.prepare(parker: nil, payload: item)
            switch await suspend(waiter, timeout: deadline.remainingSeconds, list: .putters) {
            case WaitToken.completed: return
            case WaitToken.shutDown: throw QueueError.shutDown
            case WaitToken.cancelled: throw CancellationError()
            case WaitToken.timedOut: throw QueueError.full
            default:
                // Woken to try again.
                switch ring.tryPush(item) {
                case .done:
                    ringDidPut(ring)
                    return
                case .closed: throw QueueError.shutDown
                case .full: if deadline.hasPassed { throw QueueError.full }
                }
            }
        }
    }

    /// The empty ring's path of a task's `get`: suspend until woken, and try again.
    @usableFromInline
    nonisolated(nonsending) func ringGetSuspending(_ ring: BoundedRing<Element>, timeout: Double?) async throws -> Element {
        if ring.isClosed && ring.isDrained { throw QueueError.shutDown }
        let deadline = Deadline.after(seconds: timeout)
        while true {
            let waiter = locked { $0.takeWaiter() }
            waiter.prepare(parker: nil)
            let token = await suspend(waiter, timeout: deadline.remainingSeconds, list: .getters)
            switch token {
            case WaitToken.completed:
                return locked { machine in
                    let item = waiter.payload.take().unsafelyUnwrapped
                    if timeout == nil { machine.recycle(waiter) }
                    return item
                }
            case WaitToken.granted:
                if timeout == nil { locked { $0.recycle(waiter) } }
            case WaitToken.cancelled: throw CancellationError()
            case WaitToken.timedOut: throw QueueError.empty
            default: break  // shut down: drain what is left first
            }
            if let item = ring.tryPop() {
                ringDidGet(ring)
                return item
            }
            if ring.isClosed && ring.isDrained { throw QueueError.shutDown }
            if deadline.hasPassed { throw QueueError.empty }
        }
    }

    /// `register` for a ring queue: under the lock, ends the wait at once when a timeout or a
    /// cancellation came first or when a look finds something to do, or queues the waiter.
    /// - Returns: The token, or `nil` when the waiter is queued.
    func registerOnRing(_ ring: BoundedRing<Element>, _ waiter: Waiter, on list: Machine.List) -> UInt32? {
        lock.lock()
        let pending = waiter.abandonToken.load(ordering: .acquiring)
        if pending != 0 {
            lock.unlock()
            return pending
        }
        let look: RingLook
        switch list {
        case .getters: look = enlist(waiter, on: list) { lookForItem(ring, into: waiter) }
        case .putters: look = enlist(waiter, on: list) { lookForRoom(ring, for: waiter.payload.unsafelyUnwrapped) }
        case .joiners: look = enlist(waiter, on: list) { ring.unfinished == 0 ? .done : .wait }
        }
        lock.unlock()
        switch look {
        case .wait: return nil
        case .shutDown: return WaitToken.shutDown
        case .done:
            switch list {
            case .getters: ringDidGet(ring)
            case .putters: ringDidPut(ring)
            case .joiners: return WaitToken.granted
            }
            return WaitToken.completed
        }
    }

    // MARK: - Tasks done

    /// `taskDone()` of a ring queue: the count of dones goes up without the lock; the joiners are
    /// woken (under it) when it reaches the count of puts.
    @usableFromInline func ringTaskDone(_ ring: BoundedRing<Element>) throws(QueueError) {
        guard let left = ring.markDone() else { throw .taskDoneTooManyTimes }
        guard left == 0 else { return }
        atomicMemoryFence(ordering: .sequentiallyConsistent)
        guard ring.waitingJoiners.pointee.load(ordering: .relaxed) != 0 else { return }
        lock.lock()
        unlock(waking: state.pointee.releaseRingJoiners(ring))
    }

    /// `join()` of a ring queue, on a thread.
    @usableFromInline func ringJoin(_ ring: BoundedRing<Element>) {
        let (parker, waiter) = lockForThreadWait()
        let look = enlist(waiter, on: .joiners) { ring.unfinished == 0 ? .done : .wait }
        if look != .wait {
            state.pointee.recycle(waiter)
            lock.unlock()
            return
        }
        lock.unlock()
        _ = park(waiter, on: parker, until: .never, list: .joiners)
    }
}
