import Testing

@testable import SpindleSupervisor

@Suite("Health check state machine")
struct HealthCheckMachineTests {
    typealias Action = HealthCheckMachine.Action

    func machine(retries: Int = 2) -> HealthCheckMachine {
        HealthCheckMachine(name: "web", config: HealthCheckConfig(command: "true", interval: 10, timeout: 3, retries: retries))
    }

    @Test func checksRunOnlyWhileRunningOneTimerAtATime() {
        var m = machine()
        #expect(m.status == .inactive)
        #expect(m.tick(now: 100).isEmpty, "no check before the process runs")
        #expect(m.processRunning(now: 0) == [.statusChanged(from: .inactive, to: .starting), .scheduleTimer(at: 0)])
        #expect(m.tick(now: 0) == [.scheduleTimer(at: 3), .runCheck])
        #expect(m.tick(now: 1).isEmpty, "not yet at the timeout")
        let passed = m.checkFinished(exitStatus: 0, now: 1)
        #expect(passed.contains(.statusChanged(from: .starting, to: .healthy)))
        #expect(passed.last == .scheduleTimer(at: 11), "the next check is due an interval after this one ended")
        #expect(m.status == .healthy && m.lastResult == "passed")
        #expect(m.tick(now: 5).isEmpty)
        #expect(m.tick(now: 11) == [.scheduleTimer(at: 14), .runCheck])
        #expect(m.processStopped() == [.cancelTimer, .killCheck, .statusChanged(from: .healthy, to: .inactive)])
        #expect(m.checkFinished(exitStatus: -9, now: 12).isEmpty, "a check killed at the stop counts for nothing")
        #expect(m.failures == 0)
    }

    @Test func retriesFailuresInARowMakeItUnhealthyAndRestartIt() {
        var m = machine(retries: 2)
        _ = m.processRunning(now: 0)
        _ = m.tick(now: 0)
        let first = m.checkFinished(exitStatus: 1, output: "refused", now: 1)
        #expect(first.contains(.log(.info, "health check of web failed (1 of 2): exit status 1: refused")))
        #expect(first.last == .scheduleTimer(at: 11) && m.status == .starting)
        _ = m.tick(now: 11)
        #expect(m.tick(now: 14) == [.log(.warn, "health check of web timed out after 3 s; killing it"), .killCheck])
        let second = m.checkFinished(exitStatus: -9, now: 14.1)
        #expect(second.contains(.statusChanged(from: .starting, to: .unhealthy)))
        #expect(second.contains(.restartProcess) && second.contains(.cancelTimer))
        #expect(m.lastResult == "timed out after 3 s" && m.failures == 2)
        #expect(m.tick(now: 100).isEmpty, "no check while it restarts")
        _ = m.processStopped()
        #expect(m.status == .unhealthy, "unhealthy is kept until it runs again")
        #expect(m.processRunning(now: 200).first == .statusChanged(from: .unhealthy, to: .starting))
        #expect(m.failures == 0)
    }

    @Test func aPassResetsTheFailureCount() {
        var m = machine(retries: 2)
        _ = m.processRunning(now: 0)
        _ = m.tick(now: 0)
        _ = m.checkFinished(exitStatus: 1, now: 1)
        _ = m.tick(now: 11)
        _ = m.checkFinished(exitStatus: 0, now: 12)
        #expect(m.failures == 0 && m.status == .healthy)
        _ = m.tick(now: 22)
        let again = m.checkFinished(exitStatus: nil, problem: "can't find command 'nope'", now: 23)
        #expect(!again.contains(.restartProcess) && m.failures == 1 && m.lastResult == "can't find command 'nope'")
    }

    @Test func aCheckLeftFromTheLastRunIsWaitedForThenANewOneStarts() {
        var m = machine()
        _ = m.processRunning(now: 0)
        _ = m.tick(now: 0)
        _ = m.processStopped()
        #expect(m.processRunning(now: 1) == [.statusChanged(from: .inactive, to: .starting)], "no new check while the old one runs")
        #expect(m.checkFinished(exitStatus: -9, now: 1.1) == [.scheduleTimer(at: 1.1)])
        #expect(m.failures == 0 && m.status == .starting)
        #expect(m.tick(now: 1.1) == [.scheduleTimer(at: 4.1), .runCheck])
    }
}
