import NIOCore
import NIOHTTP1
import SpindleSystem

extension HTTPRequestHandler {
    /// Answers the web console's pages and `GET /metrics` (after the authentication check, as
    /// every other path).
    /// - Returns: Whether the request was one of them (and is being answered).
    func routeWeb(_ head: HTTPRequestHead, _ channelContext: ChannelHandlerContext) -> Bool {
        let path = WebForm.path(of: head.uri)
        if path == "/metrics" {
            guard head.method == .GET else {
                sendError(.methodNotAllowed, head, channelContext, extra: [("Allow", "GET")])
                return true
            }
            let metrics = context.metrics
            answerOffLoop(head, channelContext) {
                WebResponse(status: 200, contentType: SupervisorMetrics.contentType, body: metrics.scrape())
            }
            return true
        }
        guard head.method == .GET || head.method == .POST, let page = WebConsole.page(for: path) else { return false }
        if tooLarge {
            sendError(.payloadTooLarge, head, channelContext, close: true)
            return true
        }
        let form = WebForm(uri: head.uri, body: head.method == .POST ? body : [])
        body = []
        let host = head.headers["Host"].first
        let wantsJSON = head.headers["Accept"].contains { $0.containsUTF8("application/json") }
        let console = context.console
        answerOffLoop(head, channelContext) { console.respond(page: page, form: form, host: host, wantsJSON: wantsJSON) }
        return true
    }

    /// Makes a reply on the server's thread pool (it may block) and sends it.
    func answerOffLoop(_ head: HTTPRequestHead, _ channelContext: ChannelHandlerContext, _ make: @escaping @Sendable () -> WebResponse) {
        let tracker = context.tracker
        tracker.replyStarted()
        let reply = context.pool.runIfActive(eventLoop: channelContext.eventLoop, make)
        reply.assumeIsolated().whenComplete { result in
            switch result {
            case .success(let response):
                if response.status >= 300 {
                    // supervisord sends medusa's error page with its redirects and failures.
                    self.sendError(HTTPResponseStatus(statusCode: response.status), head, channelContext, extra: response.headers)
                } else {
                    self.send(
                        HTTPResponseStatus(statusCode: response.status), head, channelContext, contentType: response.contentType,
                        body: response.body, extra: response.headers)
                }
            case .failure(let error):
                self.context.mainLog?.log(.critical, "Web interface error: \(error)")
                self.sendError(.internalServerError, head, channelContext)
            }
            tracker.replyFinished()
        }
    }
}
