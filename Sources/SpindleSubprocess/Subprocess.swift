import Glibc
import SpindleSystem
import SpindleThreading

/// The module functions of Python's `subprocess`: `run`, `call`, `checkCall`, `checkOutput`,
/// `getoutput`, `getstatusoutput`, and process pipelines.
public enum Subprocess {
    /// Runs a command and waits for it (Python's `subprocess.run`).
    /// - Parameters:
    ///   - args: The program and its arguments (with `shell`, the command line).
    ///   - input: Bytes for the child's standard input (which becomes a pipe).
    ///   - captureOutput: Capture standard output and error (both become pipes).
    ///   - stdin: Where standard input comes from (not with `input`).
    ///   - stdout: Where standard output goes (not with `captureOutput`).
    ///   - stderr: Where standard error goes (not with `captureOutput`).
    ///   - timeout: Seconds to allow; then the child (and its group, when it leads one) is killed.
    ///   - check: Throw `CalledProcessError` for a non-zero exit status.
    ///   - cwd: The working directory.
    ///   - env: The whole environment; `nil` inherits.
    ///   - shell: Run through `/bin/sh -c`.
    ///   - options: Less common spawn options.
    /// - Returns: The finished process, with what was captured.
    /// - Throws: `SpawnError`, `TimeoutExpired` (with the output so far), `CalledProcessError`.
    @discardableResult
    public static func run(
        _ args: [String],
        input: [UInt8]? = nil,
        captureOutput: Bool = false,
        stdin: Redirect = .inherit,
        stdout: Redirect = .inherit,
        stderr: Redirect = .inherit,
        timeout: Double? = nil,
        check: Bool = false,
        cwd: String? = nil,
        env: [String: String]? = nil,
        shell: Bool = false,
        options: SpawnOptions = SpawnOptions()
    ) throws -> CompletedProcess {
        let process = try startForRun(
            args, input: input, captureOutput: captureOutput, stdin, stdout, stderr, cwd: cwd, env: env, shell: shell,
            options: options)
        let output: (stdout: [UInt8]?, stderr: [UInt8]?)
        do {
            output = try process.communicate(input: input, timeout: timeout)
        } catch {
            throw finishAfterTimeout(process, error)
        }
        let completed = CompletedProcess(
            args: args, returncode: process.returncode ?? 0, stdout: output.stdout, stderr: output.stderr)
        if check { try completed.checkReturncode() }
        return completed
    }

    /// `run` with a UTF-8 string as input.
    /// - Parameters:
    ///   - args: The program and its arguments.
    ///   - input: Text for standard input.
    ///   - captureOutput: Capture standard output and error.
    ///   - timeout: Seconds to allow.
    ///   - check: Throw for a non-zero exit status.
    ///   - cwd: The working directory.
    ///   - env: The whole environment.
    ///   - shell: Run through `/bin/sh -c`.
    /// - Returns: The finished process.
    /// - Throws: As `run`.
    @discardableResult
    public static func run(
        _ args: [String], input: String, captureOutput: Bool = false, timeout: Double? = nil,
        check: Bool = false, cwd: String? = nil, env: [String: String]? = nil, shell: Bool = false
    ) throws -> CompletedProcess {
        try run(
            args, input: Array(input.utf8), captureOutput: captureOutput, timeout: timeout, check: check,
            cwd: cwd, env: env, shell: shell)
    }

    /// Kills a timed-out child, collects what it still writes (briefly: a grandchild outside its
    /// group may hold the pipes open) and reaps it; returns the error to throw.
    static func finishAfterTimeout(_ process: Popen, _ error: TimeoutExpired) -> TimeoutExpired {
        process.killForTimeout()
        let rest = try? process.communicate(input: nil, deadline: .after(seconds: 1), timeout: error.timeout)
        process.stdout?.close()
        process.stderr?.close()
        _ = try? process.wait(timeout: 5)
        // The buffers persist across communicate calls, so `rest` holds everything read.
        return TimeoutExpired(
            cmd: error.cmd, timeout: error.timeout, output: rest?.stdout ?? error.output,
            stderr: rest?.stderr ?? error.stderr)
    }

    /// Starts the child of `run`: `input` makes standard input a pipe, `captureOutput` makes
    /// standard output and error pipes.
    static func startForRun(
        _ args: [String], input: [UInt8]?, captureOutput: Bool, _ stdin: Redirect, _ stdout: Redirect,
        _ stderr: Redirect, cwd: String?, env: [String: String]?, shell: Bool, options: SpawnOptions
    ) throws(SpawnError) -> Popen {
        var streams = (stdin: stdin, stdout: stdout, stderr: stderr)
        if input != nil {
            guard stdin == .inherit else { throw usage("stdin and input arguments may not both be used") }
            streams.stdin = .pipe
        }
        if captureOutput {
            guard stdout == .inherit, stderr == .inherit else {
                throw usage("stdout and stderr arguments may not be used with captureOutput")
            }
            streams.stdout = .pipe
            streams.stderr = .pipe
        }
        return try Popen(
            args, stdin: streams.stdin, stdout: streams.stdout, stderr: streams.stderr, cwd: cwd, env: env,
            shell: shell, options: options)
    }

    static func usage(_ message: String) -> SpawnError {
        SpawnError(step: "arguments", errno: EINVAL, path: message)
    }

