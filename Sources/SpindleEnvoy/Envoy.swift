import Glibc
import SpindleSubprocess
import SpindleSystem

/// Shell pipelines for humans, without a shell (kennethreitz/envoy's `run` and `connect`).
///
/// `run("cat data | grep x | wc -l")` splits the line with shell quoting rules and connects each
/// stage's standard output straight to the next stage's standard input through a pipe: the data
/// never passes through this process, so any amount streams through in bounded memory. The
/// stages form one process group, which a timeout ends: SIGTERM, then SIGKILL after `killTimeout`.
public enum Envoy {
    /// Runs a command line and waits for it.
    /// - Parameters:
    ///   - command: The command line, `|`-separated stages with shell quoting.
    ///   - data: Bytes for the first stage's standard input.
    ///   - timeout: Seconds to allow the whole pipeline.
    ///   - killTimeout: Seconds between SIGTERM and SIGKILL when the timeout ends the pipeline.
    ///   - env: The whole environment of every stage; `nil` inherits.
    ///   - cwd: The working directory.
    ///   - stdoutHandler: Receives the last stage's output as it comes, instead of the response
    ///     keeping it (for output of any size).
    /// - Returns: The last stage's response; `history` holds the earlier stages'.
    /// - Throws: `EnvoyError` for a bad command line, `SpawnError` naming a program that cannot
    ///   start (nothing is left running then).
    public static func run(
        _ command: String,
        data: [UInt8]? = nil,
        timeout: Double? = nil,
        killTimeout: Double = 1,
        env: [String: String]? = nil,
        cwd: String? = nil,
        stdoutHandler: (([UInt8]) -> Void)? = nil
    ) throws -> EnvoyResponse {
        let stages = try CommandLineParser.split(command)
        let processes = try Subprocess.pipeline(
            stages, stdin: data == nil ? .devnull : .pipe, stdout: .pipe, stderr: .pipe, cwd: cwd, env: env,
            options: SpawnOptions(processGroup: 0))
        let last = processes[processes.count - 1]
        let pump = IOPump(
            writer: processes[0].stdin, input: data, readers: [last.stdout] + processes.map(\.stderr),
            sinks: [stdoutHandler] + processes.map { _ in nil })
        let deadline = Deadline.after(seconds: timeout.map { max(0, $0) })
        var timedOut = !pump.run(until: deadline)
        if !timedOut {
            for process in processes where process.waitUntil(deadline, cancelled: { false }) == nil {
                timedOut = true
                break
            }
        }
        if timedOut { endGroup(of: processes, killTimeout: killTimeout, pump: pump) }

        var responses: [EnvoyResponse] = []
        for (index, process) in processes.enumerated() {
            let isLast = index == processes.count - 1
            responses.append(
                EnvoyResponse(
                    command: stages[index], statusCode: process.returncode ?? -SIGKILL,
                    stdout: isLast ? pump.output(0) : [], stderr: pump.output(index + 1),
                    history: responses, timedOut: timedOut))
        }
        return responses[responses.count - 1]
    }

    /// `run` with text as the first stage's input.
    /// - Parameters:
    ///   - command: The command line.
    ///   - data: Text for the first stage's standard input.
    ///   - timeout: Seconds to allow.
    /// - Returns: The last stage's response.
    /// - Throws: As `run`.
    public static func run(_ command: String, data: String, timeout: Double? = nil) throws -> EnvoyResponse {
        try run(command, data: Array(data.utf8), timeout: timeout)
    }

    /// Ends a pipeline that ran out of time: SIGTERM to its group, SIGKILL after `killTimeout`,
    /// then collects what is left and reaps every stage.
    static func endGroup(of processes: [Popen], killTimeout: Double, pump: IOPump) {
        let group = processes[0].pid
        _ = killpg(group, SIGTERM)
        let grace = Deadline.after(seconds: max(0, killTimeout))
        var allEnded = true
        for process in processes where process.waitUntil(grace, cancelled: { false }) == nil { allEnded = false }
        if !allEnded {
            _ = killpg(group, SIGKILL)
            for process in processes { process.kill() }
        }
        _ = pump.run(until: .after(seconds: 1))
        for process in processes {
            process.stdout?.close()
            process.stderr?.close()
            process.stdin?.close()
            _ = try? process.wait(timeout: 5)
        }
    }

    /// Starts a command to talk to (envoy's `connect`): its standard input, output and error are
    /// pipes.
    /// - Parameters:
    ///   - command: One command (no `|`), with shell quoting.
    ///   - env: The whole environment; `nil` inherits.
    ///   - cwd: The working directory.
    /// - Returns: The connected command.
    /// - Throws: `EnvoyError` for a bad line or a pipeline, `SpawnError` when it cannot start.
    public static func connect(
        _ command: String, env: [String: String]? = nil, cwd: String? = nil
    ) throws -> ConnectedCommand {
        let stages = try CommandLineParser.split(command)
        if stages.count > 1 {
            let column = Array(command).firstIndex(of: "|").map { $0 + 1 } ?? 0
            throw SpawnError(
                step: "arguments", errno: EINVAL,
                path: "connect takes one command, not a pipeline ('|' at column \(column))")
        }
        let process = try Popen(stages[0], stdin: .pipe, stdout: .pipe, stderr: .pipe, cwd: cwd, env: env)
        return ConnectedCommand(process: process)
    }
}
