import SpindleSystem
import SpindleThreading
import Synchronization

/// A thread-safe queue with Python's `queue` semantics, shared by blocked threads and suspended tasks.
///
/// Use it through `Queue`, `LifoQueue` or `PriorityQueue`. `put` blocks while a bounded queue is
/// full and `get` while it is empty; `put`/`get` with `await` suspend a task instead of blocking a
/// thread, and a thread may produce while a task consumes, or the other way round. `taskDone()` and
/// `join()` track completion; `shutdown(immediate:)` ends the queue with Python 3.13's rules.
///
/// A bounded `Queue` (FIFO, `maxsize` from 1 to `ringLimit`) keeps its items in a lock-free ring
/// (`BoundedRing`): a put that finds room and a get that finds an item take no lock; only waiting
/// (and `taskDone`/`join` reaching zero, and `shutdown`) does. A waiter woken on a ring queue
/// tries again. Other queues (unbounded, LIFO, priority) move items through a growable ring
/// buffer or a heap under one futex lock, and an item put while a getter waits is handed to it
/// directly. A waiting thread parks on its futex parker, a waiting task suspends on a
/// continuation; wakers resolve them after releasing the lock. The put and get fast paths are
/// inlinable, so they are specialised for the element type in the caller's module.
public final class BlockingQueue<Order: QueueOrder>: @unchecked Sendable where Order.Element: Sendable {
    /// The items' type.
    public typealias Element = Order.Element
    @usableFromInline typealias Machine = QueueStateMachine<Order>
    @usableFromInline typealias Waiter = QueueWaiter<Element>

    /// The most items the queue holds; 0 for no limit.
    public let maxsize: Int
    @usableFromInline let lock = Lock()
    @usableFromInline let state: UnsafeMutablePointer<Machine>
    /// The lock-free storage of a bounded FIFO queue; `nil` for the other queues.
    @usableFromInline let ring: BoundedRing<Element>?

    /// The largest `maxsize` for which a FIFO queue allocates its lock-free ring up front (its
    /// slots take `maxsize` times the item's stride plus 8 bytes); a larger one grows as it fills.
    public static var ringLimit: Int { 1 << 16 }

    /// Creates a queue.
    /// - Parameter maxsize: The most items it holds; 0 or less for no limit, as in Python.
    public init(maxsize: Int = 0) {
        self.maxsize = Swift.max(0, maxsize)
        let lockFree = Order.self == FIFOOrder<Element>.self && self.maxsize > 0 && self.maxsize <= Self.ringLimit
        ring = lockFree ? BoundedRing(capacity: self.maxsize) : nil
        state = .allocate(capacity: 1)
        state.initialize(to: Machine(maxsize: self.maxsize, ring: ring))
    }

    deinit {
        ring?.deallocate()
        state.deinitialize(count: 1)
        state.deallocate()
    }

    @inlinable @inline(__always)
    func locked<Result, Failure: Error>(
        _ body: (inout Machine) throws(Failure) -> Result
    ) throws(Failure) -> Result {
        lock.lock()
        defer { lock.unlock() }
        return try body(&state.pointee)
    }

    /// Releases the lock, then resolves `waiter` (if any) with `token`.
    @inlinable @inline(__always)
    func unlock(waking waiter: Resumption?, with token: UInt32) {
        lock.unlock()
        waiter?.resume(token)
    }

    /// Releases the lock, then resolves the waiters of `wake`.
    func unlock(waking wake: Machine.Wake) {
        lock.unlock()
        wake.run()
    }

    // MARK: - Size

    /// The number of items in the queue now.
    public var qsize: Int {
        if let ring { return ring.count }
        return locked { $0.buffer.count }
    }

    /// Whether the queue holds no items now.
    public var empty: Bool { qsize == 0 }

    /// Whether a bounded queue holds `maxsize` items now.
    public var full: Bool {
        if ring != nil { return qsize >= maxsize }
        return locked { $0.isFull }
    }

    /// Whether `shutdown` has been called.
    public var isShutdown: Bool {
        if let ring { return ring.isClosed }
        return locked { $0.isShutdown }
    }

