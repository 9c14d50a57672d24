import Glibc
import SpindleQueue
import SpindleSystem
import Synchronization

// The storage and state machine of ProcessQueue: a byte ring in one SharedMemory block, shared by
// every process that has the queue. The block starts with a 128-byte header, then the data area:
//
//     0  magic 'SPQ1' (written last by the creator)    40  ring: head (low 32 bits) | used (high 32)
//     4  mutex: 0, or the holder's pid | waiters bit   48  count of items
//     8  notEmpty sequence (gets wait on it)           56  unfinished tasks (JoinableProcessQueue)
//    12  notFull sequence (puts wait on it)            64  data area capacity in bytes
//    16  allDone sequence (join waits on it)           72  maxsize (0: unbounded)
//    20  sleeping gets     24  sleeping puts           80  joinable flag
//    28  puts sleeping for bytes (not for maxsize)     84  length of the element type's name
//    32  sleeping joins    36  element type hash       88  the element type's name (40 bytes at most)
//
// Each item is a 4-byte little-endian length and its encoded bytes, written at the tail and
// wrapping around the end of the data area. A put writes the bytes first and publishes them with
// one 64-bit store of the ring word; a get copies them out and retires them with another. So the
// ring is whole at every instant, even when a process dies in the middle of an operation, and a
// process that takes the mutex over from a dead holder only recounts the items.
//
// Waits never lose a wake-up: a waiter reads a sequence word under the mutex, releases it and
// sleeps only while the word still holds that value; whoever changes the state bumps the word
// under the mutex and, when the waiter counts say someone sleeps, wakes after releasing it.

/// The futex wake-ups a queue operation owes once it has released the mutex.
struct RingWakeups {
    /// Gets to wake (each put makes one item, for one get).
    var gets: Int32 = 0
    /// Puts to wake (all of them when a put waits for bytes: who fits depends on the sizes).
    var puts: Int32 = 0
    /// Whether to wake every join (the last unfinished task is done).
    var joins = false
}

/// The shared byte ring behind `ProcessQueue` and `JoinableProcessQueue`.
final class SharedRing: @unchecked Sendable {
    static let headerSize = 128
    static let magic: UInt32 = 0x5350_5131
    static let lengthPrefix = 4
    static let maximumCapacity = 1 << 31
    static let minimumCapacity = 16
    static let maximumTypeName = 40
    private static let waitersBit: UInt32 = 0x8000_0000
    /// How long a waiter for the mutex sleeps before it checks that the holder is still alive.
    private static let holderCheckSeconds = 0.1

    /// The shared block.
    let memory: SharedMemory
    /// Whether this process created the block (and so removes its name).
    let owner: Bool
    /// The data area's size in bytes.
    let capacity: Int
    /// The most items the queue holds; 0 for no limit but the data area.
    let maxsize: Int
    /// Whether puts count unfinished tasks.
    let joinable: Bool

    private let base: UnsafeMutableRawPointer
    private let data: UnsafeMutableRawPointer
    private let closedFlag = Atomic<Bool>(false)
    private let unlinked = Atomic<Bool>(false)

    private var mutex: UnsafeMutablePointer<Atomic<UInt32>> { word(4) }
    var notEmpty: UnsafeMutablePointer<Atomic<UInt32>> { word(8) }
    var notFull: UnsafeMutablePointer<Atomic<UInt32>> { word(12) }
    var allDone: UnsafeMutablePointer<Atomic<UInt32>> { word(16) }
    private var sleepingGets: UnsafeMutablePointer<Atomic<UInt32>> { word(20) }
    private var sleepingPuts: UnsafeMutablePointer<Atomic<UInt32>> { word(24) }
    private var sleepingForBytes: UnsafeMutablePointer<Atomic<UInt32>> { word(28) }
    private var sleepingJoins: UnsafeMutablePointer<Atomic<UInt32>> { word(32) }
    private var ring: UnsafeMutablePointer<Atomic<UInt64>> { (base + 40).assumingMemoryBound(to: Atomic<UInt64>.self) }
    private var countWord: UnsafeMutablePointer<Atomic<Int64>> { (base + 48).assumingMemoryBound(to: Atomic<Int64>.self) }
    private var unfinishedWord: UnsafeMutablePointer<Atomic<Int64>> { (base + 56).assumingMemoryBound(to: Atomic<Int64>.self) }

