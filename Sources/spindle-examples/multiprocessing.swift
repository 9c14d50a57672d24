import Spindle
#if canImport(Glibc)
import Glibc
#endif

/// multiprocessing: a Pool of worker processes (map, imap_unordered, apply_async with an error)
/// and a Process that sends a message back over a Pipe. The workers are this program itself:
/// main.swift bootstraps with `MultiprocessingDemo.functions` first.
enum MultiprocessingDemo {
    /// Python's `def f(x): return x*x`.
    static let f = WorkerFunction<Int, Int>("examples.f") { $0 * $0 }

    /// Fails for every number: its error comes back as a RemoteError.
    static let refuse = WorkerFunction<Int, Int>("examples.refuse") { n in throw Refused(number: n) }

    /// Returns the pid of the worker that runs it.
    static let whoRuns = WorkerFunction<Int, Int32>("examples.whoRuns") { _ in getpid() }

    /// Python's `def f(conn): conn.send([42, None, 'hello']); conn.close()`.
    static let sendGreeting = WorkerFunction<Connection, NoResult>("examples.sendGreeting") { connection in
        try connection.send(Greeting(number: 42, nothing: nil, text: "hello"))
        connection.close()
    }

    static let functions: [any WorkerEntryPoint] = [f, refuse, whoRuns, sendGreeting]

    struct Refused: Error, CustomStringConvertible {
        let number: Int
        var description: String { "\(number) refused" }
    }

    /// `[42, None, 'hello']` as a Codable value.
    struct Greeting: Codable, Sendable {
        var number: Int
        var nothing: Int?
        var text: String
    }

    static func run() throws -> Int32 {
        try Pool(processes: 4).scoped { pool in
            // with Pool(5) as p: print(p.map(f, [1, 2, 3]))
            Console.line(list(try pool.map(f, [1, 2, 3])))
            Console.line("map(f, range(10)): " + list(try pool.map(f, Array(0..<10))))
            let unordered = try pool.imapUnordered(f, Array(0..<10)).results()
            Console.line("imap_unordered(f, range(10)), sorted: " + list(unordered.sorted()))
            let pending = try pool.applyAsync(f, 20)
            Console.line("apply_async(f, (20,)).get(timeout=1): \(try pending.get(timeout: 30))")
            let pids = Set(try pool.map(whoRuns, Array(0..<100), chunksize: 1))
            Console.line("100 tasks ran in \(pids.count <= 4 ? "at most 4" : "\(pids.count)") worker processes, none of them this one: \(!pids.contains(getpid()))")
            do {
                _ = try pool.apply(refuse, 7)
            } catch let error as RemoteError {
                Console.line("apply(refuse, (7,)) raised \(error.type): \(error.message)")
            }
        }
        // parent_conn, child_conn = Pipe(); p = Process(target=f, args=(child_conn,))
        let (parentEnd, childEnd) = try Multiprocessing.pipe()
        let process = WorkerProcess(target: sendGreeting, argument: childEnd)
        try process.start()
        childEnd.close()
        let greeting = try parentEnd.recv(Greeting.self)
        Console.line("Process received: [\(greeting.number), \(greeting.nothing.map(String.init) ?? "None"), '\(greeting.text)']")
        _ = try process.join(timeout: 30)
        Console.line("\(process.name) exit code: \(process.exitcode.map(String.init) ?? "None")")
        return 0
    }

    static func list(_ values: [Int]) -> String {
        "[" + values.map(String.init).joined(separator: ", ") + "]"
    }
}
