import SpindleSystem
import Synchronization

/// A value with a separate copy in every thread (Python's `threading.local`).
///
/// A thread's copy is made by the factory the first time that thread reads it, and freed when the
/// thread ends or when the `ThreadLocal` is freed, whichever comes first.
///
/// ```swift
/// let local = ThreadLocal { 0 }
/// local.value = 42   // only this thread sees 42
/// ```
public final class ThreadLocal<Value>: @unchecked Sendable {
    final class Box: @unchecked Sendable {  // only its own thread reads or writes it
        var value: Value
        init(_ value: Value) { self.value = value }
    }

    private static var nextID: UInt64 { ThreadLocalIDs.next.wrappingAdd(1, ordering: .relaxed).newValue }

    private let id: UInt64
    private let factory: @Sendable () -> Value
    private let storages = Locked<[WeakStorage]>([])

    /// Creates a thread-local value.
    /// - Parameter factory: Makes each thread's initial value; called on that thread.
    public init(_ factory: @escaping @Sendable () -> Value) {
        self.id = Self.nextID
        self.factory = factory
    }

    deinit {
        let live = storages.withLock { $0.compactMap(\.storage) }
        for storage in live {
            let removed = storage.values.withLock { $0.removeValue(forKey: id) }
            _ = removed  // released here, outside the storage's lock
        }
    }

    /// The calling thread's value.
    public var value: Value {
        get { box().value }
        set { box().value = newValue }
        _modify { yield &box().value }
    }

    /// Whether the calling thread has a value yet (without making one).
    public var hasValue: Bool {
        ThreadStorage.current.values.withLock { $0[id] != nil }
    }

    /// Forgets the calling thread's value; the next read makes a new one (Python's `del local.x`).
    public func reset() {
        let removed = ThreadStorage.current.values.withLock { $0.removeValue(forKey: id) }
        _ = removed
    }

    private func box() -> Box {
        let storage = ThreadStorage.current
        if let existing = storage.values.withLock({ $0[id] }) {
            return unsafeDowncast(existing, to: Box.self)
        }
        let made = Box(factory())
        storage.values.withLock { $0[id] = made }
        storages.withLock { list in
            if list.count >= 16, list.count.nonzeroBitCount == 1 {
                list.removeAll { $0.storage == nil }
            }
            list.append(WeakStorage(storage: storage))
        }
        return made
    }
}

/// Where `ThreadLocal` ids come from (a generic type cannot hold the static counter itself).
enum ThreadLocalIDs {
    static let next = Atomic<UInt64>(0)
}