    private func word(_ offset: Int) -> UnsafeMutablePointer<Atomic<UInt32>> {
        (base + offset).assumingMemoryBound(to: Atomic<UInt32>.self)
    }

    // MARK: - Making and attaching

    /// Creates a new block for a queue.
    /// - Parameters:
    ///   - maxsize: The most items; 0 or less for no limit but the data area.
    ///   - capacity: The data area's size in bytes.
    ///   - joinable: Whether puts count unfinished tasks.
    ///   - elementType: The element type's name, checked by processes that attach.
    /// - Throws: `MultiprocessingError.invalidState` for a capacity out of range; `.system`
    ///   when the block cannot be made.
    init(maxsize: Int, capacity: Int, joinable: Bool, elementType: String) throws(MultiprocessingError) {
        guard capacity >= Self.minimumCapacity, capacity <= Self.maximumCapacity else {
            throw .invalidState(
                "a process queue's 'byteCapacity' must be between \(Self.minimumCapacity) and \(Self.maximumCapacity) bytes, not \(capacity)")
        }
        memory = try SharedMemory(create: true, size: Self.headerSize + capacity)
        owner = true
        self.capacity = capacity
        self.maxsize = max(0, maxsize)
        self.joinable = joinable
        base = memory.buffer.baseAddress!
        data = base + Self.headerSize
        base.storeBytes(of: Int64(capacity), toByteOffset: 64, as: Int64.self)
        base.storeBytes(of: Int64(self.maxsize), toByteOffset: 72, as: Int64.self)
        base.storeBytes(of: joinable ? 1 : 0, toByteOffset: 80, as: UInt32.self)
        let name = Array(elementType.utf8.prefix(Self.maximumTypeName))
        base.storeBytes(of: UInt32(name.count), toByteOffset: 84, as: UInt32.self)
        (base + 88).copyMemory(from: name, byteCount: name.count)
        base.storeBytes(of: Self.typeHash(elementType), toByteOffset: 36, as: UInt32.self)
        word(0).pointee.store(Self.magic, ordering: .releasing)
    }

    /// Attaches to the block of a queue another process made.
    /// - Parameters:
    ///   - name: The block's name.
    ///   - maxsize: The maxsize the queue was encoded with.
    ///   - capacity: The capacity it was encoded with.
    ///   - elementType: The element type this process expects.
    /// - Throws: `MultiprocessingError.system` when the block is gone (`ENOENT`: the process that
    ///   made the queue closed it); `.invalidState` when the block is not that queue.
    init(attaching name: String, maxsize: Int, capacity: Int, elementType: String) throws(MultiprocessingError) {
        let memory = try SharedMemory(name: name)
        let base = memory.buffer.baseAddress!
        func refuse(_ why: String) -> MultiprocessingError {
            memory.close()
            return .invalidState("the shared memory '\(name)' is not the process queue that was passed: \(why)")
        }
        guard memory.size > Self.headerSize,
            base.assumingMemoryBound(to: Atomic<UInt32>.self).pointee.load(ordering: .acquiring) == Self.magic
        else { throw refuse("it has no queue header") }
        let storedCapacity = Int(base.load(fromByteOffset: 64, as: Int64.self))
        let storedMaxsize = Int(base.load(fromByteOffset: 72, as: Int64.self))
        guard storedCapacity == capacity, storedMaxsize == max(0, maxsize), memory.size == Self.headerSize + capacity else {
            throw refuse("its maxsize \(storedMaxsize) and capacity \(storedCapacity) differ from \(maxsize) and \(capacity)")
        }
        guard base.load(fromByteOffset: 36, as: UInt32.self) == Self.typeHash(elementType) else {
            let length = min(Self.maximumTypeName, Int(base.load(fromByteOffset: 84, as: UInt32.self)))
            let stored = String(decoding: UnsafeRawBufferPointer(start: base + 88, count: length), as: UTF8.self)
            memory.close()
            throw .invalidState("the process queue '\(name)' holds elements of type \(stored), not \(elementType)")
        }
        self.memory = memory
        owner = false
        self.capacity = capacity
        self.maxsize = max(0, maxsize)
        joinable = base.load(fromByteOffset: 80, as: UInt32.self) != 0
        self.base = base
        data = base + Self.headerSize
    }

