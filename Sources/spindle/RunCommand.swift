import ArgumentParser
import Foundation
import Spindle

/// `spindle run 'PIPELINE'`: runs a shell-quoted pipeline without a shell, the way
/// `Envoy.run` does, and behaves like the shell would.
struct RunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run a pipeline ('a | b | c', shell quoting, no shell) and exit with its last stage's status.",
        discussion: """
            The last stage's standard output is streamed to standard output; every stage's standard \
            error is printed to standard error, first stage first. The exit status is the last \
            stage's (128 + N when signal N ended it, 124 when the timeout ended the pipeline, 127 \
            when a program cannot be started, 2 for a bad command line).
            """)

    @Argument(help: "The pipeline, as one argument: quote it for your shell.")
    var pipeline: String

    @Option(help: "Seconds to allow; then every stage gets SIGTERM, and SIGKILL a second later.")
    var timeout: Double?

    @Option(name: .customLong("data-file"), help: "A file fed to the first stage's standard input.")
    var dataFile: String?

    @Flag(help: "Print the response, with the history of every stage, as JSON instead of the output.")
    var json = false

    func run() throws {
        var data: [UInt8]?
        if let dataFile {
            guard let contents = FileManager.default.contents(atPath: dataFile) else {
                throw fail("cannot read the data file '\(dataFile)'", status: 2)
            }
            data = [UInt8](contents)
        }
        let response: EnvoyResponse
        do {
            let stdout = FileHandle.standardOutput
            response = try Envoy.run(
                pipeline, data: data, timeout: timeout,
                stdoutHandler: json ? nil : { stdout.write(Data($0)) })
        } catch let error as EnvoyError {
            throw fail("\(error)", status: 2)
        } catch let error as SpawnError {
            throw fail("\(error)", status: 127)
        }
        if json {
            let object = Self.jsonObject(response)
            let encoded = try JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted, .sortedKeys])
            FileHandle.standardOutput.write(encoded + Data("\n".utf8))
        } else {
            for stage in response.history + [response] where !stage.stderr.isEmpty {
                FileHandle.standardError.write(Data(stage.stderr))
            }
        }
        if response.timedOut {
            if !json { FileHandle.standardError.write(Data("spindle run: timed out after \(timeout ?? 0) s\n".utf8)) }
            throw ExitCode(124)
        }
        let status = response.statusCode
        if status != 0 { throw ExitCode(status < 0 ? 128 - status : status) }
    }

    private func fail(_ message: String, status: Int32) -> ExitCode {
        FileHandle.standardError.write(Data("spindle run: \(message)\n".utf8))
        return ExitCode(status)
    }

    /// The response as JSON-ready values: text where the bytes are UTF-8, base64 otherwise.
    static func jsonObject(_ response: EnvoyResponse) -> [String: Any] {
        func bytes(_ value: [UInt8]) -> Any {
            if let text = String(validating: value, as: UTF8.self) { return text }
            return ["base64": Data(value).base64EncodedString()]
        }
        return [
            "command": response.command,
            "status_code": Int(response.statusCode),
            "std_out": bytes(response.stdout),
            "std_err": bytes(response.stderr),
            "timed_out": response.timedOut,
            "history": response.history.map { jsonObject($0) },
        ]
    }
}
