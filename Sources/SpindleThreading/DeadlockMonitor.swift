import SpindleSystem
import Synchronization

/// What a thread is blocked on, for the wait-for graph and thread dumps.
enum WaitTarget {
    /// A lock; `forever` unless the acquire has a timeout (a timed wait ends by itself, so it
    /// closes no deadlock).
    case lock(Lock, forever: Bool)
    /// Another thread, being joined.
    case thread(SpindleThread)
    /// A notification on a condition.
    case condition(LockSite)
}

/// One lock a thread holds and where it was taken: four words, copied without reference counting.
struct HeldLock {
    /// The lock; alive while it is held.
    unowned(unsafe) let lock: Lock
    let file: StaticString
    let line: UInt

    var acquiredAt: String { "\(file):\(line)" }
}

/// A thread's part in deadlock detection.
final class ThreadLockRecord: @unchecked Sendable {
    /// The thread; set once, right after the thread object is made.
    unowned(unsafe) var thread: SpindleThread!
    /// What the thread waits for; read and written under `DeadlockMonitor.graph`.
    var waitingFor: WaitTarget?
    /// The locks it holds, innermost last, in a plain buffer: only its own thread touches it, so
    /// the tracked fast path needs no exclusivity check and no array bookkeeping.
    @exclusivity(unchecked) private var heldBase: UnsafeMutablePointer<HeldLock>
    @exclusivity(unchecked) private var heldCapacity = 8
    @exclusivity(unchecked) private(set) var heldCount = 0
    /// Whether it is in `DeadlockMonitor.graph`'s records (its own thread sets it).
    @exclusivity(unchecked) var registered = false
    /// The record's address, as lock owner words hold it.
    private(set) var address: UInt = 0

    init() {
        heldBase = .allocate(capacity: 8)
        address = UInt(bitPattern: Unmanaged.passUnretained(self).toOpaque())
    }

    deinit {
        heldBase.deinitialize(count: heldCount)
        heldBase.deallocate()
    }

    /// The locks held, innermost last (a copy, for the slow paths).
    var held: [HeldLock] { Array(UnsafeBufferPointer(start: heldBase, count: heldCount)) }

    @inline(__always)
    func push(_ entry: HeldLock) {
        if heldCount == heldCapacity {
            let grown = UnsafeMutablePointer<HeldLock>.allocate(capacity: heldCapacity * 2)
            grown.moveInitialize(from: heldBase, count: heldCount)
            heldBase.deallocate()
            heldBase = grown
            heldCapacity *= 2
        }
        (heldBase + heldCount).initialize(to: entry)
        heldCount += 1
    }

    /// Removes `lock`'s innermost entry (usually the last one).
    @inline(__always)
    func pop(_ lock: Lock) {
        var index = heldCount - 1
        while index >= 0, heldBase[index].lock !== lock { index -= 1 }
        guard index >= 0 else { return }
        (heldBase + index).moveUpdate(from: heldBase + index + 1, count: heldCount - index - 1)
        heldCount -= 1
    }
}

/// The wait-for graph and the lock-order graph.
enum DeadlockMonitor {
    struct Graph {
        /// Live records by address, so that a lock's owner word can be resolved safely.
        var records: [UInt: ThreadLockRecord] = [:]
        /// Lock orders seen: (first serial, second serial) → where each was acquired.
        var orders: [Pair: (first: String, second: String)] = [:]
        var reported: Set<Pair> = []
    }

    struct Pair: Hashable {
        let first: UInt64
        let second: UInt64
    }

    static let graph = Locked(Graph())
    static let serials = Atomic<UInt64>(0)
    static let handler = Locked<(@Sendable (DeadlockDetection.Report) -> Void)?>(nil)

    /// Runs `body` with the calling thread's record without retaining it (the thread owns it for
    /// as long as it runs): the tracked fast path's way in.
    @inline(__always)
    static func withCurrent<Result>(_ body: (ThreadLockRecord) -> Result) -> Result {
        if let pointer = currentLockRecordPointer {
            return Unmanaged<ThreadLockRecord>.fromOpaque(pointer)._withUnsafeGuaranteedRef(body)
        }
        return body(current)
    }

    /// The calling thread's record: one thread-local load once it is known.
    static var current: ThreadLockRecord {
        @inline(__always) get {
            if let pointer = currentLockRecordPointer {
                return Unmanaged<ThreadLockRecord>.fromOpaque(pointer).takeUnretainedValue()
            }
            let record = SpindleThread.current.lockRecord
            currentLockRecordPointer = Unmanaged.passUnretained(record).toOpaque()
            return record
        }
    }

    /// Registers `record` so other threads can find it as a lock's owner.
    static func register(_ record: ThreadLockRecord) {
        guard !record.registered else { return }
        record.registered = true
        graph.withLock { $0.records[record.address] = record }
    }

    /// Forgets a thread that ended.
    static func unregister(_ record: ThreadLockRecord) {
        guard record.registered else { return }
        graph.withLock { _ = $0.records.removeValue(forKey: record.address) }
    }