    deinit {
        removeName()
        memory.close()
    }

    /// FNV-1a of the type's name.
    private static func typeHash(_ name: String) -> UInt32 {
        var hash: UInt32 = 0x811c_9dc5
        for byte in name.utf8 { hash = (hash ^ UInt32(byte)) &* 0x0100_0193 }
        return hash
    }

    // MARK: - Closing

    /// Whether this process's handle is closed.
    var closed: Bool { closedFlag.load(ordering: .acquiring) }

    /// Closes this process's handle: its operations fail from now on (those waiting wake and
    /// fail), and the creator removes the block's name. The mapping stays until the handle is freed.
    func close() {
        guard !closedFlag.exchange(true, ordering: .acquiringAndReleasing) else { return }
        removeName()
        lock()
        for sequence in [notEmpty, notFull, allDone] { sequence.pointee.wrappingAdd(1, ordering: .relaxed) }
        unlock()
        for sequence in [notEmpty, notFull, allDone] { Futex.wake(sequence, count: Int32.max, shared: true) }
    }

    private func removeName() {
        if owner, !unlinked.exchange(true, ordering: .acquiringAndReleasing) { try? memory.unlink() }
    }

    private func checkOpen() throws(MultiprocessingError) {
        if closed { throw .invalidState("Queue is closed") }
    }

    // MARK: - The mutex

    /// Takes the queue's mutex; when its holder died holding it, takes it over. The word holds
    /// the pid of the moment (not one cached when the handle was made), so that a process forked
    /// with the handle, as a daemon is, never passes for its parent.
    private func lock() {
        let pid = UInt32(bitPattern: getpid())
        if mutex.pointee.compareExchange(expected: 0, desired: pid, ordering: .acquiring).exchanged { return }
        lockContended(pid)
    }

    private func lockContended(_ pid: UInt32) {
        for _ in 0..<100 {
            let state = mutex.pointee.load(ordering: .relaxed)
            if state == 0, mutex.pointee.compareExchange(expected: 0, desired: pid, ordering: .acquiring).exchanged { return }
            if state & Self.waitersBit != 0 { break }
            cpuRelax()
        }
        while true {
            var state = mutex.pointee.load(ordering: .relaxed)
            if state == 0 {
                // Others may sleep: take it marked, so that the release wakes one.
                if mutex.pointee.compareExchange(expected: 0, desired: pid | Self.waitersBit, ordering: .acquiring).exchanged { return }
                continue
            }
            if state & Self.waitersBit == 0 {
                guard mutex.pointee.compareExchange(expected: state, desired: state | Self.waitersBit, ordering: .relaxed).exchanged
                else { continue }
                state |= Self.waitersBit
            }
            let slice = Deadline.after(seconds: Self.holderCheckSeconds)
            if Futex.wait(mutex, expected: state, deadline: slice, shared: true) == .timedOut,
                mutex.pointee.load(ordering: .relaxed) == state
            {
                let holder = Int32(bitPattern: state & ~Self.waitersBit)
                if !Self.processIsAlive(holder),
                    mutex.pointee.compareExchange(expected: state, desired: pid | Self.waitersBit, ordering: .acquiring).exchanged
                {
                    recoverFromDeadHolder()
                    return
                }
            }
        }
    }

