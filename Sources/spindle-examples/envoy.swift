import Spindle

/// envoy: a pipeline from one string, each stage's response in the history, and a connected command.
enum EnvoyDemo {
    static func run() throws -> Int32 {
        let response = try Envoy.run("printf 'b\\na\\nc\\n' | sort | head -n 2", timeout: 10)
        Console.line("status \(response.statusCode), stdout: \(response.stdoutText.split(separator: "\n").joined(separator: " "))")
        for stage in response.history {
            Console.line("  earlier stage \(stage.command.joined(separator: " ")): status \(stage.statusCode)")
        }
        let sed = try Envoy.connect("sed s/i/I/g")
        try sed.send("hi there")
        sed.closeInput()
        let echoed = String(decoding: try sed.stdout.readAll(), as: UTF8.self)
        Console.line("connected sed answered: \(echoed.split(separator: "\n").joined())")
        try sed.block(timeout: 10)
        do {
            _ = try Envoy.run("echo 'unclosed")
        } catch {
            Console.line("bad command line: \(error)")
        }
        return 0
    }
}
