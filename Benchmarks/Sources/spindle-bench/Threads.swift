// Running a body on several threads at once, the same way for every library measured, so
// thread creation and start-up stay outside the timed part.
#if canImport(Glibc)
import Glibc
#endif
import CBenchSupport
import Dispatch
import Synchronization

/// What each started thread needs: its body and the start gate.
private final class ThreadStart: @unchecked Sendable {
    let index: Int
    let cpu: Int?
    let gate: StartGate
    let body: @Sendable (Int) -> Void

    init(index: Int, cpu: Int?, gate: StartGate, body: @escaping @Sendable (Int) -> Void) {
        self.index = index
        self.cpu = cpu
        self.gate = gate
        self.body = body
    }
}

/// Holds the threads until all are running, then lets them go together.
private final class StartGate: Sendable {
    let ready = Atomic<Int>(0)
    let open = Atomic<Bool>(false)

    func arriveAndWait() {
        ready.wrappingAdd(1, ordering: .acquiringAndReleasing)
        while !open.load(ordering: .acquiring) { sched_yield() }
    }
}

/// How the threads of a run are placed on CPUs.
enum Placement: Sendable {
    /// Wherever the scheduler puts them.
    case free
    /// Thread i is bound to CPU i % cores: two threads run on two different cores.
    case spread
    /// All threads are bound to CPU 0: they take turns on one core.
    case sameCore

    func cpu(forThread index: Int) -> Int? {
        switch self {
        case .free: return nil
        case .spread: return index % max(1, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN))))
        case .sameCore: return 0
        }
    }
}

/// Binds the calling thread to `cpu`.
private func bindCurrentThread(to cpu: Int) {
    let rc = bench_bind_to_cpu(Int32(cpu))
    check(rc == 0, "binding a thread to CPU \(cpu) failed: \(rc)")
}

/// Runs `body(0)`, …, `body(count - 1)` on `count` new OS threads (plain pthreads) and returns
/// the nanoseconds from the moment all were released until the last one finished.
func runOnThreads(_ count: Int, placement: Placement = .free, _ body: @escaping @Sendable (Int) -> Void) -> UInt64 {
    let gate = StartGate()
    var handles: [pthread_t] = []
    for index in 0..<count {
        let start = ThreadStart(index: index, cpu: placement.cpu(forThread: index), gate: gate, body: body)
        let context = Unmanaged.passRetained(start).toOpaque()
        var handle = pthread_t()
        let rc = pthread_create(&handle, nil, { raw in
            let start = Unmanaged<ThreadStart>.fromOpaque(raw!).takeRetainedValue()
            if let cpu = start.cpu { bindCurrentThread(to: cpu) }
            start.gate.arriveAndWait()
            start.body(start.index)
            return nil
        }, context)
        check(rc == 0, "pthread_create failed: \(rc)")
        handles.append(handle)
    }
    while gate.ready.load(ordering: .acquiring) < count { sched_yield() }
    let start = monotonicNanoseconds()
    gate.open.store(true, ordering: .releasing)
    for handle in handles { pthread_join(handle, nil) }
    return monotonicNanoseconds() &- start
}

// MARK: - Async

/// What an async benchmark body returns, handed to the blocked caller.
private final class AsyncResult: @unchecked Sendable {
    var value: UInt64 = 0
}

/// Runs `body` as a task on Swift's global concurrent executor and blocks the calling thread (not
/// one of the executor's) until it returns; returns what it returned.
func blockingAsync(_ body: @escaping @Sendable () async -> UInt64) -> UInt64 {
    let result = AsyncResult()
    let done = DispatchSemaphore(value: 0)
    Task.detached {
        result.value = await body()
        done.signal()
    }
    done.wait()
    return result.value
}
