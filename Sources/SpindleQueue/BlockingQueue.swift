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
/// Items move through a ring buffer (or a heap) under one futex lock; an item put while a getter
/// waits is handed to it directly, and a waiting getter or putter spins and yields briefly before
/// it sleeps. The put and get fast paths are inlinable, so they are specialised for the element
/// type in the caller's module.
public final class BlockingQueue<Order: QueueOrder>: @unchecked Sendable where Order.Element: Sendable {
    /// The items' type.
    public typealias Element = Order.Element
    @usableFromInline typealias Machine = QueueStateMachine<Order>
    @usableFromInline typealias QueueWaiter = Waiter<Element>

    /// The most items the queue holds; 0 for no limit.
    public let maxsize: Int
    @usableFromInline let lock = Lock()
    @usableFromInline let state: UnsafeMutablePointer<Machine>

    /// Creates a queue.
    /// - Parameter maxsize: The most items it holds; 0 or less for no limit, as in Python.
    public init(maxsize: Int = 0) {
        self.maxsize = Swift.max(0, maxsize)
        state = .allocate(capacity: 1)
        state.initialize(to: Machine(maxsize: self.maxsize))
    }

    deinit {
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

    // MARK: - Size

    /// The number of items in the queue now.
    public var qsize: Int { locked { $0.buffer.count } }

    /// Whether the queue holds no items now.
    public var empty: Bool { qsize == 0 }

    /// Whether a bounded queue holds `maxsize` items now.
    public var full: Bool { locked { $0.isFull } }

    /// Whether `shutdown` has been called.
    public var isShutdown: Bool { locked { $0.isShutdown } }

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
        switch locked({ $0.put(item) }) {
        case .done(let wake): wake.run()
        case .shutDown: throw .shutDown
        case .full: try putWaiting(item, block: block, timeout: timeout)
        }
    }

