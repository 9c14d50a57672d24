import Foundation
import Glibc
import SpindleSupervisor
import SpindleSupervisorServer
import SpindleSystem
import SpindleTestSupport
import Testing

/// A supervisor and its XML-RPC interface over a configuration written in a temporary directory.
final class RPCHarness: @unchecked Sendable {
    let directory = TestDirectory("spindle-rpc")
    let supervisor: Supervisor
    let interface: SupervisorRPCInterface
    let states = Shared<[SupervisordState]>([])

    init(_ programs: String, rpcinterface: Bool = true) throws {
        let header = rpcinterface ? "[rpcinterface:supervisor]\nsupervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface\n" : ""
        let path = directory.write("supervisord.conf", "[supervisord]\nchildlogdir = \(directory.path)\nidentifier = testsuper\n" + header + programs)
        let config = try SupervisorConfig.load(path: path)
        supervisor = Supervisor(config: config)
        let states = self.states
        let mainLog = try MainLog(path: directory.file("main.log"), level: .info, maxBytes: 0, backups: 0, echo: false)
        interface = SupervisorRPCInterface(
            supervisor: supervisor, config: config, mainLog: mainLog,
            readConfig: { () throws(ConfigError) -> SupervisorConfig in try SupervisorConfig.load(path: path) },
            stateChanged: { state in states.update { $0.append(state) } })
        try supervisor.run()
    }

    func call(_ method: String, _ params: [XMLRPCValue] = []) -> XMLRPCResponse {
        interface.handle(XMLRPCCall(method, params))
    }

    func value(_ method: String, _ params: [XMLRPCValue] = []) -> XMLRPCValue? {
        if case .value(let v) = call(method, params) { return v }
        return nil
    }

    func close() {
        supervisor.shutdown(timeout: 20)
        directory.remove()
    }
}

@Suite("XML-RPC interface", .serialized, .timeLimit(.minutes(2)))
struct RPCInterfaceTests {
    static let program = """
        [program:sleeper]
        command = /bin/sh -c "echo hello; exec sleep 1000"
        startsecs = 0

        [program:manual]
        command = sleep 1000
        autostart = false
        """

