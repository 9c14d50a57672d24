/// The published methods: their names, documentation (what `system.methodHelp` returns) and
/// signatures (what `system.methodSignature` returns, the same types supervisor 4.3.0 gives).
enum RPCMethodCatalog {
    /// A method's documentation and signature (`[return type, parameter types...]`).
    struct Entry: Sendable {
        var help: String
        var signature: [String]

        init(_ summary: String, params: [(String, String, String)] = [], returns: (String, String)) {
            var lines = [summary, ""]
            for (type, name, text) in params { lines.append("@param \(type) \(name)  \(text)") }
            lines.append("@return \(returns.0) \(returns.1)")
            help = lines.joined(separator: "\n")
            signature = [returns.0] + params.map(\.0)
        }
    }

    private static let name = ("string", "name", "A process (`group:process`, or `group:*` for a whole group)")
    private static let group = ("string", "name", "A group name")
    private static let wait = ("boolean", "wait", "Whether to wait until the change is complete")
    private static let offset = ("int", "offset", "Where to start reading (negative: that many bytes from the end)")
    private static let length = ("int", "length", "How many bytes to read (0: to the end)")
    private static let signal = ("string", "signal", "A signal name (`HUP`, `SIGHUP`) or number (`1`)")
    private static let ok = ("boolean", "result  True, unless a fault is raised")
    private static let results = ("array", "result  One {name, group, status, description} struct per process")

    /// The `supervisor` namespace, aliases included, by method name.
    static let supervisor: [String: Entry] = {
        var methods: [String: Entry] = [
            "getAPIVersion": Entry("The version of the XML-RPC API this server speaks.", returns: ("string", "version  The API version")),
            "getSupervisorVersion": Entry("The supervisor version this server implements.", returns: ("string", "version  The version")),
            "getIdentification": Entry("The `identifier` of this supervisor.", returns: ("string", "identifier  The identifier")),
            "getState": Entry("The state of the supervisor itself.", returns: ("struct", "state  {statecode, statename}")),
            "getPID": Entry("The process id of the supervisor.", returns: ("int", "pid  The process id")),
            "readLog": Entry("Bytes of the supervisor's own log.", params: [offset, length], returns: ("string", "text  The bytes read")),
            "clearLog": Entry("Empties the supervisor's own log.", returns: ok),
            "shutdown": Entry("Stops every process and then the supervisor.", returns: ok),
            "restart": Entry("Stops every process and starts again with the configuration read anew.", returns: ok),
            "reloadConfig": Entry(
                "Reads the configuration again and reports the groups that were added, changed and removed;\nnothing is started or stopped.",
                returns: ("array", "result  [[added, changed, removed]]")),
            "addProcessGroup": Entry("Activates a group of the configuration.", params: [group], returns: ok),
            "removeProcessGroup": Entry("Deactivates a group whose processes are all stopped.", params: [group], returns: ok),
            "startProcess": Entry("Starts a process.", params: [name, wait], returns: ok),
            "startProcessGroup": Entry("Starts every process of a group.", params: [group, wait], returns: results),
            "startAllProcesses": Entry("Starts every process.", params: [wait], returns: results),
            "stopProcess": Entry("Stops a process.", params: [name, wait], returns: ok),
            "stopProcessGroup": Entry("Stops every process of a group.", params: [group, wait], returns: results),
            "stopAllProcesses": Entry("Stops every process.", params: [wait], returns: results),
            "signalProcess": Entry("Sends a signal to a process.", params: [name, signal], returns: ok),
            "signalProcessGroup": Entry("Sends a signal to every process of a group.", params: [group, signal], returns: results),
            "signalAllProcesses": Entry("Sends a signal to every process.", params: [signal], returns: results),
            "getAllConfigInfo": Entry("The configuration of every process, groups flattened.", returns: ("array", "result  One struct per process")),
            "getProcessInfo": Entry("The state of a process.", params: [name], returns: ("struct", "info  The process's information")),
            "getAllProcessInfo": Entry("The state of every process.", returns: ("array", "result  One struct per process")),
            "readProcessStdoutLog": Entry("Bytes of a process's standard output log.", params: [name, offset, length], returns: ("string", "text  The bytes read")),
            "readProcessStderrLog": Entry("Bytes of a process's standard error log.", params: [name, offset, length], returns: ("string", "text  The bytes read")),
            "tailProcessStdoutLog": Entry(
                "The end of a process's standard output log, for following it: when the log grew past\noffset + length, overflow is set and the last length bytes are returned.",
                params: [name, ("int", "offset", "Where the caller's copy ends"), ("int", "length", "The most bytes to return")],
                returns: ("array", "result  [text, next offset, overflow]")),
            "tailProcessStderrLog": Entry(
                "The end of a process's standard error log, for following it: when the log grew past\noffset + length, overflow is set and the last length bytes are returned.",
                params: [name, ("int", "offset", "Where the caller's copy ends"), ("int", "length", "The most bytes to return")],
                returns: ("array", "result  [text, next offset, overflow]")),
            "clearProcessLogs": Entry("Empties both logs of a process.", params: [name], returns: ok),
            "clearAllProcessLogs": Entry("Empties the logs of every process.", returns: results),
            "sendProcessStdin": Entry(
                "Writes text (as UTF-8) to a process's standard input.",
                params: [name, ("string", "chars", "The text")], returns: ok),
            "sendRemoteCommEvent": Entry(
                "Sends a remote communication event to the event listeners.",
                params: [("string", "type", "The event's type"), ("string", "data", "The event's body")], returns: ok),
        ]
        // supervisor's backward-compatible aliases.
        methods["getVersion"] = methods["getAPIVersion"]
        methods["readMainLog"] = methods["readLog"]
        methods["readProcessLog"] = methods["readProcessStdoutLog"]
        methods["tailProcessLog"] = methods["tailProcessStdoutLog"]
        methods["clearProcessLog"] = methods["clearProcessLogs"]
        return methods
    }()

    /// spindled's health methods, published in the `supervisor` namespace while a program has
    /// a health check (so a supervisord.conf without one lists exactly supervisord's methods).
    static let health: [String: Entry] = [
        "getProcessHealth": Entry(
            "The health of a process, as its health check (healthcheck_command) last found it: health is none\n(no check), inactive (not RUNNING), starting, healthy or unhealthy.",
            params: [name],
            returns: ("struct", "health  {name, group, health, failures, last_check, last_result, last_output}")),
        "getAllProcessHealth": Entry(
            "The health of every process, ordered as getAllProcessInfo.",
            returns: ("array", "result  One {name, group, health, failures, last_check, last_result, last_output} struct per process")),
    ]

    /// The `system` namespace, by method name.
    static let system: [String: Entry] = [
        "listMethods": Entry("The names of the methods this server publishes.", returns: ("array", "result  The method names, sorted")),
        "methodHelp": Entry("The documentation of a method.", params: [("string", "name", "The method")], returns: ("string", "result  The documentation")),
        "methodSignature": Entry(
            "The types of a method's result and parameters.", params: [("string", "name", "The method")],
            returns: ("array", "result  [return type, parameter types...]")),
        "multicall": Entry(
            "Runs several calls in one request. Each call is a {methodName, params} struct; each result is\nthe call's value, or a {faultCode, faultString} struct.",
            params: [("array", "calls", "The calls")], returns: ("array", "result  One result per call")),
    ]
}
