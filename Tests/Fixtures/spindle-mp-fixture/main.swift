// The worker program of the SpindleMultiprocessing tests. As every program that starts worker
// processes, it bootstraps first: started as a worker, it never gets past this line.
//
// Run directly, it plays a parent for the tests that must kill one:
//   daemon-parent       starts a daemon child that sleeps, prints its pid, sleeps
//   nondaemon-sleeper   starts a non-daemon child that sleeps, prints its pid, sleeps
//   nondaemon-exit      starts a non-daemon child that sleeps 1 s, prints its pid, returns from
//                       main (the exit waits for the child)
//   pool-parent         starts a pool of 2, prints the workers' pids, sleeps
//   shm-crash           creates a shared memory block, prints "segment NAME tracker PID", sleeps
//                       (the test kills it: the resource tracker must unlink the block)
//   shm-exit            creates two blocks, unlinks one, prints "segment NAME NAME tracker PID",
//                       returns from main without unlinking the other
import Glibc
import SpindleMultiprocessing

Multiprocessing.bootstrap(registering: FixtureFunctions.all + SyncFixtureFunctions.all + QueueFixtureFunctions.all)

func say(_ line: String) {
    print(line)
    fflush(nil)
}

func sleepForever() -> Never {
    while true { pause() }
}

let mode = CommandLine.arguments.dropFirst().first ?? ""
do {
    switch mode {
    case "daemon-parent", "nondaemon-sleeper":
        let child = WorkerProcess(target: FixtureFunctions.sleep, argument: 300, daemon: mode == "daemon-parent")
        try child.start()
        say("child \(child.pid ?? -1)")
        sleepForever()
    case "nondaemon-exit":
        let child = WorkerProcess(target: FixtureFunctions.sleep, argument: 1, daemon: false)
        try child.start()
        say("child \(child.pid ?? -1)")
    case "pool-parent":
        let pool = try Pool(processes: 2)
        _ = try pool.map(FixtureFunctions.square, 0..<4)
        say("workers \(pool.workerPIDs.map(String.init).joined(separator: " "))")
        sleepForever()
    case "shm-crash":
        let memory = try SharedMemory(create: true, size: 4096)
        say("segment \(memory.name) tracker \(ResourceTracker.pid ?? -1)")
        sleepForever()
    case "shm-exit":
        let kept = try SharedMemory(create: true, size: 4096)
        let removed = try SharedMemory(create: true, size: 4096)
        try removed.unlink()
        say("segment \(kept.name) \(removed.name) tracker \(ResourceTracker.pid ?? -1)")
    default:
        say("spindle-mp-fixture: the worker program of the SpindleMultiprocessing tests")
    }
} catch {
    say("error \(error)")
    exit(1)
}
