import SpindleSystem

/// The waiter of Event, Semaphore and Barrier; a barrier keeps the arrival index in its payload.
typealias PrimitiveWaiter = Waiter<Int>
