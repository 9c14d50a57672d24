/// What a lock is and where it was made, for deadlock reports.
struct LockSite: Sendable, CustomStringConvertible {
    let kind: StaticString
    let file: StaticString
    let line: UInt

    var description: String { "\(kind) created at \(file):\(line)" }
}

/// A place in the code where a lock was acquired.
struct CallSite: Sendable, Hashable, CustomStringConvertible {
    let file: String
    let line: UInt

    init(_ file: StaticString, _ line: UInt) {
        self.file = "\(file)"
        self.line = line
    }

    var description: String { "\(file):\(line)" }
}
