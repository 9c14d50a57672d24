#if canImport(Glibc)
import Glibc
#endif
import Spindle

/// "Creating threads" (mthreads.py): start(), join(), ident, isAlive and daemon.
///
/// Three threads are created; the third is made a daemon before it starts. The main thread reports
/// each one before and after `start()`, lets the first two work and joins them, and shows that a
/// join with a timeout gives up on the daemon, which the program does not wait for at exit.
enum MThreads {
    static func run() throws -> Int32 {
        let main = SpindleThread.current
        Console.line("\(main.name): ident=\(main.ident.map(String.init) ?? "nil"), alive=\(main.isAlive), daemon=\(main.daemon)")

        let go = Event()
        let never = Event()
        var workers: [SpindleThread] = []
        for number in 1...2 {
            workers.append(SpindleThread { try work(steps: number + 1, go: go) })
        }
        let background = SpindleThread {
            go.wait()
            Console.line("\(SpindleThread.current.name) waiting in the background")
            never.wait()
        }
        let all = workers + [background]

        for thread in all {
            Console.line("\(thread.name) created, ident=\(thread.ident.map(String.init) ?? "nil"), alive=\(thread.isAlive), daemon=\(thread.daemon)")
        }
        try background.setDaemon(true)
        Console.line("\(background.name).setDaemon(true) before start: daemon=\(background.daemon)")

        for thread in all {
            try thread.start()
            Console.line(
                "\(thread.name) started, ident=\(thread.ident.map(String.init) ?? "nil"), nativeID=\(thread.nativeID.map(String.init) ?? "nil"), alive=\(thread.isAlive), daemon=\(thread.daemon)"
            )
        }
        let names = SpindleThread.enumerate().map(\.name).sorted { order($0) < order($1) }
        Console.line("activeCount=\(SpindleThread.activeCount): \(names.joined(separator: ", "))")
        do {
            try workers[0].setDaemon(true)
        } catch {
            Console.line("\(workers[0].name).setDaemon(true) after start: \(error)")
        }

        go.set()
        for thread in workers {
            try thread.join()
            Console.line("\(thread.name) joined, alive=\(thread.isAlive)")
        }
        let finished = try background.join(timeout: 0.2)
        Console.line("\(background.name) join(timeout: 0.2) -> \(finished), alive=\(background.isAlive)")
        Console.line("\(background.name) is a daemon: the program exits without waiting for it")
        return 0
    }

    /// A worker's body: waits for the go, then does `steps` steps of 50 ms.
    private static func work(steps: Int, go: Event) throws {
        go.wait()
        let me = SpindleThread.current
        Console.line("\(me.name) running: current=\(me.name), ident matches=\(me.ident == SpindleThread.currentIdent)")
        for step in 1...steps {
            sleep(seconds: 0.05)
            Console.line("\(me.name) step \(step)/\(steps)")
        }
        Console.line("\(me.name) finished")
    }

    /// Sorts "MainThread" first, then "Thread-N" by N.
    private static func order(_ name: String) -> (Int, Int, String) {
        if name == "MainThread" { return (0, 0, name) }
        if name.hasPrefix("Thread-"), let number = Int(name.dropFirst("Thread-".count)) { return (1, number, name) }
        return (2, 0, name)
    }
}