    /// Runs a blocking wait for `lock`, recorded in the wait-for graph. In report or throw mode,
    /// a wait that would close a cycle is reported, or thrown as `ThreadingError.Kind.deadlock`.
    static func blockOn(
        _ lock: Lock, forever: Bool, mayThrow: Bool = true, _ wait: () -> Bool
    ) throws(ThreadingError) -> Bool {
        try block(on: .lock(lock, forever: forever), mayThrow: mayThrow, wait)
    }

    /// Runs a blocking wait for `target`, as `blockOn` does.
    static func block<Result>(
        on target: WaitTarget, mayThrow: Bool = true, _ wait: () -> Result
    ) throws(ThreadingError) -> Result {
        let me = current
        let mode = deadlockModeValue
        if mode != 0 { register(me) }
        let cycle = graph.withLock { graph -> DeadlockError? in
            me.waitingFor = target
            return mode == 0 ? nil : findCycle(from: me, in: graph)
        }
        if let cycle {
            if mode == 2, mayThrow {
                graph.withLock { _ in me.waitingFor = nil }
                throw ThreadingError(.deadlock(cycle), cycle.description)
            }
            report(.deadlock(cycle))
        }
        let result = wait()
        graph.withLock { _ in me.waitingFor = nil }
        return result
    }

    /// Follows the wait-for edges from `start`; returns the cycle if they come back to it.
    static func findCycle(from start: ThreadLockRecord, in graph: Graph) -> DeadlockError? {
        var members: [(record: ThreadLockRecord, waitsFor: String, lockWait: Bool)] = []
        var current = start
        var seen = Set<UInt>()
        var closed = false
        while !closed {
            if members.count >= 10_000 { return nil }
            guard let target = current.waitingFor else { return nil }
            let next: ThreadLockRecord
            switch target {
            case .lock(let lock, let forever):
                guard forever else { return nil }
                let ownerBits = lock.owner.load(ordering: .relaxed)
                guard ownerBits != 0, let owner = graph.records[ownerBits] else { return nil }
                members.append((current, lock.site.description, true))
                next = owner
            case .thread(let thread):
                members.append((current, "thread \"\(thread.name)\" to finish", false))
                next = thread.lockRecord
            case .condition:
                return nil
            }
            if next === start {
                closed = true
            } else if !seen.insert(next.address).inserted {
                return nil  // a cycle that does not go through `start`: its own closer reported it
            }
            current = next
        }
        let cycle = members.enumerated().map { index, member in
            let previous = members[(index + members.count - 1) % members.count]
            return DeadlockError.Member(
                thread: member.record.thread.name, ident: member.record.thread.ident ?? 0,
                holds: previous.lockWait ? previous.waitsFor : "no lock of the cycle (it is being joined)",
                waitsFor: member.waitsFor)
        }
        return DeadlockError(cycle: cycle)
    }

    /// Checks the order of `lock` against every lock `me` holds and records it.
    static func checkOrder(_ me: ThreadLockRecord, acquiring lock: Lock, serial: UInt64, file: StaticString, line: UInt) {
        let now = "\(file):\(line)"
        let held = me.held
        let inversions = graph.withLock { graph -> [LockOrderInversion] in
            var found: [LockOrderInversion] = []
            for outer in held where outer.lock.serial != serial {
                let pair = Pair(first: outer.lock.serial, second: serial)
                if graph.orders[pair] == nil { graph.orders[pair] = (outer.acquiredAt, now) }
                let reverse = Pair(first: serial, second: outer.lock.serial)
                guard let before = graph.orders[reverse], !graph.reported.contains(reverse),
                    !graph.reported.contains(pair)
                else { continue }
                graph.reported.insert(pair)
                found.append(
                    LockOrderInversion(
                        first: outer.lock.site.description, second: lock.site.description,
                        now: (outer.acquiredAt, now), before: (before.first, before.second),
                        thread: me.thread.name))
            }
            return found
        }
        for inversion in inversions { report(.lockOrderInversion(inversion)) }
    }

    static func report(_ report: DeadlockDetection.Report) {
        let custom = handler.withLock { $0 }
        if let custom {
            custom(report)
        } else {
            writeToStandardError("Spindle: \(report)\n")
        }
    }
}

extension Lock {
    /// Records this thread as the holder (deadlock detection on).
    @usableFromInline
    func didAcquire(file: StaticString, line: UInt) {
        DeadlockMonitor.withCurrent { me in
            if !me.registered { DeadlockMonitor.register(me) }
            owner.store(me.address, ordering: .relaxed)
            if me.heldCount > 0 {
                DeadlockMonitor.checkOrder(me, acquiring: self, serial: serial, file: file, line: line)
            }
            me.push(HeldLock(lock: self, file: file, line: line))
        }
    }

    /// Forgets this thread as the holder (deadlock detection on).
    @usableFromInline
    func willRelease() {
        owner.store(0, ordering: .relaxed)
        DeadlockMonitor.withCurrent { $0.pop(self) }
    }
}
