/// HTTP basic authentication as supervisor's `supervisor_auth_handler` checks it: one user
/// name and password (plain, or `{SHA}` and the hex SHA-1 of the password).
struct BasicAuthenticator: Sendable {
    let username: String
    let password: String

    /// What a request's credentials amount to.
    enum Verdict: Equatable {
        case allowed
        /// Missing, of another scheme, or wrong: 401.
        case unauthorized
        /// Not base64: 400.
        case malformed
    }

    /// Checks an `Authorization` header value.
    /// - Parameter header: The header's value, or `nil` when the request has none.
    /// - Returns: The verdict.
    func check(_ header: String?) -> Verdict {
        guard let header else { return .unauthorized }
        guard let space = header.firstIndex(of: " ") else { return .unauthorized }
        guard header[..<space].lowercased() == "basic" else { return .unauthorized }
        let cookie = String(header[header.index(after: space)...]).trimmingASCIIWhitespace()
        guard let decoded = Base64.decode(cookie) else { return .malformed }
        let text = String(decoding: decoded, as: UTF8.self)
        guard let colon = text.firstIndex(of: ":") else { return .unauthorized }
        let user = String(text[..<colon])
        let given = String(text[text.index(after: colon)...])
        guard user == username else { return .unauthorized }
        if password.hasPrefix("{SHA}") {
            return String(password.dropFirst(5)) == SHA1.hexDigest(Array(given.utf8)) ? .allowed : .unauthorized
        }
        return given == password ? .allowed : .unauthorized
    }
}
