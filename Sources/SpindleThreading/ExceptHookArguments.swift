/// What `SpindleThread.excepthook` receives when a thread's body throws (Python's
/// `threading.ExceptHookArgs`).
public struct ExceptHookArguments: Sendable {
    /// The error the thread threw.
    public let error: any Error
    /// The thread that threw it.
    public let thread: SpindleThread

    /// Creates the arguments.
    /// - Parameters:
    ///   - error: The error.
    ///   - thread: The thread.
    public init(error: any Error, thread: SpindleThread) {
        self.error = error
        self.thread = thread
    }
}
