#if canImport(Glibc)
import Glibc
#endif
import SpindleSystem
import Synchronization

/// The values of every `ThreadLocal` for one thread, freed when the thread ends.
///
/// The values are keyed by the `ThreadLocal`'s id. A `ThreadLocal` that is freed first removes its
/// values from every thread's storage, so neither side leaks what the other leaves behind.
final class ThreadStorage: @unchecked Sendable {
    let values = Locked<[UInt64: AnyObject]>([:])

    private static let key: pthread_key_t = {
        var key = pthread_key_t()
        let rc = pthread_key_create(&key) { pointer in
            guard let pointer else { return }
            Unmanaged<ThreadStorage>.fromOpaque(pointer).release()
        }
        precondition(rc == 0, "pthread_key_create failed for thread-local storage: \(rc)")
        return key
    }()

    /// The calling thread's storage, created on first use.
    static var current: ThreadStorage {
        if let pointer = pthread_getspecific(key) {
            return Unmanaged<ThreadStorage>.fromOpaque(pointer).takeUnretainedValue()
        }
        let storage = ThreadStorage()
        pthread_setspecific(key, Unmanaged.passRetained(storage).toOpaque())
        return storage
    }

    /// Frees the calling thread's storage now (a Spindle thread does this as its last step, so the
    /// values are gone by the time `join()` returns).
    static func releaseCurrent() {
        guard let pointer = pthread_getspecific(key) else { return }
        pthread_setspecific(key, nil)
        let storage = Unmanaged<ThreadStorage>.fromOpaque(pointer).takeRetainedValue()
        // Values are released here, on their own thread, outside the storage lock.
        let values = storage.values.withLock { values -> [UInt64: AnyObject] in
            defer { values = [:] }
            return values
        }
        _ = values
    }
}

/// A weak reference to a thread's storage, kept by a `ThreadLocal` to clean up after itself.
struct WeakStorage {
    weak var storage: ThreadStorage?
}
