import SpindleSystem
import SpindleThreading
import Synchronization

/// Runs `body` on a thread of its own and suspends the task until it returns, so that blocking
/// work never holds a thread of Swift's cooperative pool. `onCancel` runs if the task is cancelled.
func offload<Result: Sendable>(
    _ body: @escaping @Sendable () throws -> Result,
    onCancel: @escaping @Sendable () -> Void
) async throws -> Result {
    try await withTaskCancellationHandler {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Result, any Error>) in
            let worker = SpindleThread(name: "spindle-subprocess", daemon: true) {
                continuation.resume(with: Swift.Result { try body() })
            }
            do {
                try worker.start()
            } catch {
                continuation.resume(throwing: error)
            }
        }
    } onCancel: {
        onCancel()
    }
}

extension Popen {
    /// Waits for the child to end, suspending the task instead of blocking a thread of the pool.
    /// - Parameter timeout: Seconds to wait at most.
    /// - Returns: The exit status.
    /// - Throws: `TimeoutExpired`, or `CancellationError` when the task is cancelled (the child
    ///   keeps running).
    @discardableResult
    public func wait(timeout: Double? = nil) async throws -> Int32 {
        if let code = poll() { return code }
        let cancelled = CancelFlag()
        let deadline = Deadline.after(seconds: timeout.map { max(0, $0) })
        let code = try await offload({ [self] in waitUntil(deadline, cancelled: { cancelled.isSet }) },
                                     onCancel: { cancelled.set() })
        if let code { return code }
        if cancelled.isSet { throw CancellationError() }
        throw TimeoutExpired(cmd: args, timeout: timeout ?? 0)
    }

    /// `communicate`, suspending the task instead of blocking a thread of the pool.
    /// - Parameters:
    ///   - input: Bytes for standard input.
    ///   - timeout: Seconds to wait at most.
    /// - Returns: The captured standard output and error.
    /// - Throws: `TimeoutExpired`; `CancellationError` when the task is cancelled, which kills the child.
    @discardableResult
    public func communicate(
        input: [UInt8]? = nil, timeout: Double? = nil
    ) async throws -> (stdout: [UInt8]?, stderr: [UInt8]?) {
        let cancelled = CancelFlag()
        let result = try await offload({ [self] in
            try communicate(input: input, timeout: timeout)
        }, onCancel: { [self] in
            cancelled.set()
            killForTimeout()
        })
        if cancelled.isSet { throw CancellationError() }
        return (result.stdout, result.stderr)
    }
}

extension Subprocess {
    /// `run`, suspending the task instead of blocking a thread of the pool. Cancelling the task
    /// kills the child (and its group when it leads one) and throws `CancellationError`.
    /// - Parameters: As the blocking `run`.
    /// - Returns: The finished process.
    /// - Throws: As the blocking `run`, or `CancellationError`.
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
    ) async throws -> CompletedProcess {
        let process = try startForRun(
            args, input: input, captureOutput: captureOutput, stdin, stdout, stderr, cwd: cwd, env: env, shell: shell,
            options: options)
        let output: (stdout: [UInt8]?, stderr: [UInt8]?)
        do {
            output = try await process.communicate(input: input, timeout: timeout)
        } catch let error as TimeoutExpired {
            throw finishAfterTimeout(process, error)
        } catch {
            _ = try? await process.wait()
            throw error
        }
        let completed = CompletedProcess(
            args: args, returncode: process.returncode ?? 0, stdout: output.stdout, stderr: output.stderr)
        if check { try completed.checkReturncode() }
        return completed
    }
}

/// A flag set once, read from any thread.
final class CancelFlag: Sendable {
    private let flag = Atomic<Bool>(false)
    func set() { flag.store(true, ordering: .releasing) }
    var isSet: Bool { flag.load(ordering: .acquiring) }
}
