import Glibc
import Testing

@testable import SpindleSupervisor

@Suite("Process state machine")
struct StateMachineTests {
    typealias Action = ProcessStateMachine.Action

    func machine(_ configure: (inout ProcessConfig) -> Void = { _ in }) -> ProcessStateMachine {
        var config = ProcessConfig(name: "p", command: "/bin/true")
        configure(&config)
        return ProcessStateMachine(policy: .init(config))
    }

    /// The transitions among `actions`.
    func transitions(_ actions: [Action]) -> [ProcessState] {
        actions.compactMap { if case .transition(_, let to, _) = $0 { return to } else { return nil } }
    }

    func timers(_ actions: [Action]) -> [Double] {
        actions.compactMap { if case .scheduleTimer(let at) = $0 { return at } else { return nil } }
    }

    @Test func codesAndNames() {
        let table: [(ProcessState, Int, String)] = [
            (.stopped, 0, "STOPPED"), (.starting, 10, "STARTING"), (.running, 20, "RUNNING"), (.backoff, 30, "BACKOFF"),
            (.stopping, 40, "STOPPING"), (.exited, 100, "EXITED"), (.fatal, 200, "FATAL"), (.unknown, 1000, "UNKNOWN"),
        ]
        for (state, code, name) in table {
            #expect(state.rawValue == code)
            #expect(state.name == name)
            #expect(ProcessState(name: name) == state)
        }
        #expect(ProcessState.allCases.filter(\.isStopped) == [.stopped, .exited, .fatal, .unknown])
        #expect(ProcessState.allCases.filter(\.isRunning) == [.starting, .running, .backoff])
        #expect(ProcessState.allCases.filter(\.isSignallable) == [.starting, .running, .stopping])
    }

    @Test func autostartThenRunningAfterStartsecs() {
        var m = machine { $0.startsecs = 5 }
        let first = m.tick(now: 100, mayStart: true)
        #expect(transitions(first) == [.starting])
        #expect(first.contains(.spawn))
        #expect(m.lastStart == 100)
        let spawned = m.spawned(pid: 42, now: 100)
        #expect(timers(spawned) == [105])
        #expect(m.pid == 42)
        #expect(m.tick(now: 104.9, mayStart: true).isEmpty)
        #expect(m.state == .starting)
        let up = m.tick(now: 105, mayStart: true)
        #expect(transitions(up) == [.running])
        #expect(up.contains(.log(.info, "success: p entered RUNNING state, process has stayed up for > than 5 seconds (startsecs)")))
        #expect(m.state == .running)
    }

    @Test func noAutostartWhenDisabledOrShuttingDown() {
        var off = machine { $0.autostart = false }
        #expect(off.tick(now: 1, mayStart: true).isEmpty)
        var shutting = machine()
        #expect(shutting.tick(now: 1, mayStart: false).isEmpty)
        #expect(shutting.state == .stopped)
    }

    @Test func startsecsZeroIsRunningAtTheNextTick() {
        var m = machine { $0.startsecs = 0 }
        _ = m.start(now: 10)
        _ = m.spawned(pid: 7, now: 10)
        #expect(transitions(m.tick(now: 10, mayStart: true)) == [.running])
    }

    /// Exits before startsecs: BACKOFF retried after 1, 2, 3 seconds, then FATAL.
    @Test func backoffDelaysThenFatal() throws {
        var m = machine { $0.startsecs = 10; $0.startretries = 3 }
        var now = 0.0
        var delays: [Double] = []
        var attempts = 0
        var states: [ProcessState] = []
        _ = m.start(now: now)
        while m.state != .fatal {
            #expect(m.state == .starting)
            attempts += 1
            _ = m.spawned(pid: Int32(100 + attempts), now: now)
            now += 0.5
            let exit = m.exited(.exited(1), now: now)
            states += transitions(exit)
            #expect(m.spawnerr == "Exited too quickly (process log may have details)")
            #expect(m.exitstatus == nil)
            if m.backoff > 3 {
                states += transitions(m.tick(now: now, mayStart: true))
                break
            }
            let due = try #require(timers(exit).first)
            delays.append(due - now)
            #expect(m.tick(now: due - 0.25, mayStart: true).isEmpty)
            now = due
            states += transitions(m.tick(now: now, mayStart: true))
        }
        #expect(delays == [1, 2, 3])
        #expect(attempts == 4)
        #expect(states == [.backoff, .starting, .backoff, .starting, .backoff, .starting, .backoff, .fatal])
        #expect(m.backoff == 0)
        #expect(m.systemStop)
        // FATAL is never left by itself, but an explicit start is allowed.
        #expect(m.tick(now: now + 100, mayStart: true).isEmpty)
        #expect(transitions(m.start(now: now + 100)) == [.starting])
    }

