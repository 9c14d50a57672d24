#if canImport(Glibc)
import Glibc
#endif
import SpindleSystem
import Synchronization

/// The live threads, the calling thread's `SpindleThread`, and the exit-time join.
enum ThreadRegistry {
    static let active = Locked<[ObjectIdentifier: SpindleThread]>([:])
    static let counter = Atomic<Int>(0)
    static let stackSize = Atomic<Int>(0)
    static let exitHandlerInstalled = Atomic<Bool>(false)
    /// The process that installed the exit handler: a child forked from it inherits the handler
    /// and the registry, but none of the threads, so it must not wait for them.
    static let exitHandlerOwner = Atomic<Int32>(0)

    static let mainThread = SpindleThread(adopting: .main)

    static func nextNumber() -> Int { counter.wrappingAdd(1, ordering: .relaxed).newValue }

    static func add(_ thread: SpindleThread) { active.withLock { $0[ObjectIdentifier(thread)] = thread } }
    static func remove(_ thread: SpindleThread) {
        let removed = active.withLock { $0.removeValue(forKey: ObjectIdentifier(thread)) }
        _ = removed
    }
    static func all() -> [SpindleThread] { active.withLock { Array($0.values) } }
    static var count: Int { active.withLock { $0.count } }

    // The calling thread's SpindleThread, retained in a pthread key. A stand-in made for a foreign
    // thread is released (and unregistered) by the key's destructor when that thread ends.
    private static let currentKey: pthread_key_t = {
        var key = pthread_key_t()
        let rc = pthread_key_create(&key) { pointer in
            guard let pointer else { return }
            let thread = Unmanaged<SpindleThread>.fromOpaque(pointer).takeRetainedValue()
            DeadlockMonitor.unregister(thread.lockRecord)
            ThreadRegistry.remove(thread)
        }
        precondition(rc == 0, "pthread_key_create failed for the current thread: \(rc)")
        return key
    }()

    static var current: SpindleThread {
        if let pointer = pthread_getspecific(currentKey) {
            return Unmanaged<SpindleThread>.fromOpaque(pointer).takeUnretainedValue()
        }
        if currentNativeThreadID == mainThreadIdentity.tid {
            setCurrent(mainThread)  // later lookups from the main thread need no system call
            return mainThread
        }
        let standIn = SpindleThread(adopting: .dummy)
        add(standIn)
        setCurrent(standIn)
        return standIn
    }

    static func setCurrent(_ thread: SpindleThread) {
        pthread_setspecific(currentKey, Unmanaged.passRetained(thread).toOpaque())
    }

    static func clearCurrent() {
        guard let pointer = pthread_getspecific(currentKey) else { return }
        pthread_setspecific(currentKey, nil)
        Unmanaged<SpindleThread>.fromOpaque(pointer).release()
    }

    /// Registers (once) the exit handler that joins non-daemon threads, as Python's interpreter
    /// shutdown does.
    static func installExitHandler() {
        guard exitHandlerInstalled.compareExchange(expected: false, desired: true, ordering: .relaxed).exchanged
        else { return }
        exitHandlerOwner.store(getpid(), ordering: .relaxed)
        atexit { ThreadRegistry.joinNonDaemonThreads() }
    }

    static let exitCallbacks = Locked<[@Sendable () -> Void]>([])

    static func joinNonDaemonThreads() {
        // A forked child has the parent's registry but not its threads: nothing to wait for.
        guard getpid() == exitHandlerOwner.load(ordering: .relaxed) else { return }
        // Callbacks first, newest first (Python's threading._register_atexit): executors use them
        // to tell their idle workers to finish, so that the join below can end.
        let callbacks = exitCallbacks.withLock { callbacks -> [@Sendable () -> Void] in
            defer { callbacks.removeAll() }
            return callbacks
        }
        for callback in callbacks.reversed() { callback() }
        let me = ObjectIdentifier(current)
        while true {
            let pending = active.withLock { threads in
                threads.values.filter { $0.kind == .regular && !$0.daemon && ObjectIdentifier($0) != me }
            }
            if pending.isEmpty { return }
            for thread in pending { _ = try? thread.join() }
        }
    }
}
