import Glibc
import SpindleMultiprocessing
import SpindleThreading

/// The worker functions of the shared synchronization and shared value tests: each gets its
/// primitives as (Codable) arguments, attached by block name in this process.
enum SyncFixtureFunctions {
    /// Tries to take and then to release an RLock; reports what happened ("locked" is read
    /// after the release).
    static let rlockIntrude = WorkerFunction<ProcessRLock, String>("rlockIntrude") { lock in
        let acquired = lock.acquire(blocking: false)
        var released = "released"
        do { try lock.release() } catch { released = "\(error)" }
        return "acquired=\(acquired) locked=\(lock.locked) release=\(released)"
    }

    /// Takes the RLock twice, sets `ready`, waits for `go`, releases twice; returns the
    /// recursion count it saw while holding it.
    static let rlockHold = WorkerFunction<ArgumentTuple<ProcessRLock, ProcessEvent, ProcessEvent>, Int>("rlockHold") {
        lock, ready, go in
        lock.acquire()
        lock.acquire()
        let depth = lock.recursionCount
        ready.set()
        _ = go.wait(timeout: 60)
        try lock.release()
        try lock.release()
        return depth
    }

    /// Acquires the semaphore `n` times (each with a 60 s bound); returns how many succeeded.
    static let semaphoreAcquire = WorkerFunction<ArgumentTuple<ProcessSemaphore, Int>, Int>("semaphoreAcquire") { semaphore, n in
        var got = 0
        for _ in 0..<n where semaphore.acquire(timeout: 60) { got += 1 }
        return got
    }

    /// Releases the bounded semaphore once per element of `counts`, by that count; returns
    /// "ok" or the error of each release.
    static let boundedRelease = WorkerFunction<ArgumentTuple<ProcessBoundedSemaphore, [Int]>, [String]>("boundedRelease") {
        semaphore, counts in
        counts.map { n in
            do {
                try semaphore.release(n)
                return "ok"
            } catch {
                return "\(error)"
            }
        }
    }

    /// Waits for the event for at most `timeout` seconds.
    static let eventWait = WorkerFunction<ArgumentTuple<ProcessEvent, Double>, Bool>("eventWait") { event, timeout in
        event.wait(timeout: timeout)
    }

    /// Sets the event after `delay` seconds.
    static let eventSetLater = WorkerFunction<ArgumentTuple<ProcessEvent, Double>, NoResult>("eventSetLater") { event, delay in
        usleep(UInt32(delay * 1_000_000))
        event.set()
    }

    /// With the condition's lock: counts itself in `counters[0]` (sleeping), waits at most
    /// `timeout`, then counts `counters[1]` (woken) or `counters[2]` (timed out).
    static let conditionWait = WorkerFunction<ArgumentTuple<ProcessCondition, SharedArray<Int>, Double>, Bool>("conditionWait") {
        condition, counters, timeout in
        try condition.withLock { () throws(MultiprocessingError) -> Bool in
            counters[0] += 1
            let woken = try condition.wait(timeout: timeout)
            counters[woken ? 1 : 2] += 1
            return woken
        }
    }

    /// Waits until the shared value reaches `target`; returns the value seen.
    static let conditionWaitFor = WorkerFunction<ArgumentTuple<ProcessCondition, SharedValue<Int>, Int>, Int>("conditionWaitFor") {
        condition, value, target in
        try condition.withLock { () throws(MultiprocessingError) -> Int in
            guard try condition.waitFor(timeout: 60, { value.value >= target }) else { return -1 }
            return value.value
        }
    }

    /// Waits at the barrier; returns the arrival index, or -1 - the error's reason number
    /// (aborted 0, reset 1, timed out 2, action failed 3).
    static let barrierWait = WorkerFunction<ArgumentTuple<ProcessBarrier, Double>, Int>("barrierWait") { (barrier: ProcessBarrier, timeout: Double) -> Int in
        do throws(BrokenBarrierError) {
            return try barrier.wait(timeout: timeout < 0 ? nil : timeout)
        } catch {
            switch error.reason {
            case .aborted: return -1
            case .reset: return -2
            case .timedOut: return -3
            case .actionFailed: return -4
            case .cancelled: return -5
            }
        }
    }

    /// Waits at the barrier `rounds` times; counts each pass in `passes[slot]`.
    static let barrierRounds = WorkerFunction<ArgumentTuple<ProcessBarrier, SharedArray<Int>, Int, Int>, NoResult>("barrierRounds") {
        barrier, passes, slot, rounds in
        for _ in 0..<rounds {
            _ = try barrier.wait(timeout: 60)
            passes[slot] += 1
        }
    }

    /// Increments the value `count` times under its lock (read, yield, write).
    static let valueIncrement = WorkerFunction<ArgumentTuple<SharedValue<Int>, Int>, NoResult>("valueIncrement") { value, count in
        for _ in 0..<count {
            value.withLock { number in
                let seen = number
                sched_yield()
                number = seen + 1
            }
        }
    }

    /// Increments an unlocked value `count` times under a separate ProcessLock.
    static let lockedIncrement = WorkerFunction<ArgumentTuple<ProcessLock, SharedValue<Int>, Int>, NoResult>("lockedIncrement") {
        lock, value, count in
        for _ in 0..<count {
            lock.withLock {
                let seen = value.value
                sched_yield()
                value.value = seen + 1
            }
        }
    }

    /// Sets element i of the array to i * factor; returns the count it saw.
    static let arrayScale = WorkerFunction<ArgumentTuple<SharedArray<Double>, Double>, Int>("arrayScale") { array, factor in
        array.withLock { elements in
            for i in elements.indices { elements[i] = Double(i) * factor }
        }
        return array.count
    }

    /// Adds 1 to every element `rounds` times, element by element under the lock.
    static let arrayIncrement = WorkerFunction<ArgumentTuple<SharedArray<Int>, Int>, NoResult>("arrayIncrement") { array, rounds in
        for _ in 0..<rounds {
            array.withLock { elements in
                for i in elements.indices { elements[i] += 1 }
            }
        }
    }

    /// Creates a shared memory block of `size` bytes, writes `text` in it, leaves it for the
    /// parent (no unlink) and returns its name.
    static let createSegment = WorkerFunction<ArgumentTuple<String, Int>, String>("createSegment") { text, size in
        let memory = try SharedMemory(create: true, size: size)
        memory.buffer.copyBytes(from: Array(text.utf8) + [0])
        let name = memory.name
        memory.close()
        return name
    }

    static let all: [any WorkerEntryPoint] = [
        rlockIntrude, rlockHold, semaphoreAcquire, boundedRelease, eventWait, eventSetLater, conditionWait,
        conditionWaitFor, barrierWait, barrierRounds, valueIncrement, lockedIncrement, arrayScale, arrayIncrement,
        createSegment,
    ]
}
