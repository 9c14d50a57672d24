import Foundation
import SpindleFutures
import SpindleMultiprocessing
import Testing

// A file that imports Foundation and SpindleMultiprocessing compiles with every public name
// unqualified, next to Foundation's Process and Pipe.
@Suite("multiprocessing: names next to Foundation")
struct MultiprocessingNamesTests {
    @Test func everyNameResolvesUnqualified() throws {
        let square = WorkerFunction<Int, Int>("names.square") { $0 * $0 }
        let remote = WorkerFunction<Int, Int>.remote("names.square")
        let erased: AnyWorkerFunction = square.anyWorkerFunction
        let entry: any WorkerEntryPoint = remote
        let tuple = ArgumentTuple(1, 2)
        let nothing = NoResult()
        let (a, b): (Connection, Connection) = try Multiprocessing.pipe()
        let process: WorkerProcess? = nil
        let pool: Pool? = nil
        let results: PoolResults<Int>? = nil
        let asyncResult: AsyncResult<Int>? = nil
        let executor: ProcessPoolExecutor? = nil
        let memory: SharedMemory? = nil
        let lock: ProcessLock? = nil
        let processQueue: ProcessQueue<Int>? = nil
        let joinableProcessQueue: JoinableProcessQueue<String>? = nil
        let call: WorkerCall? = nil
        let rlock = try ProcessRLock()
        let semaphore = try ProcessSemaphore(1)
        let bounded = try ProcessBoundedSemaphore(1)
        let event = try ProcessEvent()
        let condition = try ProcessCondition()
        let barrier = try ProcessBarrier(parties: 1)
        let value = try SharedValue(1.5)
        let array = try SharedArray(repeating: UInt8(0), count: 4)
        let tracker: Int32? = ResourceTracker.pid
        #expect(rlock.withLock { semaphore.withPermit { bounded.value } } == 1)
        event.set()
        #expect(event.isSet && condition.rlock != nil && value.value == 1.5 && array.count == 4)
        #expect(try barrier.wait() == 0 && tracker != nil)
        let errors: [any Error] = [
            MultiprocessingError.endOfFile, RemoteError(function: "f", type: "E", message: "m", pid: 1),
        ]
        WorkerRegistry.register(square)
        #expect(WorkerRegistry.registeredNames.contains("names.square"))
        #expect(try square(4) == 16)
        #expect(throws: MultiprocessingError.unknownFunction("names.square")) { try remote(4) }
        #expect(erased.signature == "Int -> Int" && !erased.isRemote && entry.anyWorkerFunction.isRemote)
        _ = (tuple, nothing, a, b, process, pool, results, asyncResult, executor, memory, lock, call, errors)
        _ = (processQueue, joinableProcessQueue)
        // Foundation's own types are still there, unqualified.
        let foundationPipe = Pipe()
        let foundationProcess = Process()
        _ = (foundationPipe, foundationProcess)
    }
}
