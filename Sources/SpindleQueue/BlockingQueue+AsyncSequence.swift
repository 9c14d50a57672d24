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
    }

    /// Makes an iterator that takes items from the queue.
    /// - Returns: The iterator.
    public func makeAsyncIterator() -> AsyncIterator { AsyncIterator(queue: self) }
}
