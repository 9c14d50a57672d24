#if canImport(Glibc)
import Glibc
#endif
import NIOCore
import NIOHTTP1
import NIOPosix
import SpindleSupervisor

/// What every connection of one listener shares.
struct HTTPRequestContext: Sendable {
    let interface: SupervisorRPCInterface
    let pool: NIOThreadPool
    let tracker: ConnectionTracker
    let mainLog: MainLog?
    let authenticator: BasicAuthenticator?
    /// The web console's pages.
    let console: WebConsole
    /// `/metrics`.
    let metrics: SupervisorMetrics
}

/// One HTTP connection: routes each request as supervisord's handlers do (`/RPC2`,
/// `/logtail`, `/mainlogtail`, the web console's pages), and `/metrics`, after the
/// authentication check.
final class HTTPRequestHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    /// The largest request body read (XML-RPC calls are small).
    static let maximumBody = 16 << 20

    let context: HTTPRequestContext
    var head: HTTPRequestHead?
    var body: [UInt8] = []
    var tooLarge = false
    var stream: LogTailStream?

    init(context: HTTPRequestContext) {
        self.context = context
    }

    func channelRead(context channelContext: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            self.head = head
            body = []
            tooLarge = false
        case .body(var buffer):
            if body.count + buffer.readableBytes > HTTPRequestHandler.maximumBody {
                tooLarge = true
            } else if let bytes = buffer.readBytes(length: buffer.readableBytes) {
                body += bytes
            }
        case .end:
            guard let head else { return }
            self.head = nil
            route(head, channelContext)
        }
    }

    func channelInactive(context channelContext: ChannelHandlerContext) {
        stream?.stop()
        stream = nil
        channelContext.fireChannelInactive()
    }

    // MARK: - Routing

    func route(_ head: HTTPRequestHead, _ channelContext: ChannelHandlerContext) {
        if let authenticator = context.authenticator {
            switch authenticator.check(head.headers["Authorization"].first) {
            case .allowed: break
            case .malformed:
                writeToStandardErrorLine("malformed authorization info <\(head.headers["Authorization"].first ?? "")>")
                return sendError(.badRequest, head, channelContext)
            case .unauthorized:
                return sendError(.unauthorized, head, channelContext, extra: [("WWW-Authenticate", "Basic realm=\"default\"")], close: true)
            }
        }
        let uri = head.uri
        if uri.hasPrefix("/RPC2") {
            guard head.method == .POST else { return sendError(.badRequest, head, channelContext) }
            if tooLarge { return sendError(.payloadTooLarge, head, channelContext, close: true) }
            return callRPC(head, channelContext)
        }
        if uri.hasPrefix("/logtail") || uri.hasPrefix("/mainlogtail") {
            guard head.method == .GET else { return sendError(.badRequest, head, channelContext) }
            return startTail(head, channelContext)
        }
        if routeWeb(head, channelContext) { return }
        sendError(.notFound, head, channelContext)
    }

    // MARK: - XML-RPC

    func callRPC(_ head: HTTPRequestHead, _ channelContext: ChannelHandlerContext) {
        let interface = context.interface
        let requestBody = body
        body = []
        let tracker = context.tracker
        tracker.replyStarted()
        let reply = context.pool.runIfActive(eventLoop: channelContext.eventLoop) { interface.reply(to: requestBody) }
        reply.assumeIsolated().whenComplete { result in
            switch result {
            case .success(let (status, bytes)):
                if status == 200 {
                    self.send(.ok, head, channelContext, contentType: "text/xml", body: bytes)
                } else {
                    self.sendError(HTTPResponseStatus(statusCode: status), head, channelContext)
                }
            case .failure(let error):
                self.context.mainLog?.log(.critical, "Handling XML-RPC request raised an unexpected exception: \(error)")
                self.sendError(.internalServerError, head, channelContext)
            }
            tracker.replyFinished()
        }
    }

    // MARK: - Log tails

    func startTail(_ head: HTTPRequestHead, _ channelContext: ChannelHandlerContext) {
        let interface = context.interface
        let mainLogPath = context.mainLog?.path
        let uri = head.uri
        let located = context.pool.runIfActive(eventLoop: channelContext.eventLoop) { () -> String? in
            LogTailStream.file(for: uri, interface: interface, mainLog: mainLogPath)
        }
        located.assumeIsolated().whenComplete { result in
            guard case .success(let found) = result, let path = found, let stream = LogTailStream(path: path) else {
                return self.sendError(.notFound, head, channelContext)
            }
            var headers = HTTPHeaders()
            headers.add(name: "Content-Type", value: "text/plain;charset=utf-8")
            headers.add(name: "Last-Modified", value: LogTailStream.httpDate(stream.modificationTime))
            headers.add(name: "X-Accel-Buffering", value: "no")
            HTTPRequestHandler.addStandardHeaders(&headers)
            if head.version.major == 1, head.version.minor >= 1 {
                headers.add(name: "Transfer-Encoding", value: "chunked")
            } else {
                headers.add(name: "Connection", value: "close")
            }
            let responseHead = HTTPResponseHead(version: head.version, status: .ok, headers: headers)
            channelContext.writeAndFlush(self.wrapOutboundOut(.head(responseHead)), promise: nil)
            self.stream = stream
            stream.run(on: channelContext.eventLoop) { bytes in
                guard channelContext.channel.isActive else { return false }
                guard channelContext.channel.isWritable else { return true }
                var buffer = channelContext.channel.allocator.buffer(capacity: bytes.count)
                buffer.writeBytes(bytes)
                channelContext.writeAndFlush(self.wrapOutboundOut(.body(.byteBuffer(buffer))), promise: nil)
                return true
            }
        }
    }

    // MARK: - Replies

    /// Writes a whole reply, closing the connection afterwards when the request does not keep it.
    func send(
        _ status: HTTPResponseStatus, _ request: HTTPRequestHead, _ channelContext: ChannelHandlerContext,
        contentType: String, body bytes: [UInt8], extra: [(String, String)] = [], close: Bool = false
    ) {
        guard channelContext.channel.isActive else { return }
        var headers = HTTPHeaders()
        headers.add(name: "Content-Length", value: String(bytes.count))
        headers.add(name: "Content-Type", value: contentType)
        HTTPRequestHandler.addStandardHeaders(&headers)
        for (name, value) in extra { headers.add(name: name, value: value) }
        let keepAlive = request.isKeepAlive && !close
        if !keepAlive {
            headers.add(name: "Connection", value: "close")
        } else if request.version.major == 1, request.version.minor == 0 {
            headers.add(name: "Connection", value: "Keep-Alive")
        }
        channelContext.write(wrapOutboundOut(.head(HTTPResponseHead(version: request.version, status: status, headers: headers))), promise: nil)
        var buffer = channelContext.channel.allocator.buffer(capacity: bytes.count)
        buffer.writeBytes(bytes)
        channelContext.write(wrapOutboundOut(.body(.byteBuffer(buffer))), promise: nil)
        let done = channelContext.writeAndFlush(wrapOutboundOut(.end(nil)))
        if !keepAlive {
            done.assumeIsolated().whenComplete { _ in channelContext.close(promise: nil) }
        }
    }

    /// medusa's error page, which supervisord sends with every error status.
    func sendError(
        _ status: HTTPResponseStatus, _ request: HTTPRequestHead, _ channelContext: ChannelHandlerContext,
        extra: [(String, String)] = [], close: Bool = false
    ) {
        let page = [
            "<head>", "<title>Error response</title>", "</head>", "<body>", "<h1>Error response</h1>",
            "<p>Error code \(status.code).", "<p>Message: \(status.reasonPhrase).", "</body>", "",
        ].joined(separator: "\r\n")
        send(status, request, channelContext, contentType: "text/html", body: Array(page.utf8), extra: extra, close: close)
    }

    static func addStandardHeaders(_ headers: inout HTTPHeaders) {
        headers.add(name: "Date", value: LogTailStream.httpDate(time(nil)))
        headers.add(name: "Server", value: "Medusa/1.12")
    }

    func writeToStandardErrorLine(_ text: String) {
        let bytes = Array((text + "\n").utf8)
        _ = bytes.withUnsafeBytes { write(2, $0.baseAddress, $0.count) }
    }
}
