// CPython's figures, measured in the same run: a section hands over a Python script that
// prints one line per benchmark, "name<TAB>ns,ns,…" (nanoseconds per operation of each run).
import Foundation

enum CPython {
    /// The interpreter: $SPINDLE_BENCH_PYTHON, or `python3` from PATH.
    static var interpreter: String {
        ProcessInfo.processInfo.environment["SPINDLE_BENCH_PYTHON"] ?? "python3"
    }

    /// Runs `script` and returns its figures by name, or `nil` (with a note on standard error)
    /// when there is no interpreter or the script failed.
    static func run(script: String, arguments: [String]) -> [String: [Double]]? {
        let clock = CPUClock.now()
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [interpreter, "-c", script] + arguments
        let output = Pipe()
        process.standardOutput = output
        do {
            try process.run()
        } catch {
            progress("   CPython not measured: cannot run \(interpreter): \(error)")
            return nil
        }
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            progress("   CPython not measured: \(interpreter) exited with \(process.terminationStatus)")
            return nil
        }
        var figures: [String: [Double]] = [:]
        for line in String(decoding: data, as: UTF8.self).split(separator: "\n") {
            let fields = line.split(separator: "\t")
            guard fields.count == 2 else { continue }
            figures[String(fields[0])] = fields[1].split(separator: ",").compactMap { Double($0) }
        }
        // How busy other processes kept the machine meanwhile, for every figure of the script.
        figures[othersKey] = [CPUClock.othersShare(from: clock, to: .now())]
        return figures
    }

    /// The key under which `run` returns the other processes' share of the CPU during the script.
    static let othersKey = "__others"

    /// A sample made of the script's figure `key`, or `nil` when the script did not report it.
    static func sample(_ figures: [String: [Double]]?, _ key: String, name: String, operations: Int) -> Sample? {
        guard let runs = figures?[key], !runs.isEmpty else { return nil }
        let others = figures?[othersKey]?.first ?? .nan
        return Sample(
            name: name, operations: operations, nanosecondsPerOp: runs,
            othersBusy: Array(repeating: others, count: runs.count))
    }

    /// The interpreter's version line, for the table's heading.
    static func version() -> String? {
        run(script: "import sys; print('version\\t' + str(sys.version_info[0]) + ',' + str(sys.version_info[1]) + ',' + str(sys.version_info[2]))", arguments: [])?["version"]
            .map { $0.map { String(Int($0)) }.joined(separator: ".") }
    }
}
