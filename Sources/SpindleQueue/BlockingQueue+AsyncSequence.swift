extension BlockingQueue: AsyncSequence {
    /// Iterates over the queue's items as tasks take them; the iteration ends when the queue is shut
    /// down and empty, or when the task is cancelled.
    public struct AsyncIterator: AsyncIteratorProtocol {
        let queue: BlockingQueue

        /// Takes the next item.
        /// - Returns: The item, or `nil` once the queue is shut down and empty or the task is cancelled.
        public mutating func next() async -> Element? {
            try? await queue.get()
        }

        /// Takes the next item, staying on the caller's actor (what `for await` calls).
        /// - Parameter actor: The caller's actor, if any.
        /// - Returns: The item, or `nil` once the queue is shut down and empty or the task is cancelled.
        public mutating func next(isolation actor: isolated (any Actor)?) async -> Element? {
            try? await queue.get()
        }
    }

    /// Makes an iterator that takes items from the queue.
    /// - Returns: The iterator.
    public func makeAsyncIterator() -> AsyncIterator { AsyncIterator(queue: self) }
}
