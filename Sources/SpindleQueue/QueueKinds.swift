/// A first-in first-out queue (Python's `queue.Queue`).
public typealias Queue<Element: Sendable> = BlockingQueue<FIFOOrder<Element>>

/// A last-in first-out queue (Python's `queue.LifoQueue`).
public typealias LifoQueue<Element: Sendable> = BlockingQueue<LIFOOrder<Element>>

/// A queue that hands out the lowest item first, equal items in the order they were put
/// (Python's `queue.PriorityQueue`).
public typealias PriorityQueue<Element: Comparable & Sendable> = BlockingQueue<PriorityOrder<Element>>
