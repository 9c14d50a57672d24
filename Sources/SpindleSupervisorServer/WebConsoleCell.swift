/// One cell of the web console's process table.
struct WebConsoleCell: Sendable, Hashable {
    /// The text shown.
    var text: String
    /// A CSS class for the text, or "".
    var cssClass: String = ""
    /// Where the text links to (relative to the page), or "" for plain text.
    var link: String = ""
}
