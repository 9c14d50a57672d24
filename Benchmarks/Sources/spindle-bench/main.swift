// spindle-bench: Spindle against its peers, side by side in one run.
//
//   swift build -c release && .build/release/spindle-bench [options] [section ...]
//
// With no section named, every section runs (but those marked to run only when named). A new
// section is a file defining a `Section`, added to `sections` below.
#if canImport(Glibc)
import Glibc
#endif
import Spindle

// Started as a worker process of a section (the multiprocessing section's pools and children, the
// mpqueue section's producers and consumers), this program serves its parent and never gets past
// this line.
Multiprocessing.bootstrap(registering: multiprocessingWorkerFunctions + ProcessQueueWorkers.all)

let sections: [Section] = [
    threadingSection,
    queueSection,
    futuresSection,
    subprocessSection,
    envoySection,
    supervisorSection,
    processQueueSection,
    multiprocessingSection,
    logRotationSection,
]

/// Figures taken in a fresh process (`spindle-bench --probe NAME`, run by the sections themselves).
let probes: [Probe] = queueProbes + subprocessProbes

if CommandLine.arguments.count == 3, CommandLine.arguments[1] == "--probe" {
    guard let probe = probes.first(where: { $0.name == CommandLine.arguments[2] }) else {
        writeStandardError("spindle-bench: no probe named '\(CommandLine.arguments[2])'\n")
        exit(1)
    }
    probe.run()
    exit(0)
}

func usage() -> Never {
    print(
        """
        usage: spindle-bench [--repeats N] [--scale F] [--quiet-wait S] [--no-python] [--only TEXT] [--list] [section ...]

          --repeats N   measure every figure N times and report the best (default 5)
          --scale F     multiply every iteration count by F (e.g. 0.1 for a quick check)
          --quiet-wait S  before each run, wait up to S seconds for other processes to leave the
                        CPUs idle (for a shared machine; the table's "others" column shows what was left)
          --no-python   skip CPython's figures
          --only TEXT   measure only the figures whose name contains TEXT (for profiling)
          --list        list the sections
        """)
    exit(1)
}

var options = Options()
var selected: [Section] = []
var arguments = CommandLine.arguments.dropFirst()
while let argument = arguments.popFirst() {
    switch argument {
    case "--repeats":
        guard let value = arguments.popFirst().flatMap({ Int($0) }), value > 0 else { usage() }
        options.repeats = value
    case "--scale":
        guard let value = arguments.popFirst().flatMap({ Double($0) }), value > 0 else { usage() }
        options.scale = value
    case "--quiet-wait":
        guard let value = arguments.popFirst().flatMap({ Double($0) }), value >= 0 else { usage() }
        options.quietWait = value
    case "--no-python":
        options.python = false
    case "--only":
        guard let value = arguments.popFirst() else { usage() }
        options.only = value
        options.python = false
    case "--list":
        for section in sections {
            print("\(pad(section.name, 12)) \(section.summary)\(section.runsByDefault ? "" : " [only when named]")")
        }
        exit(0)
    case "-h", "--help":
        usage()
    default:
        guard let section = sections.first(where: { $0.name == argument }) else {
            writeStandardError("spindle-bench: no section named '\(argument)'\n")
            usage()
        }
        selected.append(section)
    }
}
if selected.isEmpty { selected = sections.filter(\.runsByDefault) }

for section in selected {
    let bench = Bench(options: options)
    section.run(bench)
    bench.printTable(title: "spindle-bench \(section.name) on \(machineDescription())")
}
