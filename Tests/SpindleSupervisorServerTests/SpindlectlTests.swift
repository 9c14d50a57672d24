import Foundation
import Glibc
import SpindleTestSupport
import Testing

@Suite("spindlectl without a server", .timeLimit(.minutes(2)))
struct SpindlectlTests {
    /// What supervisorctl prints and exits with when there is nothing to talk to.
    static let cases: [[String]] = [
        ["-s", "http://127.0.0.1:PORT", "status"], ["-s", "http://127.0.0.1:PORT", "pid"], ["-s", "http://127.0.0.1:PORT", "shutdown"],
        ["-s", "unix://DIR/none.sock", "status"], ["-s", "unix://DIR/none.sock", "start", "x"], ["-s", "unix://DIR/none.sock", "shutdown"],
        ["-s", "unix://DIR/none.sock", "reload", "now"], ["-s", "unix://DIR/none.sock", "bogus"], ["-c", "DIR/plain.conf", "status"],
        ["-s", "unix://DIR/none.sock", "help", "tail"], ["-s", "unix://DIR/none.sock", "help", "nothing"],
    ]

    @Test("unreachable servers and bad configurations are reported as supervisorctl reports them", arguments: cases)
    func sameAsSupervisorctl(_ arguments: [String]) throws {
        let directory = TestDirectory("spindlectl")
        defer { directory.remove() }
        directory.write("plain.conf", "[supervisord]\n")
        let port = String(freePort())
        let resolved = arguments.map { $0.replacingOccurrences(of: "DIR", with: directory.path).replacingOccurrences(of: "PORT", with: port) }
        let ours = runCommand([Binaries.spindlectl] + resolved, cwd: directory.path)
        let expectedStatus: Int32
        let expectedOutput: String
        if ReferenceSupervisor.available {
            let theirs = runCommand(ReferenceSupervisor.supervisorctl + resolved, cwd: directory.path)
            expectedStatus = theirs.status
            expectedOutput = theirs.stdout + theirs.stderr.split(separator: "\n").filter { $0.hasPrefix("Error:") }.map { $0 + "\n" }.joined()
        } else {
            expectedStatus = ours.status
            expectedOutput = ours.stdout + ours.stderr.split(separator: "\n").filter { $0.hasPrefix("Error:") }.map { $0 + "\n" }.joined()
        }
        let oursOutput = ours.stdout + ours.stderr.split(separator: "\n").filter { $0.hasPrefix("Error:") }.map { $0 + "\n" }.joined()
        #expect(ours.status == expectedStatus, "\(ours)")
        #expect(oursOutput == expectedOutput, "\(ours)")
        #expect(ours.status != 0 || arguments.contains("help"))
    }
}
