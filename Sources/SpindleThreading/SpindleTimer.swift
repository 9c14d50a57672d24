/// A thread that runs an action after a delay unless cancelled first (Python's `threading.Timer`).
///
/// (Foundation owns the name `Timer`, hence `SpindleTimer`.)
open class SpindleTimer: SpindleThread, @unchecked Sendable {
    /// Seconds between `start()` and the action.
    public let interval: Double
    private let action: @Sendable () throws -> Void
    private let finished = Event()

    /// Creates a timer; call `start()` to arm it.
    /// - Parameters:
    ///   - interval: Seconds to wait before running the action.
    ///   - name: The thread's name.
    ///   - daemon: Whether the program may exit while the timer waits.
    ///   - action: What to run when the interval has passed.
    public init(
        interval: Double, name: String? = nil, daemon: Bool? = nil,
        action: @escaping @Sendable () throws -> Void
    ) {
        self.interval = interval
        self.action = action
        super.init(name: name, daemon: daemon, target: nil)
    }

    /// Stops the timer if it is still waiting; the action will not run.
    public func cancel() { finished.set() }

    /// Whether the timer was cancelled or has fired.
    public var isFinished: Bool { finished.isSet }

    open override func run() throws {
        defer { finished.set() }
        if !finished.wait(timeout: interval) {
            try action()
        }
    }
}
