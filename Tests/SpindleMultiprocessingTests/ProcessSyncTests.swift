import Glibc
import SpindleMultiprocessing
import SpindleSystem
import SpindleThreading
import Testing

/// Ported in spirit from CPython's test_multiprocessing _TestLock (RLock part), _TestSemaphore,
/// _TestEvent, _TestCondition and _TestBarrier: every primitive is used from worker processes
/// that get it as their argument and attach it by its block's name.
@Suite("multiprocessing: shared synchronization primitives", .serialized, .timeLimit(.minutes(5)))
struct ProcessSyncTests {
    init() { Fixture.use() }

    // MARK: - ProcessRLock

    @Test func rlockCountsRecursionAndChecksItsOwner() throws {
        let lock = try ProcessRLock()
        #expect(!lock.locked && lock.recursionCount == 0 && !lock.isMine)
        #expect(lock.acquire())
        #expect(lock.acquire(blocking: false))
        #expect(lock.recursionCount == 2 && lock.isMine)
        let other = Locked<(Bool, String)>((true, ""))
        let thread = try spawn {
            let acquired = lock.acquire(timeout: 0.1)
            var message = ""
            do { try lock.release() } catch { message = "\(error)" }
            other.withLock { $0 = (acquired, message) }
        }
        try thread.join()
        #expect(other.withLock { $0.0 } == false)
        #expect(other.withLock { $0.1 } == "cannot release un-acquired lock")
        try lock.release()
        #expect(lock.locked && lock.recursionCount == 1)
        try lock.release()
        #expect(!lock.locked)
        #expect(throws: MultiprocessingError.invalidState("cannot release un-acquired lock")) { try lock.release() }
        #expect(lock.withLock { lock.withLock { lock.recursionCount } } == 2)
    }

    @Test func anRLockHeldHereCannotBeTakenOrReleasedByAChild() throws {
        let lock = try ProcessRLock()
        try Pool(processes: 1).scoped { pool throws in
            lock.acquire()
            let first = try pool.apply(SyncFx.rlockIntrude, lock)
            #expect(first == "acquired=false locked=true release=cannot release un-acquired lock")
            #expect(lock.isMine && lock.recursionCount == 1)
            try lock.release()
            let second = try pool.apply(SyncFx.rlockIntrude, lock)
            #expect(second == "acquired=true locked=false release=released")
            #expect(!lock.locked)
        }
    }

    @Test func anRLockHeldByAChildBlocksThisProcess() throws {
        let lock = try ProcessRLock()
        let ready = try ProcessEvent()
        let go = try ProcessEvent()
        try Pool(processes: 1).scoped { pool throws in
            let depth = try pool.applyAsync(SyncFx.rlockHold, ArgumentTuple(lock, ready, go))
            #expect(ready.wait(timeout: 60))
            #expect(lock.locked && !lock.isMine)
            #expect(!lock.acquire(blocking: false))
            #expect(!lock.acquire(timeout: 0.2))
            #expect(throws: MultiprocessingError.invalidState("cannot release un-acquired lock")) { try lock.release() }
            go.set()
            #expect(lock.acquire(timeout: 60))
            #expect(try depth.get(timeout: 60) == 2)
            try lock.release()
        }
    }