    // MARK: - Put

    /// Puts an item in the queue.
    /// - Parameters:
    ///   - item: The item.
    ///   - block: Whether to wait for room in a full bounded queue.
    ///   - timeout: Seconds to wait at most; `nil` waits as long as it takes.
    /// - Throws: `QueueError.full` when there is no room (at once, or by the timeout);
    ///   `QueueError.shutDown` after `shutdown`; `QueueError.invalidArgument` for a negative timeout.
    @inlinable
    public func put(_ item: Element, block: Bool = true, timeout: Double? = nil) throws(QueueError) {
        if block, timeout != nil { try QueueError.validate(timeout: timeout) }
        if let ring {
            switch ring.tryPush(item) {
            case .done: ringDidPut(ring)
            case .closed: throw .shutDown
            case .full: try ringPutWaiting(ring, item, block: block, timeout: timeout)
            }
            return
        }
        lock.lock()
        switch state.pointee.put(item) {
        case .done(let getter):
            unlock(waking: getter, with: WaitToken.granted)
        case .shutDown:
            lock.unlock()
            throw .shutDown
        case .full:
            try putWaiting(item, block: block, timeout: timeout)
        }
    }

    /// The full queue's path of `put`, entered with the lock held (the same critical section
    /// that found the queue full queues the waiter): wait for room.
    @usableFromInline
    func putWaiting(_ item: Element, block: Bool, timeout: Double?) throws(QueueError) {
        guard block else {
            lock.unlock()
            throw .full
        }
        let deadline = Deadline.after(seconds: timeout)
        let parker = Parker.forCurrentThread()
        let waiter = state.pointee.takeWaiter()
        waiter.prepare(parker: parker, payload: item)
        state.pointee.putters.append(waiter)
        lock.unlock()
        let token = park(waiter, on: parker, until: deadline, list: .putters)
        switch token {
        case WaitToken.granted: return
        case WaitToken.shutDown: throw .shutDown
        default: throw .full
        }
    }

    /// Puts an item without waiting (Python's `put_nowait`).
    /// - Parameter item: The item.
    /// - Throws: `QueueError.full` or `QueueError.shutDown`.
    public func putNowait(_ item: Element) throws(QueueError) {
        try put(item, block: false)
    }

    /// Puts an item, suspending the task (not blocking its thread) while the queue is full.
    /// - Parameters:
    ///   - item: The item.
    ///   - timeout: Seconds to wait at most; `nil` waits as long as it takes.
    /// - Throws: `QueueError.shutDown`, `QueueError.full` on timeout, or `CancellationError` (the
    ///   item was not put).
    @inlinable @inline(__always)
    nonisolated(nonsending) public func put(_ item: Element, timeout: Double? = nil) async throws {
        if timeout != nil { try QueueError.validate(timeout: timeout) }
        if let ring {
            switch ring.tryPush(item) {
            case .done: ringDidPut(ring)
            case .closed: throw QueueError.shutDown
            case .full: try await ringPutSuspending(ring, item, timeout: timeout)
            }
            return
        }
        lock.lock()
        switch state.pointee.put(item) {
        case .done(let getter):
            unlock(waking: getter, with: WaitToken.granted)
        case .shutDown:
            lock.unlock()
            throw QueueError.shutDown
        case .full:
            let waiter = state.pointee.takeWaiter()
            lock.unlock()
            try await putSuspending(item, waiter, timeout: timeout)
        }
    }

    /// The full queue's path of the async `put`: suspend on `waiter` (taken from the spare list
    /// in the critical section that found the queue full) until there is room.
    @usableFromInline
    nonisolated(nonsending) func putSuspending(_ item: Element, _ waiter: Waiter, timeout: Double?) async throws {
        waiter.prepare(parker: nil, payload: item)
        let token = await suspend(waiter, timeout: timeout, list: .putters)
        switch token {
        case WaitToken.granted: return
        case WaitToken.shutDown: throw QueueError.shutDown
        case WaitToken.cancelled: throw CancellationError()
        default: throw QueueError.full
        }
    }

