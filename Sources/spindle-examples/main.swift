// spindle-examples: the example programs of the "Concurrent execution" guide, written with Spindle.
//
//     spindle-examples            runs every example, in the guide's order, each under a heading
//     spindle-examples NAME       runs one example
//     spindle-examples --list     lists the examples' names
#if canImport(Glibc)
import Glibc
#endif
import Spindle

// The multiprocessing example's workers are this program: started as one, it serves its parent
// and never gets past this line.
Multiprocessing.bootstrap(registering: MultiprocessingDemo.functions)

/// One runnable example: its name (the Python program's name without ".py") and its body, which
/// returns the exit status.
struct Example {
    let name: String
    let summary: String
    let run: () throws -> Int32
}

/// The examples, in the order of the guide.
let examples: [Example] = [
    Example(name: "mthreads", summary: "creating threads: start(), join(), ident, isAlive, daemon", run: MThreads.run),
    Example(name: "gui", summary: "progress bars drawn by the main thread while workers run; q quits", run: GUI.run),
    Example(name: "localdata", summary: "thread-local data next to shared data", run: LocalData.run),
    Example(name: "lock", summary: "threads printing with and without a Lock", run: LockDemo.run),
    Example(name: "deadlock", summary: "two threads taking two locks in opposite orders", run: Deadlock.run),
    Example(name: "reentrant_lock", summary: "a Lock blocks its own holder, an RLock does not", run: ReentrantLock.run),
    Example(
        name: "producers_and_customers", summary: "producers and customers sharing a bounded count under a Condition",
        run: ProducersAndCustomers.run),
    Example(name: "queue", summary: "a bounded Queue between threads, taskDone/join, shutdown; Lifo and Priority", run: QueueDemo.run),
    Example(
        name: "multiprocessing", summary: "a Pool's map, imap_unordered and apply_async; a Process and a Pipe",
        run: MultiprocessingDemo.run),
    Example(name: "subprocess", summary: "run, check, a pipeline, a timeout and a missing program", run: SubprocessDemo.run),
    Example(name: "concurrent", summary: "a thread pool's map, submit and as_completed", run: ConcurrentDemo.run),
    Example(name: "envoy", summary: "a pipeline from one string, its history, a connected command", run: EnvoyDemo.run),
]

let validNames = examples.map(\.name).joined(separator: ", ")

func usage() -> String {
    """
    usage: spindle-examples [NAME | --list | --help]
      With no NAME, runs every example in order, each under a heading.
      NAME is one of: \(validNames)
    """
}

/// Runs `example`, turning an error thrown out of it into a message and status 1.
func run(_ example: Example) -> Int32 {
    do {
        return try example.run()
    } catch {
        Console.error("spindle-examples: \(example.name) failed: \(error)")
        return 1
    }
}

let arguments = Array(CommandLine.arguments.dropFirst())
var status: Int32 = 0

switch arguments.count {
case 0:
    for (index, example) in examples.enumerated() {
        if index > 0 { Console.line() }
        Console.line(String(repeating: "=", count: 20) + " " + example.name)
        let result = run(example)
        if status == 0 { status = result }
    }
case 1:
    let argument = arguments[0]
    if argument == "--list" {
        for example in examples { Console.line(example.name) }
    } else if argument == "--help" || argument == "-h" {
        Console.line(usage())
        for example in examples {
            Console.line("  \(example.name.padding(23)) \(example.summary)")
        }
    } else if let example = examples.first(where: { $0.name == argument }) {
        status = run(example)
    } else if argument.hasPrefix("-") {
        Console.error("spindle-examples: unknown option '\(argument)'\n\(usage())")
        status = 2
    } else {
        Console.error("spindle-examples: unknown example '\(argument)'; valid names: \(validNames)")
        status = 2
    }
default:
    Console.error("spindle-examples: expected at most one example name, got \(arguments.count) arguments\n\(usage())")
    status = 2
}

// exit() first waits for any non-daemon thread still running, as Python does at interpreter exit.
exit(status)
