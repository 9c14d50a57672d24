// swift-subprocess, called as shared/baselines/swift-peers calls it. In a file of its own: its
// module is named `Subprocess`, like Spindle's `Subprocess` enum, and this file imports only it.
import Subprocess

/// `count` × `run(.path("/bin/true"), output: .discarded)`, one after the other, in a task.
func swiftSubprocessSpawnTrue(_ count: Int) async {
    for _ in 0..<count {
        let result = try! await run(.path("/bin/true"), output: .discarded)
        precondition(result.terminationStatus.isSuccess, "swift-subprocess: /bin/true failed")
    }
}

/// `count` × `run(.path("/bin/echo"), arguments: ["hi"], output: .string(limit: 4096))`.
func swiftSubprocessCaptureEcho(_ count: Int) async -> Int {
    var bytes = 0
    for _ in 0..<count {
        let result = try! await run(.path("/bin/echo"), arguments: ["hi"], output: .string(limit: 4096))
        bytes += result.standardOutput.utf8.count
    }
    return bytes
}