    // MARK: - Get

    /// Removes and returns the next item.
    /// - Parameters:
    ///   - block: Whether to wait for an item when the queue is empty.
    ///   - timeout: Seconds to wait at most; `nil` waits as long as it takes.
    /// - Returns: The item.
    /// - Throws: `QueueError.empty` when there is none (at once, or by the timeout);
    ///   `QueueError.shutDown` once a shut-down queue is empty.
    @inlinable
    public func get(block: Bool = true, timeout: Double? = nil) throws(QueueError) -> Element {
        if block, timeout != nil { try QueueError.validate(timeout: timeout) }
        if let ring {
            if let item = ring.tryPop() {
                ringDidGet(ring)
                return item
            }
            return try ringGetWaiting(ring, block: block, timeout: timeout)
        }
        lock.lock()
        switch state.pointee.get() {
        case .item(let item, let putter):
            unlock(waking: putter, with: WaitToken.granted)
            return item
        case .shutDown:
            lock.unlock()
            throw .shutDown
        case .empty:
            return try getWaiting(block: block, timeout: timeout)
        }
    }

    /// The empty queue's path of `get`, entered with the lock held (the same critical section
    /// that found the queue empty queues the waiter): wait for an item.
    @usableFromInline
    func getWaiting(block: Bool, timeout: Double?) throws(QueueError) -> Element {
        guard block else {
            lock.unlock()
            throw .empty
        }
        let deadline = Deadline.after(seconds: timeout)
        let parker = Parker.forCurrentThread()
        let waiter = state.pointee.takeWaiter()
        waiter.prepare(parker: parker)
        state.pointee.getters.append(waiter)
        lock.unlock()
        let token = park(waiter, on: parker, until: deadline, list: .getters)
        switch token {
        case WaitToken.granted:
            // Under the lock the resolver wrote it under, so the hand-over is ordered by the lock.
            return locked { machine in
                let item = waiter.payload.take().unsafelyUnwrapped
                machine.recycle(waiter)
                return item
            }
        case WaitToken.shutDown: throw .shutDown
        default: throw .empty
        }
    }

    /// Removes and returns the next item without waiting (Python's `get_nowait`).
    /// - Returns: The item.
    /// - Throws: `QueueError.empty` or `QueueError.shutDown`.
    public func getNowait() throws(QueueError) -> Element {
        try get(block: false)
    }

    /// Removes and returns the next item, suspending the task while the queue is empty.
    /// - Parameter timeout: Seconds to wait at most; `nil` waits as long as it takes.
    /// - Returns: The item.
    /// - Throws: `QueueError.shutDown`, `QueueError.empty` on timeout, or `CancellationError`. An
    ///   item handed to a task at the moment it was cancelled goes back to the front of the queue.
    @inlinable @inline(__always)
    nonisolated(nonsending) public func get(timeout: Double? = nil) async throws -> Element {
        if timeout != nil { try QueueError.validate(timeout: timeout) }
        if let ring {
            if let item = ring.tryPop() {
                ringDidGet(ring)
                return item
            }
            return try await ringGetSuspending(ring, timeout: timeout)
        }
        lock.lock()
        switch state.pointee.get() {
        case .item(let item, let putter):
            unlock(waking: putter, with: WaitToken.granted)
            return item
        case .shutDown:
            lock.unlock()
            throw QueueError.shutDown
        case .empty:
            let waiter = state.pointee.takeWaiter()
            lock.unlock()
            return try await getSuspending(waiter, timeout: timeout)
        }
    }

