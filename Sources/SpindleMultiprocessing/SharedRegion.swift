import SpindleSystem
import Synchronization

/// Where a process-shared primitive or value lives: a `SharedMemory` block and an offset in it.
///
/// A region made by `fresh` owns its block: the block is unlinked when the region is freed (the
/// processes that attached keep their mappings). Regions attached by name or placed in a
/// caller's block own nothing.
final class SharedRegion: @unchecked Sendable {
    let memory: SharedMemory
    let offset: Int
    let ownsBlock: Bool

    private init(memory: SharedMemory, offset: Int, ownsBlock: Bool) {
        self.memory = memory
        self.offset = offset
        self.ownsBlock = ownsBlock
    }

    deinit {
        if ownsBlock { try? memory.unlink() }
    }

    /// A new zeroed block of `size` bytes that this region owns.
    static func fresh(size: Int) throws(MultiprocessingError) -> SharedRegion {
        SharedRegion(memory: try SharedMemory(create: true, size: size), offset: 0, ownsBlock: true)
    }

    /// A place in a caller's block, checked for room and alignment.
    static func placed(
        in memory: SharedMemory, offset: Int, size: Int, alignment: Int, type: String
    ) throws(MultiprocessingError) -> SharedRegion {
        guard !memory.closed else { throw .invalidState("a \(type) cannot be placed in a closed SharedMemory") }
        guard offset >= 0, offset % alignment == 0 else {
            throw .invalidState("a \(type) needs an offset that is a multiple of \(alignment), not \(offset)")
        }
        guard offset <= memory.size - size else {
            throw .invalidState("a \(type) needs \(size) bytes at offset \(offset), but the block '\(memory.name)' has \(memory.size)")
        }
        return SharedRegion(memory: memory, offset: offset, ownsBlock: false)
    }

    /// The address of the byte `at` within the region.
    func address(_ at: Int) -> UnsafeMutableRawPointer { memory.buffer.baseAddress! + offset + at }

    /// A 32-bit atomic word at `at` within the region.
    func word(_ at: Int) -> UnsafeMutablePointer<Atomic<UInt32>> {
        address(at).assumingMemoryBound(to: Atomic<UInt32>.self)
    }

    // MARK: - Codable

    /// What crosses to another process: the kind of object, the block's name, the offset.
    struct Reference: Codable {
        var kind: String
        var name: String
        var offset: Int
        var detail: String?
    }

    func reference(kind: String, detail: String? = nil) -> Reference {
        Reference(kind: kind, name: memory.name, offset: offset, detail: detail)
    }

    /// Attaches to the block a reference names, checking it holds the expected kind.
    static func attach(
        _ reference: Reference, kind: String, detail: String? = nil, size: Int, alignment: Int, codingPath: [any CodingKey]
    ) throws -> SharedRegion {
        guard reference.kind == kind, reference.detail == detail else {
            let found = reference.kind + (reference.detail.map { "<\($0)>" } ?? "")
            let wanted = kind + (detail.map { "<\($0)>" } ?? "")
            throw DecodingError.dataCorrupted(
                DecodingError.Context(codingPath: codingPath, debugDescription: "expected a \(wanted), found a \(found)"))
        }
        do throws(MultiprocessingError) {
            let memory = try SharedMemory(name: reference.name)
            return try placed(in: memory, offset: reference.offset, size: size, alignment: alignment, type: kind)
        } catch {
            throw DecodingError.dataCorrupted(
                DecodingError.Context(
                    codingPath: codingPath,
                    debugDescription: "cannot attach the \(kind) in shared memory '\(reference.name)': \(error)",
                    underlyingError: error))
        }
    }
}

/// The futex lock word of `ProcessLock`, also used inside the other primitives: 0 free,
/// 1 held, 2 held with sleepers.
enum SharedLockWord {
    static func acquire(_ word: UnsafeMutablePointer<Atomic<UInt32>>, blocking: Bool, timeout: Double?) -> Bool {
        if word.pointee.compareExchange(expected: 0, desired: 1, ordering: .acquiring).exchanged { return true }
        guard blocking else { return false }
        let deadline = Deadline.after(seconds: timeout.map { max(0, $0) })
        for _ in 0..<100 {
            let state = word.pointee.load(ordering: .relaxed)
            if state == 0, word.pointee.compareExchange(expected: 0, desired: 1, ordering: .acquiring).exchanged {
                return true
            }
            if state == 2 { break }
            cpuRelax()
        }
        // Mark it contended, so that the holder's release wakes a sleeper.
        while word.pointee.exchange(2, ordering: .acquiring) != 0 {
            if Futex.wait(word, expected: 2, deadline: deadline, shared: true) == .timedOut {
                return word.pointee.compareExchange(expected: 0, desired: 2, ordering: .acquiring).exchanged
            }
        }
        return true
    }

    /// Releases; returns whether the word was held.
    static func release(_ word: UnsafeMutablePointer<Atomic<UInt32>>) -> Bool {
        let previous = word.pointee.exchange(0, ordering: .releasing)
        if previous == 2 { Futex.wake(word, count: 1, shared: true) }
        return previous != 0
    }
}
