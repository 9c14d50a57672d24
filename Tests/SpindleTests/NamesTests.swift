import Foundation
import Spindle
import Testing

// A file that imports Foundation and Spindle must compile with every public Spindle name
// unqualified: this one uses them all, next to Foundation's Thread, Timer, Process and Pipe.
@Suite("Names next to Foundation")
struct NamesTests {
    @Test func everyNameResolvesUnqualified() throws {
        let lock = Lock()
        let rlock = RLock()
        let condition = Condition(lock: lock)
        let semaphore = Semaphore(1)
        let bounded = BoundedSemaphore(1)
        let event = Event()
        let barrier = Barrier(parties: 1)
        let local = ThreadLocal { 0 }
        let thread = SpindleThread { local.value = 1 }
        let timer = SpindleTimer(interval: 0) {}
        let queue = Queue<Int>(maxsize: 1)
        let lifo = LifoQueue<Int>()
        let priority = PriorityQueue<Int>()
        let simple = SimpleQueue<Int>()
        let processQueue: ProcessQueue<Int>? = nil
        let joinableProcessQueue: JoinableProcessQueue<Int>? = nil
        let future = Future<Int>()
        let pool = ThreadPoolExecutor(maxWorkers: 1)
        let completed = CompletedProcess(args: ["true"], returncode: 0)
        let redirect: Redirect = .pipe
        let options = SpawnOptions()
        let errors: [any Error] = [
            ThreadingError(.invalidArgument, "x"), BrokenBarrierError(.aborted), QueueError.full,
            FutureError.timedOut, SpawnError(step: "exec", errno: 2, path: nil),
            CalledProcessError(returncode: 1, cmd: []), TimeoutExpired(cmd: [], timeout: 1),
            DaemonError(step: "fork", message: "x"),
        ]
        let returnWhen: ReturnWhen = .allCompleted
        let processLock = try ProcessLock()
        let processRLock = try ProcessRLock()
        let processSemaphore = try ProcessSemaphore(1)
        let processBounded = try ProcessBoundedSemaphore(1)
        let processEvent = try ProcessEvent()
        let processCondition = try ProcessCondition(lock: processRLock)
        let processBarrier = try ProcessBarrier(parties: 1)
        let sharedValue = try SharedValue(0)
        let sharedArray = try SharedArray([1.0, 2.0])
        let memory = try SharedMemory(create: true, size: 8)
        try memory.unlink()
        try ResourceTracker.ensureRunning()
        _ = (processLock, processSemaphore, processBounded, processEvent, processCondition, processBarrier)
        _ = (sharedValue, sharedArray, ResourceTracker.pid)
        _ = (rlock, condition, semaphore, bounded, event, barrier, queue, lifo, priority, simple)
        _ = (completed, redirect, options, errors, returnWhen, Futures.self, Subprocess.self)
        _ = (SpawnedChildren.self, OrphanReaper.self, RotatingLogFile.self)
        _ = (processQueue, joinableProcessQueue)
        try thread.start()
        try thread.join()
        try timer.start()
        try timer.join()
        #expect(local.value == 0)
        #expect(future.cancel())
        pool.shutdown()
        // Foundation's own types stay usable under their names.
        let foundationThread: Foundation.Thread = Thread.current
        let foundationProcess = Process()
        let foundationPipe = Pipe()
        _ = (foundationThread, foundationProcess, foundationPipe, Timer.self)
    }
}