    /// The empty queue's path of the async `get`: suspend on `waiter` (taken from the spare list
    /// in the critical section that found the queue empty) until an item is handed over.
    @usableFromInline
    nonisolated(nonsending) func getSuspending(_ waiter: Waiter, timeout: Double?) async throws -> Element {
        waiter.prepare(parker: nil)
        let token = await suspend(waiter, timeout: timeout, list: .getters)
        switch token {
        case WaitToken.granted:
            // An item handed over just as the task was cancelled goes back to the queue's front.
            let cancelled = waiter.abandonToken.load(ordering: .acquiring) == WaitToken.cancelled
            lock.lock()
            // Taken under the lock the resolver wrote it under.
            let item = waiter.payload.take().unsafelyUnwrapped
            if timeout == nil { state.pointee.recycle(waiter) }
            if cancelled {
                unlock(waking: state.pointee.putBack(item))
                throw CancellationError()
            }
            lock.unlock()
            return item
        case WaitToken.shutDown: throw QueueError.shutDown
        case WaitToken.cancelled: throw CancellationError()
        default: throw QueueError.empty
        }
    }

    // MARK: - Waiting

    /// Blocks the calling thread until `waiter`, queued on `list` with `parker`, is resolved or
    /// the deadline passes; a waiter resolved or withdrawn goes back to the spare list, except a
    /// granted getter's, which may hold its item (its owner recycles it after taking it).
    /// - Returns: The token, or `WaitToken.timedOut`.
    func park(_ waiter: Waiter, on parker: Parker, until deadline: Deadline, list: Machine.List) -> UInt32 {
        var token = parker.park(until: deadline)
        if token == 0 {
            let withdrawn = locked { machine in
                guard machine.withdraw(waiter, from: list) else { return false }
                machine.recycle(waiter)
                return true
            }
            if withdrawn { return WaitToken.timedOut }
            token = parker.awaitToken()  // chosen by a waker just as the deadline passed
        }
        if token != WaitToken.granted || list != .getters { locked { $0.recycle(waiter) } }
        return token
    }

    /// Suspends the calling task until `waiter` (prepared for a task) is resolved, queueing it on
    /// `list` unless the state changed since the caller looked; a timeout or a cancellation
    /// withdraws it. A waiter whose wait had a timer goes back to no spare list (the timer task may
    /// still hold it); otherwise it is recycled here, except a getter's that was granted or
    /// completed, which its caller recycles once it has taken the item.
    ///
    /// The continuation's body touches the waiter only before `register` releases the lock: from
    /// then on a waker, a timeout or a cancellation may resolve it (the task itself goes on only
    /// once the body has returned). A timeout or a cancellation that came before the waiter was
    /// queued is seen by `register` under the lock. A waker may resume the continuation before
    /// the body has returned; `taskDidResume()` then tells the thread sanitizer what the runtime
    /// does not (see there).
    /// - Returns: The token, or `WaitToken.cancelled` / `WaitToken.timedOut`.
    nonisolated(nonsending) func suspend(_ waiter: Waiter, timeout: Double?, list: Machine.List) async -> UInt32 {
        let timer: Task<Void, Never>? = timeout.map { seconds in
            Task { [self] in
                let ns = UInt64(Swift.max(0, Swift.min(seconds, 1e9)) * 1e9)
                do { try await Task.sleep(nanoseconds: ns) } catch { return }
                abandon(waiter, with: WaitToken.timedOut, list: list)
            }
        }
        let token = await withTaskCancellationHandler {
            await withUnsafeContinuation { (continuation: UnsafeContinuation<UInt32, Never>) in
                waiter.continuation = continuation
                if let token = register(waiter, on: list) { continuation.resume(returning: token) }
            }
        } onCancel: {
            abandon(waiter, with: WaitToken.cancelled, list: list)
        }
        taskDidResume()  // the resumer's accesses happen before the task's, for the sanitizer too
        let holdsItem = list == .getters && (token == WaitToken.granted || token == WaitToken.completed)
        if let timer {
            timer.cancel()
        } else if !holdsItem {
            locked { $0.recycle(waiter) }
        }
        return token
    }

    /// A timeout's or a cancellation's attempt to end a task's wait; the first one wins, and only
    /// while the waiter is still queued (before it is queued, `register` sees the token).
    private func abandon(_ waiter: Waiter, with token: UInt32, list: Machine.List) {
        guard waiter.abandonToken.compareExchange(expected: 0, desired: token, ordering: .acquiringAndReleasing).exchanged
        else { return }
        lock.lock()
        let withdrawn = state.pointee.withdraw(waiter, from: list) ? waiter.resumption : nil
        unlock(waking: withdrawn, with: token)
    }