    /// Drives `count` failed starts (each exits before startsecs) and returns the delay before each retry.
    func retryDelays(_ m: inout ProcessStateMachine, count: Int) throws -> [Double] {
        var now = 0.0
        var delays: [Double] = []
        _ = m.start(now: now)
        for attempt in 1...count {
            #expect(m.state == .starting)
            _ = m.spawned(pid: Int32(100 + attempt), now: now)
            now += 0.5
            let exit = m.exited(.exited(1), now: now)
            let due = try #require(timers(exit).first)
            delays.append(due - now)
            now = due
            #expect(transitions(m.tick(now: now, mayStart: true)) == [.starting])
        }
        return delays
    }

    /// spindled's startretries=-1: never FATAL, the delay doubling up to 60 s.
    @Test func startretriesMinusOneRetriesForeverWithDoublingDelays() throws {
        var m = machine { $0.startsecs = 10; $0.startretries = -1 }
        let delays = try retryDelays(&m, count: 12)
        #expect(delays == [1, 2, 4, 8, 16, 32, 60, 60, 60, 60, 60, 60])
        #expect(m.state == .starting)
        #expect(m.backoff == 12)
    }

    @Test func backoffMaxCapsBothKindsOfDelay() throws {
        var forever = machine { $0.startsecs = 10; $0.startretries = -1; $0.backoffMax = 5 }
        #expect(try retryDelays(&forever, count: 6) == [1, 2, 4, 5, 5, 5])
        var counted = machine { $0.startsecs = 10; $0.startretries = 10; $0.backoffMax = 3 }
        #expect(try retryDelays(&counted, count: 5) == [1, 2, 3, 3, 3])
        // Without backoff_max, supervisor's own 1, 2, 3… stays as it is.
        var plain = machine { $0.startsecs = 10; $0.startretries = 10 }
        #expect(try retryDelays(&plain, count: 5) == [1, 2, 3, 4, 5])
        #expect(ProcessStateMachine.retryDelay(attempt: 1000, policy: .init(ProcessConfig(name: "p", command: "/bin/true"))) == 1000)
    }

    @Test func aRunningProcessResetsTheForeverCount() throws {
        var m = machine { $0.startsecs = 1; $0.startretries = -1 }
        _ = try retryDelays(&m, count: 3)
        _ = m.spawned(pid: 200, now: 100)
        #expect(transitions(m.tick(now: 101, mayStart: true)) == [.running])
        #expect(m.backoff == 0)
    }

    @Test func spawnFailureIsBackoffWithTheMessage() {
        var m = machine { $0.startretries = 0 }
        _ = m.start(now: 0)
        let failed = m.spawnFailed("can't find command '/nope'", now: 0)
        #expect(transitions(failed) == [.backoff])
        #expect(m.spawnerr == "can't find command '/nope'")
        #expect(transitions(m.tick(now: 0, mayStart: true)) == [.fatal])
        #expect(m.spawnerr == "can't find command '/nope'")
    }

    /// autorestart × exit code → whether the process is started again.
    @Test(arguments: [
        (AutoRestart.always, 0, true), (.always, 1, true), (.never, 0, false), (.never, 1, false),
        (.unexpected, 0, false), (.unexpected, 1, true), (.unexpected, -1, true),
    ])
    func autorestart(mode: AutoRestart, code: Int, restarts: Bool) {
        var m = machine { $0.autorestart = mode; $0.startsecs = 1; $0.exitcodes = [0] }
        _ = m.start(now: 0)
        _ = m.spawned(pid: 5, now: 0)
        _ = m.tick(now: 1, mayStart: true)
        #expect(m.state == .running)
        let status: ProcessExitStatus = code < 0 ? .signaled(SIGSEGV, coreDumped: false) : .exited(code)
        let exit = m.exited(status, now: 50)
        let expected = code == 0
        #expect(exit.contains(.transition(from: .running, to: .exited, expected: expected)))
        #expect(m.exitstatus == code)
        #expect(m.spawnerr == (expected ? nil : "Bad exit code \(code)"))
        #expect(m.pid == 0)
        let next = m.tick(now: 50, mayStart: true)
        #expect(next.contains(.spawn) == restarts)
        #expect(m.state == (restarts ? .starting : .exited))
        #expect(m.backoff == 0)
    }

