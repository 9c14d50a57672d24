#if canImport(Glibc)
import Glibc
#endif

/// The children this process started through `Popen` and has not reaped yet.
///
/// A child subreaper (spindled) also reaps orphaned descendants that were re-parented to it;
/// it must not reap a `Popen` child, whose exit status belongs to its `Popen`. `exclusively`
/// tells them apart: while its body runs no child can be started, so a pid that is a zombie
/// child of this process and not in the set is an adopted orphan.
public enum SpawnedChildren {
    private final class Registry: @unchecked Sendable {
        /// Spawns hold it shared, `exclusively` holds it exclusive.
        let gate: UnsafeMutablePointer<pthread_rwlock_t> = {
            let gate = UnsafeMutablePointer<pthread_rwlock_t>.allocate(capacity: 1)
            pthread_rwlock_init(gate, nil)
            return gate
        }()
        let guardLock: UnsafeMutablePointer<pthread_mutex_t> = {
            let lock = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
            pthread_mutex_init(lock, nil)
            return lock
        }()
        var pids: Set<Int32> = []

        func withPids<T>(_ body: (inout Set<Int32>) -> T) -> T {
            pthread_mutex_lock(guardLock)
            defer { pthread_mutex_unlock(guardLock) }
            return body(&pids)
        }
    }

    private static let registry = Registry()

    /// Runs a spawn and records the child it made, with no `exclusively` body running meanwhile.
    static func spawning(_ spawn: () -> Int32?) -> Bool {
        pthread_rwlock_rdlock(registry.gate)
        defer { pthread_rwlock_unlock(registry.gate) }
        guard let pid = spawn() else { return false }
        registry.withPids { _ = $0.insert(pid) }
        return true
    }

    /// Forgets a child that has been reaped.
    static func reaped(_ pid: Int32) {
        registry.withPids { _ = $0.remove(pid) }
    }

    /// Runs `body` while no child can be started, with a test telling whether a pid is a child
    /// started through `Popen` and not reaped yet.
    /// - Parameter body: Receives the test; it may reap the pids the test rejects.
    /// - Returns: What `body` returns.
    public static func exclusively<T>(_ body: (_ isSpawned: (Int32) -> Bool) throws -> T) rethrows -> T {
        pthread_rwlock_wrlock(registry.gate)
        defer { pthread_rwlock_unlock(registry.gate) }
        let snapshot = registry.withPids { $0 }
        return try body { snapshot.contains($0) }
    }
}
