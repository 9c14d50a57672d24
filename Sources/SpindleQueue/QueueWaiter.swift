import DequeModule
import SpindleSystem
import Synchronization

/// One blocked thread or suspended task on a queue's getter, putter or joiner list, with the item
/// it carries (a putter's item, or the item handed to a getter).
///
/// A waiter is resolved exactly once per wait, by whoever removes it from its list while holding
/// the queue's lock: a waker, a timeout or a cancellation. Waiters are recycled: when a wait is
/// over, its owner returns the waiter to the queue's spare list (under the lock), and the next
/// wait that needs one takes it from there, so a queue that keeps suspending allocates nothing in
/// steady state. A waiter whose wait had a timer task is never recycled, because that task may
/// still try to withdraw it after the wait ended. Its fields are guarded by the queue's lock or
/// owned by one side at a time (see each), so they skip the dynamic exclusivity check.
@usableFromInline
final class QueueWaiter<Element>: @unchecked Sendable {
    /// The futex parker of a blocked thread; `nil` for a task. Set by the owner before the waiter
    /// is queued.
    @exclusivity(unchecked) var parker: Parker?
    /// The continuation of a suspended task; set before the waiter is queued.
    @exclusivity(unchecked) @usableFromInline var continuation: UnsafeContinuation<UInt32, Never>?
    /// Set when a timeout or a cancellation wants the waiter out; the first one wins. Reset when
    /// the waiter is reused.
    @usableFromInline let abandonToken = Atomic<UInt32>(0)
    /// The item, guarded by the queue's lock until the waiter is resolved, then owned by the
    /// waiter's owner (the resolution's release/acquire orders the hand-over).
    @exclusivity(unchecked) @usableFromInline var payload: Element?

    @usableFromInline init() {}

    /// Readies a recycled or new waiter for a wait; called by its owner before the waiter is
    /// queued (taking it from the spare list under the lock ordered it after its last use).
    /// - Parameters:
    ///   - parker: The blocked thread's parker, or `nil` for a task.
    ///   - payload: The item a putter carries.
    func prepare(parker: Parker?, payload: Element? = nil) {
        self.parker = parker
        self.payload = payload
        continuation = nil
        abandonToken.store(0, ordering: .relaxed)
    }

    /// What wakes the waiter, read under the queue's lock when the waiter leaves its list, so
    /// that nothing touches the waiter itself once it is woken (its owner may reuse it then).
    @usableFromInline var resumption: Resumption { Resumption(parker: parker, continuation: continuation) }
}

/// The wake-up of one waiter that left its list: its thread's parker or its task's continuation.
@usableFromInline
struct Resumption: @unchecked Sendable {
    let parker: Parker?
    let continuation: UnsafeContinuation<UInt32, Never>?

    /// Wakes the waiter with `token`; call once, without holding the queue's lock (a task's
    /// status lock may be held by a cancellation handler that is waiting for the queue's lock).
    /// - Parameter token: The outcome.
    @usableFromInline func resume(_ token: UInt32) {
        if let parker {
            parker.unpark(token)
        } else {
            continuation.unsafelyUnwrapped.resume(returning: token)
        }
    }
}

extension Deque {
    /// Removes `waiter` if it is still queued.
    ///
    /// The search starts at the back, where a waiter that has just queued itself (and withdraws
    /// because its second look found something to do) is. It reads the deque through its own
    /// subscript, not `Collection`'s generic algorithms: those call the subscript's read coroutine
    /// through a witness table, which allocates its frame on the heap when not specialized.
    /// - Parameter waiter: The waiter.
    /// - Returns: Whether it was queued (and so now belongs to the caller to resolve).
    @inlinable
    mutating func remove<Item>(_ waiter: QueueWaiter<Item>) -> Bool where Element == QueueWaiter<Item> {
        var index = endIndex
        while index > startIndex {
            index -= 1
            if self[index] === waiter {
                remove(at: index)
                return true
            }
        }
        return false
    }
}
