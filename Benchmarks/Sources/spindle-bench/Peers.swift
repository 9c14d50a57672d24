// Thin wrappers that give the peers' locks one shape, so the loops measuring them read alike.
// Each holds its lock where it never moves and adds nothing to the lock's own call.
#if canImport(Glibc)
import Glibc
#endif
import Synchronization

/// A pthread mutex at a fixed address, normal or recursive.
final class PthreadMutex: @unchecked Sendable {
    let mutex: UnsafeMutablePointer<pthread_mutex_t>

    init(recursive: Bool = false) {
        mutex = .allocate(capacity: 1)
        var attributes = pthread_mutexattr_t()
        pthread_mutexattr_init(&attributes)
        pthread_mutexattr_settype(
            &attributes, Int32(recursive ? PTHREAD_MUTEX_RECURSIVE : PTHREAD_MUTEX_NORMAL))
        pthread_mutex_init(mutex, &attributes)
        pthread_mutexattr_destroy(&attributes)
    }

    deinit {
        pthread_mutex_destroy(mutex)
        mutex.deallocate()
    }

    @inline(__always)
    func lock() { pthread_mutex_lock(mutex) }

    @inline(__always)
    func unlock() { pthread_mutex_unlock(mutex) }
}

/// A `Synchronization.Mutex` guarding an integer, in a class so threads can share it.
final class MutexCounter: Sendable {
    let mutex = Mutex(0)

    var value: Int { mutex.withLock { $0 } }
}
