/// Orders over `depends_on` graphs: cycle detection for the configuration, and the stop order
/// (dependents before what they depend on) for the supervisor.
///
/// Nodes are identified by keys (`group:process` names); `dependencies[key]` lists the keys a
/// node depends on. Keys missing from the node list are ignored.
enum DependencyOrder {
    /// The first cycle met walking the nodes in order, as the path from a node back to it
    /// (`[a, b, a]`), or `nil` when there is none.
    /// - Parameters:
    ///   - nodes: The node keys, in the order to search from.
    ///   - dependencies: Each node's dependencies.
    /// - Returns: The cycle.
    static func cycle(nodes: [String], dependencies: [String: [String]]) -> [String]? {
        enum Mark { case visiting, done }
        var marks: [String: Mark] = [:]
        let known = Set(nodes)
        var path: [String] = []
        func visit(_ node: String) -> [String]? {
            switch marks[node] {
            case .done: return nil
            case .visiting:
                let start = path.firstIndex(of: node) ?? 0
                return Array(path[start...]) + [node]
            case nil: break
            }
            marks[node] = .visiting
            path.append(node)
            for next in dependencies[node] ?? [] where known.contains(next) {
                if let found = visit(next) { return found }
            }
            path.removeLast()
            marks[node] = .done
            return nil
        }
        for node in nodes {
            if let found = visit(node) { return found }
        }
        return nil
    }

    /// The items in stop order: every item after all the items that depend on it, and
    /// otherwise in the order given (a stable topological sort).
    /// - Parameters:
    ///   - items: The items, in the order they would stop without dependencies.
    ///   - key: An item's key.
    ///   - dependencies: The keys an item depends on.
    /// - Returns: The items reordered.
    static func stopOrder<T>(_ items: [T], key: (T) -> String, dependencies: (T) -> [String]) -> [T] {
        let keys = items.map(key)
        let index = Dictionary(keys.enumerated().map { ($1, $0) }, uniquingKeysWith: { first, _ in first })
        // dependents[i]: how many items still to be placed depend on item i.
        var dependents = [Int](repeating: 0, count: items.count)
        let edges = items.map { item in dependencies(item).compactMap { index[$0] } }
        for targets in edges { for target in targets { dependents[target] += 1 } }
        var placed = [Bool](repeating: false, count: items.count)
        var order: [T] = []
        while order.count < items.count {
            // The first item in the given order that nothing unplaced depends on; with a cycle
            // (which the configuration refuses), the first unplaced item.
            let next = (0..<items.count).first { !placed[$0] && dependents[$0] == 0 } ?? (0..<items.count).first { !placed[$0] }!
            placed[next] = true
            order.append(items[next])
            for target in edges[next] { dependents[target] -= 1 }
        }
        return order
    }

    /// The items in start order: every item after the items it depends on, and otherwise in
    /// the order given (a stable topological sort).
    /// - Parameters:
    ///   - items: The items, in the order they would start without dependencies.
    ///   - key: An item's key.
    ///   - dependencies: The keys an item depends on.
    /// - Returns: The items reordered.
    static func startOrder<T>(_ items: [T], key: (T) -> String, dependencies: (T) -> [String]) -> [T] {
        let keys = items.map(key)
        let index = Dictionary(keys.enumerated().map { ($1, $0) }, uniquingKeysWith: { first, _ in first })
        let edges = items.map { item in dependencies(item).compactMap { index[$0] } }
        var placed = [Bool](repeating: false, count: items.count)
        var order: [T] = []
        while order.count < items.count {
            let next = (0..<items.count).first { i in !placed[i] && edges[i].allSatisfy { placed[$0] } } ?? (0..<items.count).first { !placed[$0] }!
            placed[next] = true
            order.append(items[next])
        }
        return order
    }

    /// The items split into batches that stop one after another: `stopOrder`, cut before an
    /// item that an item of the current batch depends on (and, with `sameBatch`, where it says so).
    /// - Parameters:
    ///   - items: The items, in the order they would stop without dependencies.
    ///   - key: An item's key.
    ///   - dependencies: The keys an item depends on.
    ///   - sameBatch: Whether two neighbours may share a batch apart from dependencies.
    /// - Returns: The batches; one batch holding every item when no item depends on another.
    static func stopBatches<T>(
        _ items: [T], key: (T) -> String, dependencies: (T) -> [String], sameBatch: (T, T) -> Bool = { _, _ in true }
    ) -> [[T]] {
        var batches: [[T]] = []
        var current: [T] = []
        var needed: Set<String> = []
        for item in stopOrder(items, key: key, dependencies: dependencies) {
            if let last = current.last, needed.contains(key(item)) || !sameBatch(last, item) {
                batches.append(current)
                current = []
                needed = []
            }
            current.append(item)
            needed.formUnion(dependencies(item))
        }
        if !current.isEmpty { batches.append(current) }
        return batches
    }
}
