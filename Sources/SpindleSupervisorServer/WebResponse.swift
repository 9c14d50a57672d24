/// A whole HTTP reply made off the event loop: the web console's pages and `/metrics`.
struct WebResponse: Sendable {
    /// The status code.
    var status: Int
    /// The `Content-Type`.
    var contentType: String
    /// The body.
    var body: [UInt8]
    /// More headers.
    var headers: [(String, String)] = []

    /// An HTML page, not to be cached (supervisor's `MeldView` headers).
    /// - Parameter html: The page.
    /// - Returns: The reply.
    static func page(_ html: String) -> WebResponse {
        WebResponse(
            status: 200, contentType: "text/html;charset=utf-8", body: Array(html.utf8),
            headers: [("Pragma", "no-cache"), ("Cache-Control", "no-cache"), ("Expires", "Thu, 01 Jan 1970 00:00:00 GMT")])
    }

    /// A JSON document, not to be cached.
    /// - Parameter json: The document.
    /// - Returns: The reply.
    static func json(_ json: String) -> WebResponse {
        WebResponse(
            status: 200, contentType: "application/json", body: Array(json.utf8),
            headers: [("Cache-Control", "no-store")])
    }
}
