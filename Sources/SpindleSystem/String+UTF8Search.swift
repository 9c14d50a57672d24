extension StringProtocol {
    /// Whether `needle`'s UTF-8 bytes occur in this text's UTF-8 bytes.
    ///
    /// The standard library's `contains(_: some StringProtocol)` comes from `_StringProcessing`,
    /// which brings the regex parser with it: ~0.8 MiB of code in a statically linked spindled
    /// for three calls. This is a plain byte search: no Unicode canonical equivalence, which the
    /// ASCII needles it is used for do not need.
    /// - Parameters:
    ///   - needle: The text to look for; the empty string is always found.
    /// - Returns: Whether it occurs.
    package func containsUTF8(_ needle: String) -> Bool {
        let pattern = Array(needle.utf8)
        guard let first = pattern.first else { return true }
        let haystack = Array(utf8)
        guard haystack.count >= pattern.count else { return false }
        var start = 0
        while start <= haystack.count - pattern.count {
            if haystack[start] == first {
                var matched = 1
                while matched < pattern.count, haystack[start + matched] == pattern[matched] { matched += 1 }
                if matched == pattern.count { return true }
            }
            start += 1
        }
        return false
    }
}
