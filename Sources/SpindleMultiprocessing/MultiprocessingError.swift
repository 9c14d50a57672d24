import SpindleSystem

/// Why a connection, a worker process or a pool could not do what was asked (Python's
/// `EOFError`, `BrokenPipeError`, `multiprocessing.TimeoutError`, `ProcessError` and the
/// `ValueError`s of a closed connection or pool).
///
/// An error thrown by a worker function itself arrives as `RemoteError`, not as this type.
public enum MultiprocessingError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The other end closed the connection: there is nothing more to receive (Python's `EOFError`).
    case endOfFile
    /// The connection was used after `close()` (Python's `OSError: handle is closed`).
    case closed
    /// The other end is gone: what was sent cannot arrive (Python's `BrokenPipeError`).
    case brokenPipe
    /// A received message is longer than the caller accepts, or its header is corrupt; the
    /// connection cannot be read any more (Python's `OSError: bad message length`).
    case badMessageLength(Int)
    /// A value could not be encoded for another process (the reason).
    case encodingFailed(String)
    /// A message could not be decoded as the type asked for (the reason).
    case decodingFailed(String)
    /// The result was not ready in time (Python's `multiprocessing.TimeoutError`).
    case timedOut
    /// The child has no worker function registered under this name: it is missing from the
    /// child's `Multiprocessing.bootstrap(registering:)`.
    case unknownFunction(String)
    /// The child registered the function with other argument or result types.
    case signatureMismatch(function: String, expected: String, registered: String)
    /// The worker process running the task ended before it answered (killed, crashed or
    /// exited): its pid and exit status (minus the signal number for a signal).
    case workerDied(pid: Int32, exitcode: Int32?)
    /// A worker process could not be started, or did not start as a worker (the reason).
    case workerStartFailed(String)
    /// The pool was terminated before the task finished.
    case poolTerminated
    /// The operation does not fit the object's state: the reason, in Python's words where it
    /// has them ("Pool not running", "cannot start a process twice", "connection is write-only").
    case invalidState(String)
    /// A system call failed.
    case system(SystemError)

    public var description: String {
        switch self {
        case .endOfFile: return "EOFError: the other end of the connection closed it"
        case .closed: return "the connection is closed"
        case .brokenPipe: return "BrokenPipeError: the other end of the connection is gone"
        case .badMessageLength(let length): return "bad message length: \(length)"
        case .encodingFailed(let why): return "could not encode the value: \(why)"
        case .decodingFailed(let why): return "could not decode the message: \(why)"
        case .timedOut: return "TimeoutError: the result was not ready before the timeout"
        case .unknownFunction(let name):
            return "no worker function named '\(name)' is registered in the worker program; "
                + "pass it to Multiprocessing.bootstrap(registering:) at the top of its main"
        case .signatureMismatch(let function, let expected, let registered):
            return "the worker function '\(function)' is registered in the worker program as (\(registered)), "
                + "but was called as (\(expected))"
        case .workerDied(let pid, let exitcode):
            let how: String
            if let exitcode, exitcode < 0 {
                how = "was killed by signal \(-exitcode)"
            } else if let exitcode {
                how = "exited with status \(exitcode)"
            } else {
                how = "ended"
            }
            return "the worker process \(pid) \(how) before it finished the task"
        case .workerStartFailed(let why): return "a worker process could not be started: \(why)"
        case .poolTerminated: return "the pool was terminated before the task finished"
        case .invalidState(let why): return why
        case .system(let error): return error.description
        }
    }
}
