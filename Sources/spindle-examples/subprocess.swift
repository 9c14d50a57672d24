import Spindle

/// subprocess: run with captured output, a failing command, a pipeline connected child to child,
/// a timeout, and a program that does not exist.
enum SubprocessDemo {
    static func run() throws -> Int32 {
        let result = try Subprocess.run(["echo", "hello from a child"], captureOutput: true)
        Console.line("returncode \(result.returncode), stdout: \(result.stdoutText ?? "")", trimming: true)
        do {
            try Subprocess.run(["/bin/sh", "-c", "echo oops >&2; exit 3"], captureOutput: true, check: true)
        } catch let error as CalledProcessError {
            Console.line("\(error) stderr: \(text(error.stderr))", trimming: true)
        }
        let stages = try Subprocess.pipeline(
            [["printf", "pear\\napple\\nfig\\n"], ["sort"], ["tr", "a-z", "A-Z"]], stdout: .pipe)
        let sorted = try stages[2].stdout!.readAll()
        for stage in stages { try stage.wait() }
        Console.line("printf | sort | tr: \(text(sorted).split(separator: "\n").joined(separator: " "))")
        do {
            try Subprocess.run(["sleep", "10"], timeout: 0.2)
        } catch let error as TimeoutExpired {
            Console.line("\(error)")
        }
        do {
            _ = try Popen(["no-such-program"])
        } catch {
            Console.line("spawn failed in the parent: \(error)")
        }
        return 0
    }

    static func text(_ bytes: [UInt8]?) -> String { String(decoding: bytes ?? [], as: UTF8.self) }
}

extension Console {
    /// Writes a line without the trailing newlines of captured output.
    static func line(_ text: String, trimming: Bool) {
        var text = text
        while trimming, text.hasSuffix("\n") { text.removeLast() }
        line(text)
    }
}
