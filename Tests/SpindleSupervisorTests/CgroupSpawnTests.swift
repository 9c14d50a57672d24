import Foundation
import Glibc
import SpindleSubprocess
@testable import SpindleSupervisor
import SpindleTestSupport
import Testing

/// `SpawnOptions.cgroupDirectory` (what a `killtree` start uses): the child starts in the given
/// cgroup v2.
@Suite("subprocess: spawning into a cgroup", .serialized, .timeLimit(.minutes(2)))
struct CgroupSpawnTests {
    /// This process's cgroup v2 directory, when there is one and it is writable.
    static var writableOwnCgroup: String? {
        guard let mount = ProcessTree.cgroup2Mount(), let own = ProcessTree.ownCgroup() else { return nil }
        let directory = own == "/" ? mount : mount + own
        return access(directory, W_OK) == 0 ? directory : nil
    }

    @Test func theChildStartsInTheCgroupAndItsChildrenStayThere() throws {
        guard let parent = Self.writableOwnCgroup else { return }  // nothing to create a cgroup in here
        let name = "spindle-test.\(getpid())"
        let directory = parent + "/" + name
        try #require(mkdir(directory, 0o755) == 0, "mkdir \(directory): \(String(cString: strerror(errno)))")
        defer { _ = rmdir(directory) }
        let fd = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        try #require(fd >= 0)
        defer { close(fd) }
        var options = SpawnOptions()
        options.cgroupDirectory = fd
        let child = try Popen(["/bin/sh", "-c", "cat /proc/self/cgroup; sleep 0.1"], stdout: .pipe, options: options)
        let (output, _) = try child.communicate(timeout: 30)
        #expect(child.returncode == 0)
        let text = String(decoding: output ?? [], as: UTF8.self)
        #expect(text.contains("0::") && text.contains("/\(name)\n"), "\(text)")
        // A program that cannot be run fails at exec, inside the cgroup, and leaves no child.
        let children = childPids().count
        #expect {
            _ = try Popen(["/nonexistent/program"], options: options)
        } throws: { ($0 as? SpawnError)?.step == "exec" }
        #expect(childPids().count == children)
        // 20 spawns in a row, each started in the cgroup.
        for i in 0..<20 {
            let child = try Popen(["/bin/sh", "-c", "exit \(i)"], options: options)
            #expect(try child.wait(timeout: 30) == Int32(i))
        }
        // The cgroup is empty again once the children are reaped (rmdir would fail otherwise).
        #expect(waitUntil(timeout: 10) { (try? String(contentsOfFile: directory + "/cgroup.procs", encoding: .utf8))?.isEmpty ?? false })
    }

    @Test func aDirectoryThatIsNoCgroupFailsTheSpawnAtTheCgroupStep() throws {
        let fd = open("/tmp", O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        try #require(fd >= 0)
        defer { close(fd) }
        var options = SpawnOptions()
        options.cgroupDirectory = fd
        let children = childPids().count
        do {
            _ = try Popen(["/bin/true"], options: options)
            Issue.record("a spawn into /tmp as a cgroup succeeded")
        } catch {
            #expect(error.step == "cgroup", "\(error)")
        }
        #expect(childPids().count == children, "no child is left behind")
    }
}
