import DequeModule
import Synchronization

/// The outcomes a waiter can be woken with. Zero means "no token yet".
@usableFromInline
package enum WaitToken {
    /// The wait succeeded: the permit, flag or barrier passage was granted.
    @usableFromInline package static let granted: UInt32 = 1
    /// The object the waiter waited on broke (a barrier was aborted or reset).
    package static let broken: UInt32 = 2
    /// The waiting task was cancelled.
    package static let cancelled: UInt32 = 3
    /// The deadline passed.
    package static let timedOut: UInt32 = 4
    /// The object waited on was shut down (a queue after `shutdown()`).
    @usableFromInline package static let shutDown: UInt32 = 5
    /// The operation itself completed while the waiter was being registered, so it never waited
    /// (a queue's put went in, or its get took an item, on the second look).
    @usableFromInline package static let completed: UInt32 = 6
}

/// One blocked thread or suspended task, queued on a primitive's wait list, with a payload the
/// primitive may use (a barrier's arrival index, an item handed to or from a queue).
///
/// A waiter is resolved exactly once, by whoever removes it from its primitive's wait list while
/// holding the primitive's lock: a waker, a timeout, or a cancellation. Blocked threads and
/// suspended tasks sit in the same lists, so a thread and a task can wait on one object.
@usableFromInline
package final class Waiter<Payload>: @unchecked Sendable {
    /// The futex parker of a blocked thread; `nil` for a task.
    package let parker: Parker?
    /// The continuation of a suspended task; set before the waiter is registered.
    package var continuation: UnsafeContinuation<UInt32, Never>?
    /// Set when a timeout or a cancellation wants the waiter out; the first one wins.
    package let abandonToken = Atomic<UInt32>(0)
    /// Per-primitive data, guarded by the primitive's lock until the waiter is resolved, then
    /// owned by the waiter (the token's release/acquire orders the hand-over).
    @usableFromInline package var payload: Payload?

    package init(thread: Void, payload: Payload? = nil) {
        parker = Parker.forCurrentThread()
        self.payload = payload
    }

    package init(task: Void, payload: Payload? = nil) {
        parker = nil
        self.payload = payload
    }

    /// Wakes the waiter with `token`. Called once, after the waiter left its wait list.
    @usableFromInline package func resolve(_ token: UInt32) {
        if let parker {
            parker.unpark(token)
        } else {
            continuation!.resume(returning: token)
        }
    }
}

extension Deque {
    /// Removes `waiter` if it is still queued.
    /// - Parameter waiter: The waiter.
    /// - Returns: Whether it was queued (and so now belongs to the caller to resolve).
    package mutating func remove<Payload>(_ waiter: Waiter<Payload>) -> Bool where Element == Waiter<Payload> {
        guard let index = firstIndex(where: { $0 === waiter }) else { return false }
        remove(at: index)
        return true
    }
}

/// Blocks the calling thread on `waiter` (made with `init(thread:)`).
/// - Parameters:
///   - waiter: The waiter to queue.
///   - deadline: When to give up.
///   - register: Under the primitive's lock: returns a token at once when no wait is needed, or
///     queues the waiter and returns `nil`.
///   - withdraw: Under the primitive's lock: removes the waiter if still queued and says whether it was.
/// - Returns: The token the waiter was resolved with, or `WaitToken.timedOut`.
package func parkThread<Payload>(
    _ waiter: Waiter<Payload>,
    until deadline: Deadline,
    register: (Waiter<Payload>) -> UInt32?,
    withdraw: (Waiter<Payload>) -> Bool
) -> UInt32 {
    if let token = register(waiter) { return token }
    let parker = waiter.parker!
    let token = parker.park(until: deadline)
    if token != 0 { return token }
    if withdraw(waiter) { return WaitToken.timedOut }
    return parker.awaitToken()  // chosen by a waker just as the deadline passed
}

/// Suspends the calling task on `waiter` (made with `init(task:)`), without blocking a thread.
/// - Parameters:
///   - waiter: The waiter to queue.
///   - timeout: Seconds to wait at most, or `nil`.
///   - register: As in `parkThread`.
///   - withdraw: As in `parkThread`; it may run on any thread.
/// - Returns: The token, or `WaitToken.cancelled` / `WaitToken.timedOut`.
package func suspendTask<Payload>(
    _ waiter: Waiter<Payload>,
    timeout: Double?,
    register: (Waiter<Payload>) -> UInt32?,
    withdraw: @escaping @Sendable (Waiter<Payload>) -> Bool
) async -> UInt32 {
    @Sendable func abandon(_ token: UInt32) {
        guard waiter.abandonToken.compareExchange(expected: 0, desired: token, ordering: .acquiringAndReleasing).exchanged
        else { return }
        if withdraw(waiter) { waiter.resolve(token) }
    }
    let timer: Task<Void, Never>? = timeout.map { seconds in
        Task {
            let ns = UInt64(max(0, min(seconds, 1e9)) * 1e9)
            do { try await Task.sleep(nanoseconds: ns) } catch { return }
            abandon(WaitToken.timedOut)
        }
    }
    let token = await withTaskCancellationHandler {
        await withUnsafeContinuation { (continuation: UnsafeContinuation<UInt32, Never>) in
            waiter.continuation = continuation
            if let token = register(waiter) {
                continuation.resume(returning: token)
                return
            }
            // A timeout or cancellation that came before the waiter was queued could not withdraw it.
            let pending = waiter.abandonToken.load(ordering: .acquiring)
            if pending != 0, withdraw(waiter) { waiter.resolve(pending) }
        }
    } onCancel: {
        abandon(WaitToken.cancelled)
    }
    taskDidResume()  // the resumer may have run while the body above still did (see taskDidResume)
    timer?.cancel()
    return token
}