    @Test func exitAfterStartsecsButBeforeTheTimerIsRunningThenExited() {
        var m = machine { $0.startsecs = 1; $0.autorestart = .never }
        _ = m.start(now: 0)
        _ = m.spawned(pid: 5, now: 0)
        let exit = m.exited(.exited(0), now: 2)
        #expect(transitions(exit) == [.running, .exited])
    }

    @Test func stopSendsStopsignalThenSigkillAfterStopwaitsecs() {
        var m = machine { $0.stopsignal = SIGINT; $0.stopwaitsecs = 3; $0.stopasgroup = true; $0.killasgroup = true; $0.startsecs = 0 }
        _ = m.start(now: 0)
        _ = m.spawned(pid: 9, now: 0)
        _ = m.tick(now: 0, mayStart: true)
        let (stop, error) = m.stop(now: 10)
        #expect(error == nil)
        #expect(transitions(stop) == [.stopping])
        #expect(stop.contains(.kill(signal: SIGINT, processGroup: true)))
        #expect(timers(stop) == [13])
        #expect(m.administrativeStop && m.killing)
        #expect(m.tick(now: 12.9, mayStart: true).isEmpty)
        let escalate = m.tick(now: 13, mayStart: true)
        #expect(escalate.contains(.kill(signal: SIGKILL, processGroup: true)))
        #expect(timers(escalate) == [16])
        let gone = m.exited(.signaled(SIGKILL, coreDumped: false), now: 13.5)
        #expect(gone.contains(.transition(from: .stopping, to: .stopped, expected: true)))
        #expect(gone.contains(.log(.warn, "stopped: p (terminated by SIGKILL)")))
        #expect(m.exitstatus == -1)
        #expect(m.state == .stopped)
        // A stopped process is not autostarted again: it has been started before.
        #expect(m.tick(now: 100, mayStart: true).isEmpty)
    }

    @Test func killasgroupOnlyForTheSigkill() {
        var m = machine { $0.stopasgroup = false; $0.killasgroup = true; $0.stopwaitsecs = 1; $0.startsecs = 0 }
        _ = m.start(now: 0)
        _ = m.spawned(pid: 9, now: 0)
        #expect(m.stop(now: 1).actions.contains(.kill(signal: SIGTERM, processGroup: false)))
        #expect(m.tick(now: 2, mayStart: true).contains(.kill(signal: SIGKILL, processGroup: true)))
    }

    @Test func stopInBackoffIsStoppedAtOnceAndKeepsTheCount() {
        var m = machine { $0.startsecs = 5 }
        _ = m.start(now: 0)
        _ = m.spawned(pid: 3, now: 0)
        _ = m.exited(.exited(0), now: 0.5)
        #expect(m.state == .backoff && m.backoff == 1)
        let (actions, error) = m.stop(now: 0.6)
        #expect(error == nil)
        #expect(transitions(actions) == [.stopped])
        #expect(actions.contains(.cancelTimer))
        #expect(m.tick(now: 10, mayStart: true).isEmpty)
        #expect(m.backoff == 1)
    }

    @Test func stopWithoutAProcessIsAnError() {
        var m = machine()
        let (actions, error) = m.stop(now: 0)
        #expect(error == "attempted to kill p with sig SIGTERM but it wasn't running")
        #expect(transitions(actions).isEmpty)
    }

    @Test func signalDoesNotChangeTheState() {
        var m = machine { $0.startsecs = 0 }
        #expect(m.signal(SIGHUP).error != nil)
        _ = m.start(now: 0)
        _ = m.spawned(pid: 3, now: 0)
        let (actions, error) = m.signal(SIGHUP)
        #expect(error == nil)
        #expect(actions.contains(.signal(SIGHUP)))
        #expect(m.state == .starting)
    }

    @Test func signalFailureIsUnknown() {
        var m = machine { $0.startsecs = 0 }
        _ = m.start(now: 0)
        _ = m.spawned(pid: 3, now: 0)
        _ = m.stop(now: 1)
        #expect(transitions(m.signalFailed("EPERM")) == [.unknown])
        #expect(!m.killing)
        #expect(m.start(now: 2).isEmpty)
    }

    @Test func exitStatusWords() {
        #expect(ProcessExitStatus.exited(3).description == "exit status 3")
        #expect(ProcessExitStatus.signaled(SIGTERM, coreDumped: false).description == "terminated by SIGTERM")
        #expect(ProcessExitStatus.signaled(SIGSEGV, coreDumped: true).description == "terminated by SIGSEGV (core dumped)")
        #expect(ProcessExitStatus(returncode: -9) == .signaled(9, coreDumped: false))
        #expect(ProcessExitStatus(returncode: 2).code == 2)
    }
}
