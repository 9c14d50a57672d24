// The peers written for the benchmarks: thin wrappers that give the peers' locks one shape (each
// holds its lock where it never moves and adds nothing to the lock's own call), the NSCondition
// queue of shared/baselines/swift-peers, and posix_spawn called straight from Swift.
#if canImport(Glibc)
import Glibc
#endif
import CBenchSupport
import Foundation
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

// MARK: - Queue peer

/// A bounded blocking queue built the usual way with NSCondition: the `CondQueue` of
/// shared/baselines/swift-peers, unchanged but for the sentinel (the loops here count items).
final class CondQueue: @unchecked Sendable {
    let condition = NSCondition()
    var items: [Int] = []
    let capacity: Int
    var head = 0

    init(_ capacity: Int) { self.capacity = capacity }

    func put(_ x: Int) {
        condition.lock()
        while items.count - head >= capacity { condition.wait() }
        items.append(x)
        condition.broadcast()
        condition.unlock()
    }

    func get() -> Int {
        condition.lock()
        while items.count == head { condition.wait() }
        let x = items[head]
        head += 1
        if head > 4096 {
            items.removeFirst(head)
            head = 0
        }
        condition.broadcast()
        condition.unlock()
        return x
    }
}

// MARK: - Process peers: posix_spawn straight from Swift

/// An argument vector for posix_spawn, built once (so the peer's loop measures only the spawn).
final class CArgv: @unchecked Sendable {
    let pointers: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>
    let count: Int

    init(_ arguments: [String]) {
        count = arguments.count
        pointers = .allocate(capacity: arguments.count + 1)
        for (i, argument) in arguments.enumerated() { pointers[i] = strdup(argument) }
        pointers[arguments.count] = nil
    }

    deinit {
        for i in 0..<count { free(pointers[i]) }
        pointers.deallocate()
    }

    var path: UnsafeMutablePointer<CChar> { pointers[0]! }
}

/// posix_spawn (glibc's: clone(CLONE_VM|CLONE_VFORK) + exec) of `argv` with this process's
/// environment and descriptors, then waitpid. Returns the raw wait status.
@inline(never)
func rawSpawnAndWait(_ argv: CArgv) -> Int32 {
    var pid: pid_t = 0
    let rc = posix_spawn(&pid, argv.path, nil, nil, argv.pointers, environ)
    check(rc == 0, "posix_spawn \(String(cString: argv.path)) failed: \(rc)")
    var status: Int32 = 0
    while waitpid(pid, &status, 0) == -1 && errno == EINTR {}
    return status
}

/// posix_spawn of `argv` with its standard output on a pipe
/// (posix_spawn_file_actions_adddup2), reads the pipe to end of file into `output`, then
/// waitpid. Returns the raw wait status.
@inline(never)
func rawSpawnCapture(_ argv: CArgv, into output: inout [UInt8]) -> Int32 {
    var ends: [Int32] = [-1, -1]
    check(bench_pipe_cloexec(&ends) == 0, "pipe2 failed: \(errno)")
    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    posix_spawn_file_actions_adddup2(&actions, ends[1], 1)  // the copy on 1 is not close-on-exec
    var pid: pid_t = 0
    let rc = posix_spawn(&pid, argv.path, &actions, nil, argv.pointers, environ)
    posix_spawn_file_actions_destroy(&actions)
    close(ends[1])
    check(rc == 0, "posix_spawn \(String(cString: argv.path)) failed: \(rc)")
    withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 65536) { scratch in
        while true {
            let n = read(ends[0], scratch.baseAddress, scratch.count)
            if n > 0 {
                output.append(contentsOf: UnsafeBufferPointer(rebasing: scratch[0..<n]))
            } else if n == 0 || errno != EINTR {
                break
            }
        }
    }
    close(ends[0])
    var status: Int32 = 0
    while waitpid(pid, &status, 0) == -1 && errno == EINTR {}
    return status
}
