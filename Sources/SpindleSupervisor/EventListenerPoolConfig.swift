/// An `[eventlistener:x]` section: a pool of listener processes and the events they subscribe to.
public struct EventListenerPoolConfig: Sendable, Hashable {
    /// The pool name.
    public var name: String
    /// `priority`; default -1 (listeners start first and stop last).
    public var priority: Int
    /// `buffer_size`: events queued for the pool before the oldest is dropped; default 10.
    public var bufferSize: Int
    /// `events`: the event type names subscribed to, upper-cased (required).
    public var events: [String]
    /// `result_handler`: the handler spec; default `supervisor.dispatchers:default_handler`.
    public var resultHandler: String
    /// The listener processes, configured like programs.
    public var processes: [ProcessConfig]

    /// Creates a pool configuration.
    /// - Parameters:
    ///   - name: The pool name.
    ///   - priority: The pool priority.
    ///   - bufferSize: The event buffer size.
    ///   - events: The subscribed event types.
    ///   - resultHandler: The result handler spec.
    ///   - processes: The listener processes.
    public init(
        name: String, priority: Int = -1, bufferSize: Int = 10, events: [String],
        resultHandler: String = "supervisor.dispatchers:default_handler", processes: [ProcessConfig]
    ) {
        self.name = name
        self.priority = priority
        self.bufferSize = bufferSize
        self.events = events
        self.resultHandler = resultHandler
        self.processes = processes
    }
}