    @Test func listMethodsAndSignaturesAreSupervisors() throws {
        let h = try RPCHarness(RPCInterfaceTests.program)
        defer { h.close() }
        let names = (h.value("system.listMethods")?.arrayValue ?? []).compactMap(\.stringValue)
        #expect(
            names == [
                "supervisor.addProcessGroup", "supervisor.clearAllProcessLogs", "supervisor.clearLog", "supervisor.clearProcessLog",
                "supervisor.clearProcessLogs", "supervisor.getAPIVersion", "supervisor.getAllConfigInfo", "supervisor.getAllProcessInfo",
                "supervisor.getIdentification", "supervisor.getPID", "supervisor.getProcessInfo", "supervisor.getState",
                "supervisor.getSupervisorVersion", "supervisor.getVersion", "supervisor.readLog", "supervisor.readMainLog",
                "supervisor.readProcessLog", "supervisor.readProcessStderrLog", "supervisor.readProcessStdoutLog", "supervisor.reloadConfig",
                "supervisor.removeProcessGroup", "supervisor.restart", "supervisor.sendProcessStdin", "supervisor.sendRemoteCommEvent",
                "supervisor.shutdown", "supervisor.signalAllProcesses", "supervisor.signalProcess", "supervisor.signalProcessGroup",
                "supervisor.startAllProcesses", "supervisor.startProcess", "supervisor.startProcessGroup", "supervisor.stopAllProcesses",
                "supervisor.stopProcess", "supervisor.stopProcessGroup", "supervisor.tailProcessLog", "supervisor.tailProcessStderrLog",
                "supervisor.tailProcessStdoutLog", "system.listMethods", "system.methodHelp", "system.methodSignature", "system.multicall",
            ])
        #expect(h.value("system.methodSignature", [.string("supervisor.startProcess")]) == .array([.string("boolean"), .string("string"), .string("boolean")]))
        #expect(h.value("system.methodSignature", [.string("supervisor.tailProcessLog")]) == .array(["array", "string", "int", "int"].map { .string($0) }))
        #expect(h.call("system.methodSignature", [.string("supervisor.nope")]) == .fault(code: 4, string: "SIGNATURE_UNSUPPORTED"))
        #expect(h.call("system.methodHelp", [.string("nope")]) == .fault(code: 4, string: "SIGNATURE_UNSUPPORTED"))
        let help = h.value("system.methodHelp", [.string("supervisor.getState")])?.stringValue ?? ""
        #expect(help.contains("@return struct"))
    }

    @Test("unknown methods are UNKNOWN_METHOD", arguments: ["supervisor.nope", "nope", "a.b.c", "supervisor._update", "other.getState", "supervisor."])
    func unknownMethod(_ method: String) throws {
        let h = try RPCHarness(RPCInterfaceTests.program)
        defer { h.close() }
        #expect(h.call(method) == .fault(code: 1, string: "UNKNOWN_METHOD"))
    }

    @Test func badParametersAreIncorrectParameters() throws {
        let h = try RPCHarness(RPCInterfaceTests.program)
        defer { h.close() }
        let incorrect = XMLRPCResponse.fault(code: 2, string: "INCORRECT_PARAMETERS")
        #expect(h.call("supervisor.getState", [.int(1)]) == incorrect)
        #expect(h.call("supervisor.startProcess", [.string("a"), .bool(true), .int(3)]) == incorrect)
        #expect(h.call("supervisor.startProcess") == incorrect)
        #expect(h.call("supervisor.readLog", [.string("abc"), .int(0)]) == incorrect)
        #expect(h.call("supervisor.sendProcessStdin", [.string("sleeper"), .int(5)]) == .fault(code: 2, string: "INCORRECT_PARAMETERS: 5"))
        // Numbers may come as text, as Python's int() allows.
        #expect(h.call("supervisor.readLog", [.string("-10"), .string("0")]) != incorrect)
    }

    @Test func stateVersionsAndIdentification() throws {
        let h = try RPCHarness(RPCInterfaceTests.program)
        defer { h.close() }
        #expect(h.value("supervisor.getAPIVersion") == .string("3.0"))
        #expect(h.value("supervisor.getVersion") == .string("3.0"))
        #expect(h.value("supervisor.getSupervisorVersion") == .string("4.3.0"))
        #expect(h.value("supervisor.getIdentification") == .string("testsuper"))
        #expect(h.value("supervisor.getState") == .structure(["statecode": .int(1), "statename": .string("RUNNING")]))
        #expect(h.value("supervisor.getPID") == .int(Int(getpid())))
        #expect(h.value("supervisor.shutdown") == .bool(true))
        #expect(h.states.value == [.shutdown])
        #expect(h.call("supervisor.getState") == .fault(code: 6, string: "SHUTDOWN_STATE"))
        // sendRemoteCommEvent is not refused, as supervisor's is not.
        #expect(h.value("supervisor.sendRemoteCommEvent", [.string("t"), .string("d")]) == .bool(true))
    }

    @Test func processMethodsAndTheirFaults() throws {
        let h = try RPCHarness(RPCInterfaceTests.program)
        defer { h.close() }
        #expect(waitUntil { h.value("supervisor.getProcessInfo", [.string("sleeper")])?["statename"] == .string("RUNNING") })
        let info = try #require(h.value("supervisor.getProcessInfo", [.string("sleeper")]))
        guard case .structure(let members) = info else { Issue.record("not a struct"); return }
        #expect(
            members.map(\.name) == [
                "name", "group", "start", "stop", "now", "state", "statename", "spawnerr", "exitstatus", "logfile", "stdout_logfile",
                "stderr_logfile", "pid", "description",
            ])
        #expect(h.call("supervisor.getProcessInfo", [.string("nosuch")]) == .fault(code: 10, string: "BAD_NAME: nosuch"))
        #expect(h.call("supervisor.startProcess", [.string("sleeper")]) == .fault(code: 60, string: "ALREADY_STARTED: sleeper"))
        #expect(h.call("supervisor.startProcess", [.string("nogroup:*")]) == .fault(code: 10, string: "BAD_NAME: nogroup:*"))
        #expect(h.call("supervisor.startProcessGroup", [.string("nogroup")]) == .fault(code: 10, string: "BAD_NAME: nogroup"))
        #expect(h.call("supervisor.stopProcess", [.string("manual")]) == .fault(code: 70, string: "NOT_RUNNING: manual"))
        #expect(h.call("supervisor.signalProcess", [.string("sleeper"), .string("BOGUS")]) == .fault(code: 11, string: "BAD_SIGNAL: BOGUS"))
        #expect(h.value("supervisor.signalProcess", [.string("sleeper"), .int(18)]) == .bool(true))
        #expect(
            h.value("supervisor.startProcess", [.string("manual:*")])
                == .array([.structure(["name": .string("manual"), "group": .string("manual"), "status": .int(80), "description": .string("OK")])]))
        #expect(h.value("supervisor.stopProcess", [.string("manual")]) == .bool(true))
        #expect(waitUntil { (h.value("supervisor.readProcessStdoutLog", [.string("sleeper"), .int(0), .int(0)])?.stringValue ?? "") == "hello\n" })
        #expect(h.value("supervisor.tailProcessStdoutLog", [.string("sleeper"), .int(0), .int(3)]) == .array([.string("lo\n"), .int(6), .bool(true)]))
        #expect(h.call("supervisor.readProcessStdoutLog", [.string("sleeper"), .int(-1), .int(1)]) == .fault(code: 3, string: "BAD_ARGUMENTS"))
        #expect(h.value("supervisor.clearProcessLogs", [.string("sleeper")]) == .bool(true))
        #expect(h.value("supervisor.readProcessStdoutLog", [.string("sleeper"), .int(0), .int(0)]) == .string(""))
    }

    @Test func multicallRunsEachCall() throws {
        let h = try RPCHarness(RPCInterfaceTests.program)
        defer { h.close() }
        let calls = XMLRPCValue.array([
            .structure(["methodName": .string("supervisor.getAPIVersion"), "params": .array([])]),
            .structure(["methodName": .string("supervisor.nope")]),
            .structure(["methodName": .string("system.multicall"), "params": .array([])]),
            .structure(["params": .array([])]),
        ])
        let fault: (Int, String) -> XMLRPCValue = { .structure(["faultCode": .int($0), "faultString": .string($1)]) }
        #expect(
            h.value("system.multicall", [calls])
                == .array([
                    .string("3.0"), fault(1, "UNKNOWN_METHOD"), fault(2, "INCORRECT_PARAMETERS: Recursive system.multicall forbidden"),
                    fault(2, "INCORRECT_PARAMETERS: No methodName"),
                ]))
    }

    @Test func reloadConfigReportsTheDifferences() throws {
        let h = try RPCHarness(RPCInterfaceTests.program)
        defer { h.close() }
        let header = "[supervisord]\nchildlogdir = \(h.directory.path)\nidentifier = testsuper\n"
            + "[rpcinterface:supervisor]\nsupervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface\n"
        h.directory.write("supervisord.conf", header + "[program:manual]\ncommand = sleep 999\nautostart = false\n[program:extra]\ncommand = sleep 1000\n")
        #expect(h.value("supervisor.reloadConfig") == .array([.array([.array([.string("extra")]), .array([.string("manual")]), .array([.string("sleeper")])])]))
        let configs = h.value("supervisor.getAllConfigInfo")?.arrayValue ?? []
        #expect(configs.map { $0["name"] } == [.string("extra"), .string("manual")])
        #expect(configs.map { $0["inuse"] } == [.bool(false), .bool(true)])
        #expect(configs.first?["stdout_logfile"] == .string("auto"))
        #expect(configs.first?["uid"] == .string("none"))
        #expect(h.value("supervisor.addProcessGroup", [.string("extra")]) == .bool(true))
        #expect(h.call("supervisor.addProcessGroup", [.string("extra")]) == .fault(code: 90, string: "ALREADY_ADDED: extra"))
        #expect(h.call("supervisor.removeProcessGroup", [.string("extra")]) == .fault(code: 91, string: "STILL_RUNNING: extra"))
        h.directory.write("supervisord.conf", header + "[program:broken]\ncommand = sleep 1\nstartsecs = abc\n")
        guard case .fault(let code, let text) = h.call("supervisor.reloadConfig") else {
            Issue.record("a bad file must be refused")
            return
        }
        #expect(code == 92)
        #expect(text.hasPrefix("CANT_REREAD: ") && text.contains("startsecs") && text.contains("program:broken"), "\(text)")
    }

    @Test func withoutTheRPCInterfaceSectionOnlySystemIsPublished() throws {
        let h = try RPCHarness(RPCInterfaceTests.program, rpcinterface: false)
        defer { h.close() }
        #expect(h.value("system.listMethods") == .array(["system.listMethods", "system.methodHelp", "system.methodSignature", "system.multicall"].map { .string($0) }))
        #expect(h.call("supervisor.getState") == .fault(code: 1, string: "UNKNOWN_METHOD"))
    }
}