    /// Under the lock: resolves at once when the wait is no longer needed (returning the token),
    /// or queues `waiter` on `list` (returning `nil`). A timeout or a cancellation that set its
    /// token before this critical section ends the wait here (its own withdrawal found nothing);
    /// one that comes after finds the waiter queued.
    private func register(_ waiter: Waiter, on list: Machine.List) -> UInt32? {
        if let ring { return registerOnRing(ring, waiter, on: list) }
        lock.lock()
        let pending = waiter.abandonToken.load(ordering: .acquiring)
        if pending != 0 {
            lock.unlock()
            return pending
        }
        switch list {
        case .getters:
            switch state.pointee.get() {
            case .item(let item, let putter):
                waiter.payload = item
                unlock(waking: putter, with: WaitToken.granted)
                return WaitToken.granted
            case .shutDown:
                lock.unlock()
                return WaitToken.shutDown
            case .empty:
                state.pointee.getters.append(waiter)
            }
        case .putters:
            switch state.pointee.put(waiter.payload.unsafelyUnwrapped) {
            case .done(let getter):
                waiter.payload = nil
                unlock(waking: getter, with: WaitToken.granted)
                return WaitToken.granted
            case .shutDown:
                lock.unlock()
                return WaitToken.shutDown
            case .full:
                state.pointee.putters.append(waiter)
            }
        case .joiners:
            if state.pointee.unfinished == 0 {
                lock.unlock()
                return WaitToken.granted
            }
            state.pointee.joiners.append(waiter)
        }
        lock.unlock()
        return nil
    }

    // MARK: - Tasks

    /// Marks one item taken from the queue as processed, for `join()`.
    /// - Throws: `QueueError.taskDoneTooManyTimes` when called more often than items were put.
    public func taskDone() throws(QueueError) {
        if let ring { return try ringTaskDone(ring) }
        lock.lock()
        let wake: Machine.Wake
        do {
            wake = try state.pointee.taskDone()
        } catch {
            lock.unlock()
            throw error
        }
        unlock(waking: wake)
    }

    /// Blocks until every item put has been marked done with `taskDone()`.
    public func join() {
        if let ring { return ringJoin(ring) }
        lock.lock()
        if state.pointee.unfinished == 0 {
            lock.unlock()
            return
        }
        let parker = Parker.forCurrentThread()
        let waiter = state.pointee.takeWaiter()
        waiter.prepare(parker: parker)
        state.pointee.joiners.append(waiter)
        lock.unlock()
        _ = park(waiter, on: parker, until: .never, list: .joiners)
    }

    /// Suspends the task until every item put has been marked done.
    /// - Throws: `CancellationError` when the task is cancelled while waiting.
    nonisolated(nonsending) public func join() async throws(CancellationError) {
        let waiter = locked { $0.takeWaiter() }
        waiter.prepare(parker: nil)
        let token = await suspend(waiter, timeout: nil, list: .joiners)
        if token == WaitToken.cancelled { throw CancellationError() }
    }

    /// The number of items put and not yet marked done.
    public var unfinishedTasks: Int {
        if let ring { return ring.unfinished }
        return locked { $0.unfinished }
    }

    // MARK: - Shutdown

    /// Shuts the queue down (Python 3.13): later puts throw `QueueError.shutDown`; gets drain what
    /// is left and then throw it; blocked putters and getters wake with it.
    /// - Parameter immediate: Also remove every queued item (counted as done for `join()`) so that
    ///   gets fail at once.
    /// - Returns: The items an immediate shutdown removed, so that none is lost unseen.
    @discardableResult
    public func shutdown(immediate: Bool = false) -> [Element] {
        lock.lock()
        let (removed, wake) =
            if let ring { state.pointee.shutdownRing(ring, immediate: immediate) } else {
                state.pointee.shutdown(immediate: immediate)
            }
        unlock(waking: wake)
        return removed
    }
}