    /// The full queue's path of `put`: wait for room (the waiter's parker spins briefly first).
    @usableFromInline
    func putWaiting(_ item: Element, block: Bool, timeout: Double?) throws(QueueError) {
        guard block else { throw .full }
        let waiter = QueueWaiter(thread: (), payload: item)
        switch parkThread(waiter, until: .after(seconds: timeout), register: registerPutter, withdraw: withdrawPutter) {
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
    public func put(_ item: Element, timeout: Double? = nil) async throws {
        try QueueError.validate(timeout: timeout)
        switch locked({ $0.put(item) }) {
        case .done(let wake):
            wake.run()
            return
        case .shutDown: throw QueueError.shutDown
        case .full: break
        }
        let waiter = QueueWaiter(task: (), payload: item)
        let token = await suspendTask(
            waiter, timeout: timeout, register: registerPutter, withdraw: { [self] in withdrawPutter($0) })
        switch token {
        case WaitToken.granted: return
        case WaitToken.shutDown: throw QueueError.shutDown
        case WaitToken.cancelled: throw CancellationError()
        default: throw QueueError.full
        }
    }

    private func registerPutter(_ waiter: QueueWaiter) -> UInt32? {
        let (token, wake) = locked { machine -> (UInt32?, Machine.Wake) in
            switch machine.put(waiter.payload!) {
            case .done(let wake):
                waiter.payload = nil
                return (WaitToken.granted, wake)
            case .shutDown: return (WaitToken.shutDown, Machine.Wake())
            case .full:
                machine.putters.append(waiter)
                return (nil, Machine.Wake())
            }
        }
        wake.run()
        return token
    }

    private func withdrawPutter(_ waiter: QueueWaiter) -> Bool {
        locked { $0.putters.remove(waiter) }
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
        switch locked({ $0.get() }) {
        case .item(let item, let wake):
            wake.run()
            return item
        case .shutDown: throw .shutDown
        case .empty: return try getWaiting(block: block, timeout: timeout)
        }
    }

    /// The empty queue's path of `get`: wait for an item (the waiter's parker spins briefly first).
    @usableFromInline
    func getWaiting(block: Bool, timeout: Double?) throws(QueueError) -> Element {
        guard block else { throw .empty }
        let waiter = QueueWaiter(thread: ())
        switch parkThread(waiter, until: .after(seconds: timeout), register: registerGetter, withdraw: withdrawGetter) {
        case WaitToken.granted: return waiter.payload.take()!
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
    public func get(timeout: Double? = nil) async throws -> Element {
        try QueueError.validate(timeout: timeout)
        switch locked({ $0.get() }) {
        case .item(let item, let wake):
            wake.run()
            return item
        case .shutDown: throw QueueError.shutDown
        case .empty: break
        }
        let waiter = QueueWaiter(task: ())
        let token = await suspendTask(
            waiter, timeout: timeout, register: registerGetter, withdraw: { [self] in withdrawGetter($0) })
        switch token {
        case WaitToken.granted:
            let item = waiter.payload.take()!
            if waiter.abandonToken.load(ordering: .acquiring) == WaitToken.cancelled {
                locked { $0.putBack(item) }.run()
                throw CancellationError()
            }
            return item
        case WaitToken.shutDown: throw QueueError.shutDown
        case WaitToken.cancelled: throw CancellationError()
        default: throw QueueError.empty
        }
    }

    private func registerGetter(_ waiter: QueueWaiter) -> UInt32? {
        let (token, wake) = locked { machine -> (UInt32?, Machine.Wake) in
            switch machine.get() {
            case .item(let item, let wake):
                waiter.payload = item
                return (WaitToken.granted, wake)
            case .shutDown: return (WaitToken.shutDown, Machine.Wake())
            case .empty:
                machine.getters.append(waiter)
                return (nil, Machine.Wake())
            }
        }
        wake.run()
        return token
    }

    private func withdrawGetter(_ waiter: QueueWaiter) -> Bool {
        locked { $0.getters.remove(waiter) }
    }

    // MARK: - Tasks

    /// Marks one item taken from the queue as processed, for `join()`.
    /// - Throws: `QueueError.taskDoneTooManyTimes` when called more often than items were put.
    public func taskDone() throws(QueueError) {
        try locked { (machine: inout Machine) throws(QueueError) in try machine.taskDone() }.run()
    }

    /// Blocks until every item put has been marked done with `taskDone()`.
    public func join() {
        _ = parkThread(QueueWaiter(thread: ()), until: .never, register: registerJoiner, withdraw: withdrawJoiner)
    }

    /// Suspends the task until every item put has been marked done.
    /// - Throws: `CancellationError` when the task is cancelled while waiting.
    public func join() async throws(CancellationError) {
        let token = await suspendTask(
            QueueWaiter(task: ()), timeout: nil, register: registerJoiner, withdraw: { [self] in withdrawJoiner($0) })
        if token == WaitToken.cancelled { throw CancellationError() }
    }

    /// The number of items put and not yet marked done.
    public var unfinishedTasks: Int { locked { $0.unfinished } }

    private func registerJoiner(_ waiter: QueueWaiter) -> UInt32? {
        locked { machine in
            if machine.unfinished == 0 { return WaitToken.granted }
            machine.joiners.append(waiter)
            return nil
        }
    }

    private func withdrawJoiner(_ waiter: QueueWaiter) -> Bool {
        locked { $0.joiners.remove(waiter) }
    }

    // MARK: - Shutdown

    /// Shuts the queue down (Python 3.13): later puts throw `QueueError.shutDown`; gets drain what
    /// is left and then throw it; blocked putters and getters wake with it.
    /// - Parameter immediate: Also remove every queued item (counted as done for `join()`) so that
    ///   gets fail at once.
    /// - Returns: The items an immediate shutdown removed, so that none is lost unseen.
    @discardableResult
    public func shutdown(immediate: Bool = false) -> [Element] {
        let (removed, wake) = locked { $0.shutdown(immediate: immediate) }
        wake.run()
        return removed
    }
}