    /// Runs a command and returns its exit status (Python's `subprocess.call`).
    /// - Parameters:
    ///   - args: The program and its arguments.
    ///   - timeout: Seconds to allow; then the child is killed and `TimeoutExpired` thrown.
    ///   - cwd: The working directory.
    ///   - env: The whole environment.
    ///   - shell: Run through `/bin/sh -c`.
    /// - Returns: The exit status.
    /// - Throws: `SpawnError` or `TimeoutExpired`.
    @discardableResult
    public static func call(
        _ args: [String], timeout: Double? = nil, cwd: String? = nil, env: [String: String]? = nil,
        shell: Bool = false
    ) throws -> Int32 {
        try run(args, timeout: timeout, cwd: cwd, env: env, shell: shell).returncode
    }

    /// Runs a command and throws unless it succeeds (Python's `subprocess.check_call`).
    /// - Parameters:
    ///   - args: The program and its arguments.
    ///   - timeout: Seconds to allow.
    ///   - cwd: The working directory.
    ///   - env: The whole environment.
    ///   - shell: Run through `/bin/sh -c`.
    /// - Throws: `CalledProcessError`, `SpawnError` or `TimeoutExpired`.
    public static func checkCall(
        _ args: [String], timeout: Double? = nil, cwd: String? = nil, env: [String: String]? = nil,
        shell: Bool = false
    ) throws {
        try run(args, timeout: timeout, check: true, cwd: cwd, env: env, shell: shell)
    }

    /// Runs a command and returns its standard output, throwing unless it succeeds (Python's
    /// `subprocess.check_output`).
    /// - Parameters:
    ///   - args: The program and its arguments.
    ///   - input: Bytes for standard input.
    ///   - stderr: Where standard error goes (`.stdout` to include it in the result).
    ///   - timeout: Seconds to allow.
    ///   - cwd: The working directory.
    ///   - env: The whole environment.
    ///   - shell: Run through `/bin/sh -c`.
    /// - Returns: The standard output.
    /// - Throws: `CalledProcessError` (with the output), `SpawnError` or `TimeoutExpired`.
    public static func checkOutput(
        _ args: [String], input: [UInt8]? = nil, stderr: Redirect = .inherit, timeout: Double? = nil,
        cwd: String? = nil, env: [String: String]? = nil, shell: Bool = false
    ) throws -> [UInt8] {
        try run(
            args, input: input, stdout: .pipe, stderr: stderr, timeout: timeout, check: true, cwd: cwd, env: env,
            shell: shell
        ).stdout ?? []
    }

    /// Runs `command` through `/bin/sh -c` and returns its exit status and its output (standard
    /// output and error together), without the last newline (Python's `getstatusoutput`).
    /// - Parameter command: The shell command line.
    /// - Returns: The exit status and the output.
    /// - Throws: `SpawnError` when the shell cannot be started.
    public static func getstatusoutput(_ command: String) throws -> (status: Int32, output: String) {
        let result = try run([command], stdout: .pipe, stderr: .stdout, shell: true)
        var text = result.stdoutText ?? ""
        if text.hasSuffix("\n") { text.removeLast() }
        return (result.returncode, text)
    }

    /// Runs `command` through `/bin/sh -c` and returns its output without the last newline
    /// (Python's `getoutput`).
    /// - Parameter command: The shell command line.
    /// - Returns: The output.
    /// - Throws: `SpawnError` when the shell cannot be started.
    public static func getoutput(_ command: String) throws -> String {
        try getstatusoutput(command).output
    }

    /// Starts a pipeline: each command's standard output is connected straight to the next one's
    /// standard input (a pipe between the two children; the data never passes through this process).
    /// - Parameters:
    ///   - commands: The commands, first to last; at least one.
    ///   - stdin: The first command's standard input.
    ///   - stdout: The last command's standard output.
    ///   - stderr: Every command's standard error (`.pipe` gives each its own pipe).
    ///   - cwd: The working directory.
    ///   - env: The whole environment.
    ///   - options: Spawn options for every command; with `processGroup: 0` the pipeline is one
    ///   process group led by the first command.
    /// - Returns: The running processes, first to last.
    /// - Throws: `SpawnError` for the first command that cannot start; the ones already started
    ///   are killed and reaped.
    public static func pipeline(
        _ commands: [[String]], stdin: Redirect = .inherit, stdout: Redirect = .inherit,
        stderr: Redirect = .inherit, cwd: String? = nil, env: [String: String]? = nil,
        options: SpawnOptions = SpawnOptions()
    ) throws(SpawnError) -> [Popen] {
        guard !commands.isEmpty else { throw usage("a pipeline needs at least one command") }
        var started: [Popen] = []
        var previousRead: Int32 = -1
        defer { if previousRead >= 0 { try? closeDescriptor(previousRead) } }
        do throws(SpawnError) {
            for (index, command) in commands.enumerated() {
                let isLast = index == commands.count - 1
                var link: (read: Int32, write: Int32)?
                if !isLast { link = try makePipe() }
                let input: Redirect = index == 0 ? stdin : .fileDescriptor(previousRead)
                let output: Redirect = isLast ? stdout : .fileDescriptor(link!.write)
                // With processGroup 0 the first command leads a new group and the others join
                // it, as a shell's job: one signal to the group reaches every stage.
                var stageOptions = options
                if index > 0, options.processGroup == 0 { stageOptions.processGroup = started[0].pid }
                let process: Popen
                do throws(SpawnError) {
                    process = try Popen(
                        command, stdin: input, stdout: output, stderr: stderr, cwd: cwd, env: env,
                        options: stageOptions)
                } catch {
                    if let link { try? closeDescriptor(link.read); try? closeDescriptor(link.write) }
                    throw error
                }
                started.append(process)
                if previousRead >= 0 { try? closeDescriptor(previousRead) }
                previousRead = -1
                if let link {
                    try? closeDescriptor(link.write)
                    previousRead = link.read
                }
            }
        } catch {
            for process in started {
                process.kill()
                _ = try? process.wait()
            }
            throw error
        }
        return started
    }
}
