import Glibc
import SpindleMultiprocessing

/// An error the fixture's functions throw on purpose.
enum FixtureError: Error, CustomStringConvertible {
    case failed(String)
    case alreadyDone(Int)

    var description: String {
        switch self {
        case .failed(let message): return "failed on purpose: \(message)"
        case .alreadyDone(let item): return "item \(item) ran twice"
        }
    }
}

/// A Codable value with a bit of everything, for round trips through a worker.
struct Sample: Codable, Equatable, Sendable {
    var id: Int
    var name: String
    var ratio: Double
    var tags: [String]
    var nested: [String: [Int]]
    var optional: Int?
    var blob: [UInt8]
}

/// The value set by the pool initializer, read back by `readGlobal`.
nonisolated(unsafe) var initializedValue = "unset"

/// Every worker function of the fixture; the tests call them by these names and types.
enum FixtureFunctions {
    static let square = WorkerFunction<Int, Int>("square") { $0 * $0 }

    static let add = WorkerFunction<ArgumentTuple<Int, Int>, Int>("add") { a, b in a + b }

    static let sum = WorkerFunction<[Int], Int>("sum") { $0.reduce(0, +) }

    static let pid = WorkerFunction<Int, Int32>("pid") { _ in getpid() }

    static let fail = WorkerFunction<String, Int>("fail") { message in throw FixtureError.failed(message) }

    /// Fails for odd numbers, squares even ones.
    static let failOdd = WorkerFunction<Int, Int>("failOdd") { n in
        if n % 2 == 1 { throw FixtureError.failed("odd \(n)") }
        return n * n
    }

    /// Sends itself the signal `signal` until it dies of it (the Swift runtime's crash handler
    /// catches the first SIGSEGV or SIGABRT, prints a backtrace and restores the default action).
    static let killSelf = WorkerFunction<Int32, Int>("killSelf") { signal in
        while true {
            kill(getpid(), signal)
            usleep(20_000)
        }
    }

    /// Exits with `code` in the middle of the call.
    static let exitWith = WorkerFunction<Int32, Int>("exitWith") { code in exit(code) }

    /// Sleeps `seconds` and returns its pid.
    static let sleep = WorkerFunction<Double, Int32>("sleep") { seconds in
        usleep(UInt32(seconds * 1_000_000))
        return getpid()
    }

    /// Never answers.
    static let hang = WorkerFunction<Int, Int>("hang") { _ in
        while true { pause() }
    }

    /// Writes "pid\n" to the file, then sleeps `seconds`.
    static let recordPidAndSleep = WorkerFunction<ArgumentTuple<String, Double>, NoResult>("recordPidAndSleep") { path, seconds in
        let file = fopen(path, "w")
        if let file {
            fputs("\(getpid())\n", file)
            fclose(file)
        }
        usleep(UInt32(seconds * 1_000_000))
    }

    /// Creates `directory/item` exclusively: a second run of the same item fails.
    static let touchOnce = WorkerFunction<ArgumentTuple<String, Int>, Int>("touchOnce") { directory, item in
        let fd = open("\(directory)/\(item)", O_CREAT | O_EXCL | O_WRONLY, 0o644)
        if fd < 0 { throw FixtureError.alreadyDone(item) }
        close(fd)
        return item
    }

    /// Echoes every message of the connection back, until the other end closes it; returns the count.
    static let echo = WorkerFunction<Connection, NoResult>("echo") { connection in
        while let bytes = try? connection.recvBytes() {
            try connection.sendBytes(bytes)
        }
        connection.close()
    }

    /// Receives Samples and sends each back with its id doubled, until the other end closes.
    static let doubleIDs = WorkerFunction<Connection, NoResult>("doubleIDs") { connection in
        while var sample = try? connection.recv(Sample.self) {
            sample.id *= 2
            try connection.send(sample)
        }
    }

    /// Sends its name, its parent's pid and its own pid on the connection.
    static let whoAmI = WorkerFunction<Connection, NoResult>("whoAmI") { connection in
        try connection.send([
            Multiprocessing.currentProcessName, String(Multiprocessing.parentProcessID ?? -1), String(getpid()),
        ])
    }

    static let roundTrip = WorkerFunction<Sample, Sample>("roundTrip") { $0 }

    static let setGlobal = WorkerFunction<String, NoResult>("setGlobal") { value in initializedValue = value }

    static let readGlobal = WorkerFunction<Int, String>("readGlobal") { _ in initializedValue }

    static let failInit = WorkerFunction<Int, NoResult>("failInit") { _ in throw FixtureError.failed("initializer") }

    /// Attaches the shared memory `name`, then `count` times takes the lock at offset 0 and
    /// increments the counter at offset 8 (a read, a pause, a write: a lost update without the lock).
    static let sharedIncrement = WorkerFunction<ArgumentTuple<String, Int>, NoResult>("sharedIncrement") { name, count in
        let memory = try SharedMemory(name: name)
        let lock = try ProcessLock(in: memory, offset: 0)
        let counter = memory.buffer.baseAddress!.advanced(by: 8).assumingMemoryBound(to: Int.self)
        for _ in 0..<count {
            lock.withLock {
                let value = counter.pointee
                sched_yield()
                counter.pointee = value + 1
            }
        }
        memory.close()
    }

    /// Writes `text` into the shared memory `name` at offset 0, NUL-terminated.
    static let writeShared = WorkerFunction<ArgumentTuple<String, String>, Int>("writeShared") { name, text in
        let memory = try SharedMemory(name: name)
        let bytes = Array(text.utf8) + [0]
        memory.buffer.copyBytes(from: bytes)
        let size = memory.size
        memory.close()
        return size
    }

    static let all: [any WorkerEntryPoint] = [
        square, add, sum, pid, fail, failOdd, killSelf, exitWith, sleep, hang, recordPidAndSleep, touchOnce,
        echo, doubleIDs, whoAmI, roundTrip, setGlobal, readGlobal, failInit, sharedIncrement, writeShared,
    ]
}
