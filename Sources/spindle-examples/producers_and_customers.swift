#if canImport(Glibc)
import Glibc
#endif
import Spindle

/// Producers and customers (producers_and_customers.py): producers add items to a store of limited
/// capacity and customers take them out, each side waiting on one `Condition` when the store is
/// full or empty (the P and V of a semaphore, written with a condition).
///
/// Every change prints the thread's name, "+" or "-", the new count and as many dots. The
/// producers make a fixed number of items and the customers take exactly as many, so the program
/// ends with the store empty. The customers start a little after the producers, so the store
/// starts with a few items; after that both sides work at the same pace and the count wanders.
enum ProducersAndCustomers {
    static let producers = 8
    static let customers = 8
    static let itemsPerThread = 5
    static let capacity = 10
    /// How long the customers let the producers fill the store first.
    static let customersHeadStartMicroseconds: UInt32 = 6_000

    /// The store: a count of items guarded by a condition.
    final class Store: @unchecked Sendable {
        let condition = Condition()
        let capacity: Int
        private(set) var count = 0  // guarded by condition
        private(set) var produced = 0
        private(set) var consumed = 0

        init(capacity: Int) { self.capacity = capacity }

        /// Adds one item, waiting while the store is full.
        func put(by name: String) throws {
            try condition.withLock {
                try condition.waitFor { count < capacity }
                count += 1
                produced += 1
                report(name, "+")
                try condition.notifyAll()
            }
        }

        /// Takes one item, waiting while the store is empty.
        func take(by name: String) throws {
            try condition.withLock {
                try condition.waitFor { count > 0 }
                count -= 1
                consumed += 1
                report(name, "-")
                try condition.notifyAll()
            }
        }

        /// Prints a change; called with the lock held, so the lines come out in the order of the
        /// changes.
        private func report(_ name: String, _ sign: String) {
            Console.line("\(name) \(sign) : \(twoDigits(count))\(count > 0 ? " " : "")\(String(repeating: ".", count: count))")
        }

        /// The totals, read under the lock.
        var totals: (count: Int, produced: Int, consumed: Int) {
            condition.withLock { (count, produced, consumed) }
        }
    }

    static func run() throws -> Int32 {
        let store = Store(capacity: capacity)
        var threads: [SpindleThread] = []
        for number in 1...producers {
            threads.append(
                SpindleThread(name: "producer\(number)") {
                    for _ in 0..<itemsPerThread {
                        usleep(UInt32.random(in: 0...15_000))
                        try store.put(by: "producer\(number)")
                    }
                })
        }
        for number in 1...customers {
            threads.append(
                SpindleThread(name: "customer\(number)") {
                    usleep(customersHeadStartMicroseconds)
                    for _ in 0..<itemsPerThread {
                        usleep(UInt32.random(in: 0...15_000))
                        try store.take(by: "customer\(number)")
                    }
                })
        }
        for thread in threads { try thread.start() }
        for thread in threads { try thread.join() }

        let totals = store.totals
        Console.line(
            separator("produced \(totals.produced), consumed \(totals.consumed), count: \(twoDigits(totals.count))"))
        return totals.count == 0 && totals.produced == producers * itemsPerThread ? 0 : 1
    }
}
