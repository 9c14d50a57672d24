// A one-line description of the machine, printed above the tables.
import Foundation

func machineDescription() -> String {
    var cpu = "unknown CPU"
    if let info = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8),
        let line = info.split(separator: "\n").first(where: { $0.hasPrefix("model name") }),
        let colon = line.firstIndex(of: ":")
    {
        cpu = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
    }
    var kernel = "unknown kernel"
    if let release = try? String(contentsOfFile: "/proc/sys/kernel/osrelease", encoding: .utf8) {
        kernel = "Linux " + release.trimmingCharacters(in: .whitespacesAndNewlines)
    }
    let cores = ProcessInfo.processInfo.activeProcessorCount
    return "\(cores) cores (\(cpu)), \(kernel)"
}