    private func unlock() {
        let previous = mutex.pointee.exchange(0, ordering: .releasing)
        if previous & Self.waitersBit != 0 { Futex.wake(mutex, count: 1, shared: true) }
    }

    /// Whether `pid` is a live process (not a zombie).
    static func processIsAlive(_ pid: Int32) -> Bool {
        if pid == getpid() { return true }
        do {
            _ = try systemCall("kill", subject: "pid \(pid)") { kill(pid, 0) }
        } catch {
            return error.errno != ESRCH
        }
        // kill(0) succeeds on a zombie: a dead child its parent has not reaped yet.
        guard let fd = try? systemCall("open", { open("/proc/\(pid)/stat", O_RDONLY | O_CLOEXEC) }) else { return false }
        defer { try? closeDescriptor(fd) }
        var buffer = [UInt8](repeating: 0, count: 512)
        let n = (try? systemCall("read") { buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) } }) ?? 0
        guard let close = buffer.prefix(n).lastIndex(of: UInt8(ascii: ")")), close + 2 < n else { return false }
        let state = buffer[close + 2]
        return state != UInt8(ascii: "Z") && state != UInt8(ascii: "X")
    }

    /// Repairs what a process that died holding the mutex may have left half done: the ring is
    /// always whole (see the layout note), so the items are recounted from it, the unfinished
    /// tasks are at least the items, and every sleeper wakes to look again.
    private func recoverFromDeadHolder() {
        let (head, used) = unpack(ring.pointee.load(ordering: .relaxed))
        var offset = head
        var walked = 0
        var items: Int64 = 0
        while walked + Self.lengthPrefix <= used {
            let length = readLength(at: offset)
            let total = Self.lengthPrefix + length
            guard walked + total <= used else { break }
            walked += total
            offset = (offset + total) % capacity
            items += 1
        }
        countWord.pointee.store(items, ordering: .relaxed)
        if joinable, unfinishedWord.pointee.load(ordering: .relaxed) < items {
            unfinishedWord.pointee.store(items, ordering: .relaxed)
        }
        for sequence in [notEmpty, notFull, allDone] {
            sequence.pointee.wrappingAdd(1, ordering: .relaxed)
            Futex.wake(sequence, count: Int32.max, shared: true)
        }
    }

    // MARK: - Bytes in the ring

    private func unpack(_ value: UInt64) -> (head: Int, used: Int) {
        (Int(value & 0xFFFF_FFFF), Int(value >> 32))
    }

    private func pack(head: Int, used: Int) -> UInt64 {
        UInt64(head) | (UInt64(used) << 32)
    }

    private func copyIn(_ bytes: UnsafeRawBufferPointer, at offset: Int) {
        guard let source = bytes.baseAddress, bytes.count > 0 else { return }
        let first = min(bytes.count, capacity - offset)
        (data + offset).copyMemory(from: source, byteCount: first)
        if first < bytes.count { data.copyMemory(from: source + first, byteCount: bytes.count - first) }
    }

    private func copyOut(_ target: UnsafeMutableRawBufferPointer, at offset: Int) {
        guard let destination = target.baseAddress, target.count > 0 else { return }
        let first = min(target.count, capacity - offset)
        destination.copyMemory(from: data + offset, byteCount: first)
        if first < target.count { (destination + first).copyMemory(from: data, byteCount: target.count - first) }
    }

    private func readLength(at offset: Int) -> Int {
        var length: UInt32 = 0
        withUnsafeMutableBytes(of: &length) { copyOut($0, at: offset) }
        return Int(UInt32(littleEndian: length))
    }

    // MARK: - Operations

    /// Whether an item of `total` bytes (with its length) fits now. Called with the mutex held.
    private func hasRoom(for total: Int, used: Int, count: Int64) -> Bool {
        (maxsize == 0 || count < Int64(maxsize)) && used + total <= capacity
    }

    /// Appends one encoded item.
    /// - Parameters:
    ///   - payload: The item's encoding.
    ///   - block: Whether to wait for room.
    ///   - deadline: When to stop waiting.
    /// - Throws: `QueueError.full` when there is no room (in time); `MultiprocessingError`
    ///   when the handle is closed or the item can never fit.
    func put(_ payload: [UInt8], block: Bool, deadline: Deadline) throws {
        let total = Self.lengthPrefix + payload.count
        try checkOpen()
        guard total <= capacity else {
            throw MultiprocessingError.invalidState(
                "an item of \(payload.count) bytes (\(total) with its length) does not fit in the queue's data area of "
                    + "\(capacity) bytes; make the queue with a larger byteCapacity")
        }
        var wakeups = RingWakeups()
        lock()
        while true {
            if closed {
                unlock()
                throw MultiprocessingError.invalidState("Queue is closed")
            }
            let (head, used) = unpack(ring.pointee.load(ordering: .relaxed))
            let count = countWord.pointee.load(ordering: .relaxed)
            if hasRoom(for: total, used: used, count: count) {
                let tail = (head + used) % capacity
                var length = UInt32(payload.count).littleEndian
                withUnsafeBytes(of: &length) { copyIn($0, at: tail) }
                payload.withUnsafeBytes { copyIn($0, at: (tail + Self.lengthPrefix) % capacity) }
                ring.pointee.store(pack(head: head, used: used + total), ordering: .relaxed)
                countWord.pointee.store(count + 1, ordering: .relaxed)
                if joinable { unfinishedWord.pointee.wrappingAdd(1, ordering: .relaxed) }
                notEmpty.pointee.wrappingAdd(1, ordering: .relaxed)
                if sleepingGets.pointee.load(ordering: .relaxed) > 0 { wakeups.gets = 1 }
                // Pass a wake-up on while there is room: one a killed process took with it is
                // made good by the next put.
                if sleepingPuts.pointee.load(ordering: .relaxed) > 0, maxsize == 0 || count + 1 < Int64(maxsize) {
                    notFull.pointee.wrappingAdd(1, ordering: .relaxed)
                    wakeups.puts = 1
                }
                break
            }
            if !block || deadline.hasPassed {
                unlock()
                throw QueueError.full
            }
            let forBytes = maxsize == 0 || count < Int64(maxsize)
            sleepingPuts.pointee.wrappingAdd(1, ordering: .relaxed)
            if forBytes { sleepingForBytes.pointee.wrappingAdd(1, ordering: .relaxed) }
            let sequence = notFull.pointee.load(ordering: .relaxed)
            unlock()
            _ = Futex.wait(notFull, expected: sequence, deadline: deadline, shared: true)
            lock()
            sleepingPuts.pointee.wrappingSubtract(1, ordering: .relaxed)
            if forBytes { sleepingForBytes.pointee.wrappingSubtract(1, ordering: .relaxed) }
        }
        unlock()
        perform(wakeups)
    }

    /// Removes the oldest item and returns its encoding.
    /// - Parameters:
    ///   - block: Whether to wait for an item.
    ///   - deadline: When to stop waiting.
    /// - Returns: The item's bytes.
    /// - Throws: `QueueError.empty` when there is no item (in time); `MultiprocessingError`
    ///   when the handle is closed.
    func get(block: Bool, deadline: Deadline) throws -> [UInt8] {
        try checkOpen()
        var wakeups = RingWakeups()
        var payload: [UInt8] = []
        lock()
        while true {
            if closed {
                unlock()
                throw MultiprocessingError.invalidState("Queue is closed")
            }
            let count = countWord.pointee.load(ordering: .relaxed)
            if count > 0 {
                let (head, used) = unpack(ring.pointee.load(ordering: .relaxed))
                let length = readLength(at: head)
                payload = [UInt8](unsafeUninitializedCapacity: length) { buffer, initialized in
                    copyOut(UnsafeMutableRawBufferPointer(buffer), at: (head + Self.lengthPrefix) % capacity)
                    initialized = length
                }
                let total = Self.lengthPrefix + length
                let remaining = used - total
                // An empty ring starts again at 0, so that small items rarely wrap.
                let newHead = remaining == 0 ? 0 : (head + total) % capacity
                ring.pointee.store(pack(head: newHead, used: remaining), ordering: .relaxed)
                countWord.pointee.store(count - 1, ordering: .relaxed)
                if sleepingPuts.pointee.load(ordering: .relaxed) > 0 {
                    notFull.pointee.wrappingAdd(1, ordering: .relaxed)
                    wakeups.puts = sleepingForBytes.pointee.load(ordering: .relaxed) > 0 ? Int32.max : 1
                }
                // Pass a wake-up on while items are left: one a killed process took with it is
                // made good by the next get.
                if count > 1, sleepingGets.pointee.load(ordering: .relaxed) > 0 { wakeups.gets = 1 }
                break
            }
            if !block || deadline.hasPassed {
                unlock()
                throw QueueError.empty
            }
            sleepingGets.pointee.wrappingAdd(1, ordering: .relaxed)
            let sequence = notEmpty.pointee.load(ordering: .relaxed)
            unlock()
            _ = Futex.wait(notEmpty, expected: sequence, deadline: deadline, shared: true)
            lock()
            sleepingGets.pointee.wrappingSubtract(1, ordering: .relaxed)
        }
        unlock()
        perform(wakeups)
        return payload
    }

    /// Marks one task done.
    /// - Throws: `QueueError.taskDoneTooManyTimes` when no task is unfinished;
    ///   `MultiprocessingError` when the handle is closed.
    func taskDone() throws {
        try checkOpen()
        var wakeups = RingWakeups()
        lock()
        let unfinished = unfinishedWord.pointee.load(ordering: .relaxed)
        guard unfinished > 0 else {
            unlock()
            throw QueueError.taskDoneTooManyTimes
        }
        unfinishedWord.pointee.store(unfinished - 1, ordering: .relaxed)
        if unfinished == 1 {
            allDone.pointee.wrappingAdd(1, ordering: .relaxed)
            wakeups.joins = sleepingJoins.pointee.load(ordering: .relaxed) > 0
        }
        unlock()
        perform(wakeups)
    }

    /// Waits until no task is unfinished.
    /// - Parameter deadline: When to stop waiting.
    /// - Returns: Whether every task was done in time.
    /// - Throws: `MultiprocessingError` when the handle is closed.
    func join(deadline: Deadline) throws -> Bool {
        try checkOpen()
        lock()
        while true {
            if closed {
                unlock()
                throw MultiprocessingError.invalidState("Queue is closed")
            }
            if unfinishedWord.pointee.load(ordering: .relaxed) == 0 {
                unlock()
                return true
            }
            if deadline.hasPassed {
                unlock()
                return false
            }
            sleepingJoins.pointee.wrappingAdd(1, ordering: .relaxed)
            let sequence = allDone.pointee.load(ordering: .relaxed)
            unlock()
            _ = Futex.wait(allDone, expected: sequence, deadline: deadline, shared: true)
            lock()
            sleepingJoins.pointee.wrappingSubtract(1, ordering: .relaxed)
        }
    }

    private func perform(_ wakeups: RingWakeups) {
        if wakeups.gets > 0 { Futex.wake(notEmpty, count: wakeups.gets, shared: true) }
        if wakeups.puts > 0 { Futex.wake(notFull, count: wakeups.puts, shared: true) }
        if wakeups.joins { Futex.wake(allDone, count: Int32.max, shared: true) }
    }

    // MARK: - Reading the state

    /// The number of items.
    var count: Int { Int(countWord.pointee.load(ordering: .relaxed)) }

    /// The number of unfinished tasks.
    var unfinished: Int { Int(unfinishedWord.pointee.load(ordering: .relaxed)) }

    /// The bytes the items take in the data area, with their lengths.
    var usedBytes: Int { unpack(ring.pointee.load(ordering: .relaxed)).used }

    /// Takes the mutex and keeps it (for a test that makes a process die holding it).
    func holdMutexForTesting() { lock() }
}
