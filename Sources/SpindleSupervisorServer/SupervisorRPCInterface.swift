#if canImport(Glibc)
import Glibc
#endif
import SpindleSupervisor
import SpindleSystem

/// supervisord's XML-RPC interface over a `Supervisor`: the `supervisor.*` methods of
/// supervisor 4.3.0's `rpcinterface.py` and the `system.*` introspection methods, with
/// supervisor's fault codes and strings.
///
/// The `supervisor` namespace is published under the name of each `[rpcinterface:x]` section
/// whose factory is `supervisor.rpcinterface:make_main_rpcinterface`, as supervisord does (so a
/// configuration without one publishes `system` only). Calls may block (a start waits for
/// `startsecs`, a stop for the process to exit): run them off any event loop.
public final class SupervisorRPCInterface: Sendable {
    /// The version `getAPIVersion` reports.
    public static let apiVersion = "3.0"
    /// The supervisor version `getSupervisorVersion` reports.
    public static let supervisorVersion = "4.3.0"
    /// The factory of the `supervisor` namespace in an `[rpcinterface:x]` section.
    public static let mainFactory = "supervisor.rpcinterface:make_main_rpcinterface"

    /// A `readConfig` closure's type: reads the configuration file again.
    public typealias ConfigReader = @Sendable () throws(ConfigError) -> SupervisorConfig
    /// A `stateChanged` closure's type: told when a client asks for a shutdown or a restart.
    public typealias StateObserver = @Sendable (SupervisordState) -> Void

    /// The supervisor the methods drive.
    public let supervisor: Supervisor
    /// The namespaces the `supervisor.*` methods are published under.
    public let supervisorNamespaces: [String]
    let mainLog: MainLog?
    let readConfig: ConfigReader
    let stateChanged: StateObserver
    let identifier: String
    let mutable: Locked<MutableState>

    struct MutableState {
        var state = SupervisordState.running
        /// The configuration last read: `getAllConfigInfo` and `addProcessGroup` look here.
        var config: SupervisorConfig
    }

    /// Creates the interface.
    /// - Parameters:
    ///   - supervisor: The supervisor.
    ///   - config: The configuration it was made from.
    ///   - mainLog: supervisord's own log, for `readLog` and `clearLog`; `nil` when there is none.
    ///   - readConfig: Reads the configuration file again, for `reloadConfig`.
    ///   - stateChanged: Told when `shutdown` or `restart` is called, before the reply is sent
    ///     (the server sends the replies it is making before it closes).
    public init(
        supervisor: Supervisor, config: SupervisorConfig, mainLog: MainLog?,
        readConfig: @escaping ConfigReader, stateChanged: @escaping StateObserver
    ) {
        self.supervisor = supervisor
        self.mainLog = mainLog
        self.readConfig = readConfig
        self.stateChanged = stateChanged
        self.identifier = config.supervisord.identifier
        self.mutable = Locked(MutableState(config: config))
        self.supervisorNamespaces = config.rpcInterfaces
            .filter { $0.factory.trimmingASCIIWhitespace() == SupervisorRPCInterface.mainFactory }
            .map(\.name)
    }

    /// The state `getState` reports; any other than RUNNING refuses the `supervisor.*` methods
    /// with SHUTDOWN_STATE.
    public var state: SupervisordState {
        get { mutable.withLock { $0.state } }
        set { mutable.withLock { $0.state = newValue } }
    }

    // MARK: - Calls

    /// Runs a call (supervisor's `traverse`): `namespace.method`, no leading underscore, a
    /// published method, parameters it accepts.
    /// - Parameter call: The call.
    /// - Returns: The result, or the fault (UNKNOWN_METHOD for a method that does not exist,
    ///   INCORRECT_PARAMETERS for parameters it cannot take, and the method's own faults).
    public func handle(_ call: XMLRPCCall) -> XMLRPCResponse {
        log(.trace, "XML-RPC method called: \(call.methodName)()")
        switch invoke(call.methodName, call.params) {
        case .success(let value):
            log(.trace, "XML-RPC method \(call.methodName)() returned successfully")
            return .value(value)
        case .failure(let fault):
            log(.trace, "XML-RPC method \(call.methodName)() returned fault: [\(fault.code)] \(fault.text)")
            return .fault(code: fault.code, string: fault.text)
        }
    }