    @Test func placementIsChecked() throws {
        let memory = try SharedMemory(create: true, size: 64)
        defer {
            try? memory.unlink()
            memory.close()
        }
        #expect(throws: MultiprocessingError.invalidState("a ProcessRLock needs an offset that is a multiple of 8, not 4")) {
            _ = try ProcessRLock(in: memory, offset: 4)
        }
        #expect(throws: MultiprocessingError.invalidState("a ProcessRLock needs 16 bytes at offset 56, but the block '\(memory.name)' has 64")) {
            _ = try ProcessRLock(in: memory, offset: 56)
        }
        #expect(throws: MultiprocessingError.self) { _ = try ProcessEvent(in: memory, offset: -4) }
        #expect(throws: MultiprocessingError.self) { _ = try ProcessBarrier(parties: 2, in: memory, offset: 24) }
        #expect(throws: MultiprocessingError.self) { _ = try ProcessCondition(lock: try ProcessLock(in: memory), in: memory, offset: 2) }
        _ = try ProcessRLock(in: memory, offset: 48)
        _ = try ProcessBarrier(parties: 2, in: memory, offset: 16)
    }

    // MARK: - ProcessSemaphore and ProcessBoundedSemaphore

    @Test func aSemaphoreCountsInOneProcess() throws {
        let semaphore = try ProcessSemaphore(2)
        #expect(semaphore.value == 2)
        #expect(semaphore.acquire())
        #expect(semaphore.acquire(blocking: false))
        #expect(semaphore.value == 0)
        #expect(!semaphore.acquire(blocking: false))
        let t0 = monotonicSeconds()
        #expect(!semaphore.acquire(timeout: 0.2))
        #expect(monotonicSeconds() - t0 >= 0.15)
        try semaphore.release(3)
        #expect(semaphore.value == 3)  // an unbounded semaphore may pass its initial value
        #expect(semaphore.withPermit { semaphore.value } == 2)
        #expect(throws: MultiprocessingError.invalidState("ProcessSemaphore.release: n must be one or more, not 0")) {
            try semaphore.release(0)
        }
        #expect(throws: MultiprocessingError.invalidState("a ProcessSemaphore's initial value must be between 0 and 2147483647, not -1")) {
            _ = try ProcessSemaphore(-1)
        }
    }

    @Test func aChildWaitsOnASemaphoreThisProcessReleases() throws {
        let semaphore = try ProcessSemaphore(0)
        try Pool(processes: 1).scoped { pool throws in
            let taken = try pool.applyAsync(SyncFx.semaphoreAcquire, ArgumentTuple(semaphore, 3))
            sleepSeconds(0.3)
            #expect(!taken.ready)
            try semaphore.release(2)
            #expect(waitUntil { semaphore.value == 0 })
            sleepSeconds(0.2)
            #expect(!taken.ready)
            try semaphore.release()
            #expect(try taken.get(timeout: 60) == 3)
            #expect(semaphore.value == 0)
        }
    }

    @Test func aBoundedSemaphoreRefusesOverReleaseInAChild() throws {
        let semaphore = try ProcessBoundedSemaphore(2)
        #expect(semaphore.acquire() && semaphore.acquire())
        try Pool(processes: 1).scoped { pool throws in
            let outcomes = try pool.apply(SyncFx.boundedRelease, ArgumentTuple(semaphore, [1, 1, 1]))
            #expect(outcomes == ["ok", "ok", "semaphore or lock released too many times"])
        }
        #expect(semaphore.value == 2)
        #expect(semaphore.acquire())
        #expect(throws: MultiprocessingError.invalidState("semaphore or lock released too many times")) { try semaphore.release(2) }
        try semaphore.release(1)
        #expect(semaphore.value == 2)
    }

    @Test func attachingChecksTheKindOfSemaphore() throws {
        let memory = try SharedMemory(create: true, size: 64)
        defer {
            try? memory.unlink()
            memory.close()
        }
        #expect(throws: MultiprocessingError.self) { _ = try ProcessSemaphore(attachingTo: memory, offset: 0) }
        let bounded = try ProcessBoundedSemaphore(value: 3, in: memory, offset: 16)
        #expect(throws: MultiprocessingError.self) { _ = try ProcessSemaphore(attachingTo: memory, offset: 16) }
        let attached = try ProcessBoundedSemaphore(attachingTo: memory, offset: 16)
        #expect(attached.acquire())
        #expect(bounded.value == 2)
    }

    // MARK: - ProcessEvent

    @Test func anEventInOneProcess() throws {
        let event = try ProcessEvent()
        #expect(!event.isSet)
        let t0 = monotonicSeconds()
        #expect(!event.wait(timeout: 0.2))
        #expect(monotonicSeconds() - t0 >= 0.15)
        event.set()
        #expect(event.isSet && event.wait() && event.wait(timeout: 0))
        event.clear()
        #expect(!event.isSet && !event.wait(timeout: 0))
    }

    @Test func eventsCrossProcessesBothWays() throws {
        let event = try ProcessEvent()
        let fromChild = try ProcessEvent()
        let never = try ProcessEvent()
        try Pool(processes: 3).scoped { pool throws in
            let waited = try pool.applyAsync(SyncFx.eventWait, ArgumentTuple(event, 60))
            let timedOut = try pool.applyAsync(SyncFx.eventWait, ArgumentTuple(never, 0.2))
            sleepSeconds(0.3)
            #expect(!waited.ready)
            event.set()
            #expect(try waited.get(timeout: 60) == true)
            #expect(try timedOut.get(timeout: 60) == false)
            _ = try pool.applyAsync(SyncFx.eventSetLater, ArgumentTuple(fromChild, 0.2))
            #expect(fromChild.wait(timeout: 60))
            event.clear()
            #expect(try pool.apply(SyncFx.eventWait, ArgumentTuple(event, 0.1)) == false)
        }
    }

    // MARK: - ProcessCondition

    @Test func aConditionNeedsItsLock() throws {
        let condition = try ProcessCondition()
        #expect(throws: MultiprocessingError.invalidState("cannot wait on un-acquired lock")) { try condition.wait(timeout: 0) }
        #expect(throws: MultiprocessingError.invalidState("cannot notify on un-acquired lock")) { try condition.notify() }
        #expect(throws: MultiprocessingError.invalidState("cannot notify on un-acquired lock")) { try condition.notifyAll() }
        try condition.withLock { () throws(MultiprocessingError) in
            let t0 = monotonicSeconds()
            #expect(try !condition.wait(timeout: 0.2))
            #expect(monotonicSeconds() - t0 >= 0.15)
            #expect(condition.rlock?.recursionCount == 1)
            try condition.notify()  // nobody waits: nothing happens
            #expect(try condition.waitFor(timeout: 0.1) { false } == false)
            #expect(try condition.waitFor { true })
        }
        #expect(condition.rlock?.locked == false)
    }

    /// Four waiting processes: notify() wakes exactly one, notify(2) two more, notifyAll() the last.
    @Test func notifyWakesAtMostNWaitersInOtherProcesses() throws {
        let condition = try ProcessCondition()
        let counters = try SharedArray(repeating: 0, count: 3)  // sleeping, woken, timed out
        try Pool(processes: 4).scoped { pool throws in
            let waiters = try (0..<4).map { _ in try pool.applyAsync(SyncFx.conditionWait, ArgumentTuple(condition, counters, 60)) }
            #expect(waitUntil(timeout: 60) { counters[0] == 4 })
            try condition.withLock { () throws(MultiprocessingError) in try condition.notify() }
            #expect(waitUntil { counters[1] == 1 })
            sleepSeconds(0.3)
            #expect(counters[1] == 1)
            try condition.withLock { () throws(MultiprocessingError) in try condition.notify(2) }
            #expect(waitUntil { counters[1] == 3 })
            sleepSeconds(0.3)
            #expect(counters[1] == 3)
            try condition.withLock { () throws(MultiprocessingError) in try condition.notifyAll() }
            for waiter in waiters { #expect(try waiter.get(timeout: 60) == true) }
            #expect(counters.values == [4, 4, 0])
        }
    }

    /// Three waiters time out, three wait on: notifyAll() wakes the three (and does not wait for
    /// the ones that left), as in CPython's test_notify_all.
    @Test func notifyAllAfterSomeWaitersTimedOut() throws {
        let condition = try ProcessCondition()
        let counters = try SharedArray(repeating: 0, count: 3)
        try Pool(processes: 6).scoped { pool throws in
            let short = try (0..<3).map { _ in try pool.applyAsync(SyncFx.conditionWait, ArgumentTuple(condition, counters, 0.2)) }
            let long = try (0..<3).map { _ in try pool.applyAsync(SyncFx.conditionWait, ArgumentTuple(condition, counters, 60)) }
            for waiter in short { #expect(try waiter.get(timeout: 60) == false) }
            #expect(waitUntil(timeout: 60) { counters[0] == 6 })
            #expect(counters[2] == 3 && counters[1] == 0)
            try condition.withLock { () throws(MultiprocessingError) in try condition.notifyAll() }
            for waiter in long { #expect(try waiter.get(timeout: 60) == true) }
            #expect(counters.values == [6, 3, 3])
        }
    }

    @Test func aConditionWaitTimesOutInAChild() throws {
        let condition = try ProcessCondition(lock: try ProcessRLock())
        let counters = try SharedArray(repeating: 0, count: 3)
        try Pool(processes: 1).scoped { pool throws in
            #expect(try pool.apply(SyncFx.conditionWait, ArgumentTuple(condition, counters, 0.2)) == false)
        }
        #expect(counters.values == [1, 0, 1])
        // The waiter that timed out is no sleeper any more: a notify finds nobody to wake.
        try condition.withLock { () throws(MultiprocessingError) in try condition.notify() }
        try condition.withLock { () throws(MultiprocessingError) in #expect(try !condition.wait(timeout: 0.05)) }
    }

    /// A child waits for a predicate over a shared value, with the condition over a plain ProcessLock.
    @Test func waitForAPredicateOverAProcessLock() throws {
        let lock = try ProcessLock()
        let condition = try ProcessCondition(lock: lock)
        #expect(condition.lock != nil && condition.rlock == nil)
        let value = try SharedValue(0, lock: false)
        try Pool(processes: 1).scoped { pool throws in
            let seen = try pool.applyAsync(SyncFx.conditionWaitFor, ArgumentTuple(condition, value, 5))
            for step in 1...5 {
                sleepSeconds(0.05)
                try condition.withLock { () throws(MultiprocessingError) in
                    value.value = step
                    try condition.notifyAll()
                }
            }
            #expect(try seen.get(timeout: 60) == 5)
        }
        #expect(!lock.locked)
    }

    // MARK: - ProcessBarrier

    @Test func aBarrierReleasesAllPartiesAcrossProcesses() throws {
        let barrier = try ProcessBarrier(parties: 3)
        #expect(barrier.parties == 3 && barrier.timeout == nil && !barrier.broken)
        try Pool(processes: 2).scoped { pool throws in
            let children = try (0..<2).map { _ in try pool.applyAsync(SyncFx.barrierWait, ArgumentTuple(barrier, -1)) }
            #expect(waitUntil(timeout: 60) { barrier.nWaiting == 2 })
            let mine = try barrier.wait(timeout: 60)
            let indices = try children.map { try $0.get(timeout: 60) } + [mine]
            #expect(indices.sorted() == [0, 1, 2])
            #expect(mine == 2)  // the last to arrive
            #expect(barrier.nWaiting == 0 && !barrier.broken)
        }
    }

    @Test func theLastPartyRunsItsAction() throws {
        let runs = Locked(0)
        let barrier = try ProcessBarrier(parties: 2, action: { runs.withLock { $0 += 1 } })
        try Pool(processes: 1).scoped { pool throws in
            for round in 1...3 {
                let child = try pool.applyAsync(SyncFx.barrierWait, ArgumentTuple(barrier, 60))
                #expect(waitUntil(timeout: 60) { barrier.nWaiting == 1 })
                #expect(try barrier.wait() == 1)
                #expect(try child.get(timeout: 60) == 0)
                #expect(runs.withLock { $0 } == round)
            }
        }
    }

    @Test func manyRoundsAcrossThreeProcesses() throws {
        let barrier = try ProcessBarrier(parties: 3, timeout: 60)
        let passes = try SharedArray(repeating: 0, count: 3)
        let workers = (0..<3).map { slot in
            WorkerProcess(target: SyncFx.barrierRounds, argument: ArgumentTuple(barrier, passes, slot, 25))
        }
        for worker in workers { try worker.start() }
        for worker in workers {
            #expect(try worker.join(timeout: 120))
            #expect(worker.exitcode == 0)
        }
        #expect(passes.values == [25, 25, 25])
        #expect(!barrier.broken)
    }

    @Test func abortBreaksTheBarrierForWaitersInOtherProcesses() throws {
        let barrier = try ProcessBarrier(parties: 3)
        try Pool(processes: 1).scoped { pool throws in
            let child = try pool.applyAsync(SyncFx.barrierWait, ArgumentTuple(barrier, 60))
            #expect(waitUntil(timeout: 60) { barrier.nWaiting == 1 })
            barrier.abort()
            #expect(try child.get(timeout: 60) == -1)
            #expect(barrier.broken)
            #expect(throws: BrokenBarrierError.self) { _ = try barrier.wait() }
            #expect(try pool.apply(SyncFx.barrierWait, ArgumentTuple(barrier, 60)) == -1)
            barrier.reset()
            #expect(!barrier.broken)
        }
    }

    @Test func resetWakesWaitersWithResetAndTheBarrierWorksAgain() throws {
        let barrier = try ProcessBarrier(parties: 2)
        try Pool(processes: 1).scoped { pool throws in
            let child = try pool.applyAsync(SyncFx.barrierWait, ArgumentTuple(barrier, 60))
            #expect(waitUntil(timeout: 60) { barrier.nWaiting == 1 })
            barrier.reset()
            #expect(try child.get(timeout: 60) == -2)
            #expect(!barrier.broken)
            let again = try pool.applyAsync(SyncFx.barrierWait, ArgumentTuple(barrier, 60))
            #expect(waitUntil(timeout: 60) { barrier.nWaiting == 1 })
            #expect(try barrier.wait(timeout: 60) == 1)
            #expect(try again.get(timeout: 60) == 0)
        }
    }

    @Test func aTimeoutInAChildBreaksTheBarrier() throws {
        let barrier = try ProcessBarrier(parties: 3)
        try Pool(processes: 1).scoped { pool throws in
            #expect(try pool.apply(SyncFx.barrierWait, ArgumentTuple(barrier, 0.2)) == -3)
        }
        #expect(barrier.broken)
        #expect {
            _ = try barrier.wait(timeout: 1)
        } throws: { error in
            (error as? BrokenBarrierError)?.reason == .timedOut
        }
    }

    @Test func aFailingActionBreaksTheBarrier() throws {
        struct Failure: Error {}
        let barrier = try ProcessBarrier(parties: 1, action: { throw Failure() })
        #expect {
            _ = try barrier.wait()
        } throws: { error in
            guard let broken = error as? BrokenBarrierError else { return false }
            return broken.reason == .actionFailed && broken.actionError is Failure
        }
        #expect(barrier.broken)
        #expect(throws: MultiprocessingError.invalidState("a ProcessBarrier needs at least one party, not 0")) {
            _ = try ProcessBarrier(parties: 0)
        }
        let once = try ProcessBarrier(parties: 1)
        #expect(try once.wait() == 0)
    }
}
