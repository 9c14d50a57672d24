import Synchronization

extension Atomic where Value == UInt32 {
    /// Takes one from the counter if it is above zero (a semaphore's take, a condition's token),
    /// with a compare-and-swap loop, as another process may change it at any moment.
    /// Sequentially consistent, which the condition's protocol needs (and costs a semaphore
    /// nothing on x86, where the exchange is a full barrier anyway).
    /// - Returns: Whether one was taken.
    func decrementIfPositive() -> Bool {
        var current = load(ordering: .sequentiallyConsistent)
        while current > 0 {
            let (exchanged, original) = compareExchange(expected: current, desired: current - 1, ordering: .sequentiallyConsistent)
            if exchanged { return true }
            current = original
        }
        return false
    }
}
