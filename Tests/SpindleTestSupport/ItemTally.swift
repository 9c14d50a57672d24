/// What a consumer of numbered items saw, for exactly-once and per-producer order checks: items
/// are `producer * stride + i`, and one producer's items must arrive in increasing order.
public struct ItemTally: Sendable {
    /// Items are `producer * stride + i`.
    public let stride: Int
    public private(set) var count = 0
    public private(set) var sum = 0
    /// The sum of the squares (wrapping), a second checksum.
    public private(set) var squares = 0
    /// Items that came after a later item of the same producer.
    public private(set) var violations = 0
    private var last: [Int: Int] = [:]

    /// Starts an empty tally.
    /// - Parameter stride: The distance between two producers' first items.
    public init(stride: Int) { self.stride = stride }

    /// Counts one item.
    /// - Parameter item: The item.
    public mutating func add(_ item: Int) {
        count += 1
        sum &+= item
        squares &+= item &* item
        let producer = item / stride
        if let previous = last[producer], previous >= item { violations += 1 }
        last[producer] = item
    }

    /// `[count, sum, squares, violations]`, the form a worker process sends back.
    public var summary: [Int] { [count, sum, squares, violations] }
}
