import Glibc
import SpindleMultiprocessing

/// The fixture's synchronization and shared value functions, as the parent knows them.
enum SyncFx {
    static let rlockIntrude = WorkerFunction<ProcessRLock, String>.remote("rlockIntrude")
    static let rlockHold = WorkerFunction<ArgumentTuple<ProcessRLock, ProcessEvent, ProcessEvent>, Int>.remote("rlockHold")
    static let semaphoreAcquire = WorkerFunction<ArgumentTuple<ProcessSemaphore, Int>, Int>.remote("semaphoreAcquire")
    static let boundedRelease = WorkerFunction<ArgumentTuple<ProcessBoundedSemaphore, [Int]>, [String]>.remote("boundedRelease")
    static let eventWait = WorkerFunction<ArgumentTuple<ProcessEvent, Double>, Bool>.remote("eventWait")
    static let eventSetLater = WorkerFunction<ArgumentTuple<ProcessEvent, Double>, NoResult>.remote("eventSetLater")
    static let conditionWait = WorkerFunction<ArgumentTuple<ProcessCondition, SharedArray<Int>, Double>, Bool>.remote("conditionWait")
    static let conditionWaitFor = WorkerFunction<ArgumentTuple<ProcessCondition, SharedValue<Int>, Int>, Int>.remote("conditionWaitFor")
    static let barrierWait = WorkerFunction<ArgumentTuple<ProcessBarrier, Double>, Int>.remote("barrierWait")
    static let barrierRounds = WorkerFunction<ArgumentTuple<ProcessBarrier, SharedArray<Int>, Int, Int>, NoResult>.remote("barrierRounds")
    static let valueIncrement = WorkerFunction<ArgumentTuple<SharedValue<Int>, Int>, NoResult>.remote("valueIncrement")
    static let lockedIncrement = WorkerFunction<ArgumentTuple<ProcessLock, SharedValue<Int>, Int>, NoResult>.remote("lockedIncrement")
    static let arrayScale = WorkerFunction<ArgumentTuple<SharedArray<Double>, Double>, Int>.remote("arrayScale")
    static let arrayIncrement = WorkerFunction<ArgumentTuple<SharedArray<Int>, Int>, NoResult>.remote("arrayIncrement")
    static let createSegment = WorkerFunction<ArgumentTuple<String, Int>, String>.remote("createSegment")
}

/// Whether the file of shared memory block `name` exists under /dev/shm.
func segmentExists(_ name: String) -> Bool {
    access("/dev/shm/\(name)", F_OK) == 0
}
