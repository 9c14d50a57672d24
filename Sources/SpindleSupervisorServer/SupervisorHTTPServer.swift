#if canImport(Glibc)
import Glibc
#endif
import NIOCore
import NIOHTTP1
import NIOPosix
import SpindleSupervisor
import SpindleSystem

/// supervisord's HTTP server on SwiftNIO: XML-RPC on `POST /RPC2`, and `GET /logtail/NAME/CHANNEL`
/// and `GET /mainlogtail` streaming a log as it grows (what `supervisorctl tail -f` and
/// `maintail -f` read), supervisord's web interface (`/`, `/index.html`, `/tail.html`; see
/// `WebConsole`) and a Prometheus `/metrics` endpoint, over the listeners of the `[unix_http_server]` and `[inet_http_server]`
/// sections, with HTTP basic authentication where a section sets `username` and `password`.
///
/// XML-RPC calls run on a pool of threads, since many of them wait (a start for `startsecs`, a
/// stop for the process to exit); the event loop only reads requests and writes replies.
public final class SupervisorHTTPServer: Sendable {
    /// The XML-RPC interface requests are handed to.
    public let interface: SupervisorRPCInterface
    let listeners: [HTTPListener]
    let mainLog: MainLog?
    let group: MultiThreadedEventLoopGroup
    let pool: NIOThreadPool
    let tracker: ConnectionTracker
    let serving: Locked<Serving>
    let console: WebConsole
    let metrics: SupervisorMetrics

    struct Serving {
        var channels: [any Channel] = []
        /// The listeners handed to SwiftNIO (which closes them with their channels).
        var served: Set<Int32> = []
        var closed = false
    }

    /// Creates a server over listeners; nothing is served until `start()`.
    /// - Parameters:
    ///   - listeners: The listening sockets (the server closes them).
    ///   - interface: The XML-RPC interface.
    ///   - mainLog: supervisord's log, for `/mainlogtail` and the server's own messages.
    ///   - threads: How many XML-RPC calls may run at once.
    public init(listeners: [HTTPListener], interface: SupervisorRPCInterface, mainLog: MainLog?, threads: Int = 16) {
        self.listeners = listeners
        self.interface = interface
        self.mainLog = mainLog
        self.group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        self.pool = NIOThreadPool(numberOfThreads: max(1, threads))
        self.tracker = ConnectionTracker()
        self.serving = Locked(Serving())
        self.console = WebConsole(interface: interface)
        self.metrics = SupervisorMetrics(interface: interface)
    }

    /// Starts serving every listener.
    /// - Throws: An error from SwiftNIO when a listener cannot be registered (the server is
    ///   closed then).
    public func start() throws {
        pool.start()
        for listener in listeners {
            let context = HTTPRequestContext(
                interface: interface, pool: pool, tracker: tracker, mainLog: mainLog,
                authenticator: listener.credentials.map { BasicAuthenticator(username: $0.username, password: $0.password) },
                console: console, metrics: metrics)
            let tracker = self.tracker
            let bootstrap = ServerBootstrap(group: group)
                .serverChannelOption(.backlog, value: 1024)
                .childChannelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.configureHTTPServerPipeline(withErrorHandling: true)
                        try channel.pipeline.syncOperations.addHandler(HTTPRequestHandler(context: context))
                        tracker.opened(channel)
                        channel.closeFuture.whenComplete { _ in tracker.closed(channel) }
                    }
                }
            do {
                let channel = try bootstrap.withBoundSocket(listener.descriptor).wait()
                serving.withLock {
                    $0.channels.append(channel)
                    $0.served.insert(listener.descriptor)
                }
            } catch {
                close(timeout: 0)
                throw error
            }
            if listener.credentials == nil {
                mainLog?.log(.critical, "Server '\(listener.section)' running without any HTTP authentication checking")
            }
        }
    }

    /// Stops serving: stops accepting, lets the replies being made go out (waiting at most
    /// `timeout` seconds), closes every connection (`tail -f` streams too), removes the UNIX
    /// socket files and stops the server's threads.
    /// - Parameter timeout: Seconds to wait for replies under way.
    public func close(timeout: Double = 5) {
        let (channels, served, wasClosed) = serving.withLock { current -> ([any Channel], Set<Int32>, Bool) in
            defer {
                current.channels.removeAll()
                current.closed = true
            }
            return (current.channels, current.served, current.closed)
        }
        guard !wasClosed else { return }
        for channel in channels { try? channel.close().wait() }
        for listener in listeners {
            if !served.contains(listener.descriptor) { _ = Glibc.close(listener.descriptor) }
            if case .unix(let config) = listener.endpoint { _ = unlink(config.file) }
        }
        tracker.waitForReplies(timeout: timeout)
        for channel in tracker.open { try? channel.close().wait() }
        try? pool.syncShutdownGracefully()
        try? group.syncShutdownGracefully()
    }
}

/// The connections a server has open and the XML-RPC replies it is making.
final class ConnectionTracker: Sendable {
    private struct State {
        var channels: [ObjectIdentifier: any Channel] = [:]
        var pendingReplies = 0
    }

    private let state = Locked(State())

    func opened(_ channel: any Channel) { state.withLock { $0.channels[ObjectIdentifier(channel)] = channel } }

    func closed(_ channel: any Channel) { _ = state.withLock { $0.channels.removeValue(forKey: ObjectIdentifier(channel)) } }

    var open: [any Channel] { state.withLock { Array($0.channels.values) } }

    func replyStarted() { state.withLock { $0.pendingReplies += 1 } }

    func replyFinished() { state.withLock { $0.pendingReplies -= 1 } }

    /// Waits until no reply is being made, or `timeout` passes.
    func waitForReplies(timeout: Double) {
        let deadline = Deadline.after(seconds: timeout)
        while state.withLock({ $0.pendingReplies }) > 0, !deadline.hasPassed { usleep(10_000) }
    }
}
