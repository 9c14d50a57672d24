import SpindleSupervisor

extension SupervisorRPCInterface {
    /// Whether the health methods are published: some program of the active processes or of
    /// the configuration last read has a health check. A supervisord.conf without one publishes
    /// exactly supervisord's methods, so clients that compare method lists see no difference.
    var healthPublished: Bool {
        supervisor.hasHealthChecks || mutable.withLock { $0.config.groups.contains { $0.processes.contains { $0.healthcheck != nil } } }
    }

    /// `supervisor.getProcessHealth` and `supervisor.getAllProcessHealth`.
    func healthMethod(_ method: String, _ p: RPCParameters) throws(SupervisorFault) -> XMLRPCValue {
        if state != .running { throw .shutdownState() }
        switch method {
        case "getProcessHealth":
            try p.arity(1)
            return SupervisorRPCInterface.healthStruct(try supervisor.health(of: try p.name(0)))
        case "getAllProcessHealth":
            try p.arity(0)
            return .array(supervisor.allHealth().map(SupervisorRPCInterface.healthStruct))
        default:
            throw .unknownMethod()
        }
    }

    /// A `ProcessHealth` as the struct the health methods return.
    static func healthStruct(_ health: ProcessHealth) -> XMLRPCValue {
        .structure([
            "name": .string(health.name), "group": .string(health.group), "health": .string(health.status.rawValue),
            "failures": .int(health.failures), "last_check": .int(health.lastCheck), "last_result": .string(health.lastResult),
            "last_output": .string(health.lastOutput),
        ])
    }
}