    /// Answers an HTTP request body as supervisord's XML-RPC handler does.
    /// - Parameter body: The `methodCall` document.
    /// - Returns: The response document, or the HTTP status (400) for a body that is not a call.
    func reply(to body: [UInt8]) -> (status: Int, body: [UInt8]) {
        let call: XMLRPCCall
        do {
            call = try XMLRPCCall.parse(body)
        } catch {
            let data = String(decoding: body.prefix(2048), as: UTF8.self)
            let why = error.reason == "no method name" ? "no method name" : "unmarshallable"
            log(.error, "XML-RPC request data \(data.debugDescription) is invalid: \(why)")
            return (400, [])
        }
        let response = handle(call)
        return (200, Array(response.xml.utf8))
    }

    /// Dispatches a method by its full name.
    func invoke(_ method: String, _ params: [XMLRPCValue]) -> Result<XMLRPCValue, SupervisorFault> {
        let parts = method.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 2, !parts[1].hasPrefix("_") else { return .failure(.unknownMethod()) }
        let namespace = String(parts[0])
        let name = String(parts[1])
        let arguments = RPCParameters(values: params)
        do throws(SupervisorFault) {
            if namespace == "system" {
                guard RPCMethodCatalog.system[name] != nil else { return .failure(.unknownMethod()) }
                return .success(try systemMethod(name, arguments))
            }
            if supervisorNamespaces.contains(namespace), RPCMethodCatalog.health[name] != nil, healthPublished {
                return .success(try healthMethod(name, arguments))
            }
            guard supervisorNamespaces.contains(namespace), RPCMethodCatalog.supervisor[name] != nil else {
                return .failure(.unknownMethod())
            }
            return .success(try supervisorMethod(name, arguments))
        } catch {
            return .failure(error)
        }
    }

    /// The full names of every published method.
    var methodNames: [String] {
        var names = RPCMethodCatalog.system.keys.map { "system." + $0 }
        let health = healthPublished
        for namespace in supervisorNamespaces {
            names += RPCMethodCatalog.supervisor.keys.map { namespace + "." + $0 }
            if health { names += RPCMethodCatalog.health.keys.map { namespace + "." + $0 } }
        }
        return names.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
    }

    /// The catalog entry of a published method.
    func entry(_ fullName: String) -> RPCMethodCatalog.Entry? {
        let parts = fullName.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 2 else { return nil }
        if parts[0] == "system" { return RPCMethodCatalog.system[String(parts[1])] }
        guard supervisorNamespaces.contains(String(parts[0])) else { return nil }
        return RPCMethodCatalog.supervisor[String(parts[1])] ?? (healthPublished ? RPCMethodCatalog.health[String(parts[1])] : nil)
    }

    // MARK: - system.*

    func systemMethod(_ name: String, _ p: RPCParameters) throws(SupervisorFault) -> XMLRPCValue {
        switch name {
        case "listMethods":
            try p.arity(0)
            return .array(methodNames.map { .string($0) })
        case "methodHelp":
            try p.arity(1)
            guard let entry = entry(try p.name(0)) else { throw .signatureUnsupported() }
            return .string(entry.help)
        case "methodSignature":
            try p.arity(1)
            guard let entry = entry(try p.name(0)) else { throw .signatureUnsupported() }
            return .array(entry.signature.map { .string($0) })
        case "multicall":
            try p.arity(1)
            guard let calls = p.values[0].arrayValue else { throw .incorrectParameters() }
            return .array(calls.map(multicallResult))
        default:
            throw .unknownMethod()
        }
    }

    /// One call of `system.multicall`: its value, or a fault struct.
    func multicallResult(_ call: XMLRPCValue) -> XMLRPCValue {
        let outcome: Result<XMLRPCValue, SupervisorFault>
        if let name = call["methodName"]?.stringValue {
            if name == "system.multicall" {
                outcome = .failure(.incorrectParameters("Recursive system.multicall forbidden"))
            } else if case .array(let values) = call["params"] ?? .array([]) {
                outcome = invoke(name, values)
            } else {
                outcome = .failure(.incorrectParameters())
            }
        } else {
            outcome = .failure(.incorrectParameters("No methodName"))
        }
        switch outcome {
        case .success(let value): return value
        case .failure(let fault): return .structure(["faultCode": .int(fault.code), "faultString": .string(fault.text)])
        }
    }

    // MARK: - Helpers

    func log(_ level: LogLevel, _ message: String) {
        mainLog?.log(level, message)
    }
}
