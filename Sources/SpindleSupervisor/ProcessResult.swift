/// The outcome for one process of a group request (`startProcessGroup`, `stopAllProcesses`...),
/// with supervisor's field names.
public struct ProcessResult: Sendable, Hashable {
    /// The process name.
    public var name: String
    /// The group name.
    public var group: String
    /// The fault code, or 80 (SUCCESS).
    public var status: Int
    /// The fault text, or "OK".
    public var description: String

    /// Creates a result.
    /// - Parameters:
    ///   - name: The process name.
    ///   - group: The group name.
    ///   - fault: The fault, or `.success`.
    public init(name: String, group: String, fault: SupervisorFault) {
        self.name = name
        self.group = group
        self.status = fault.code
        self.description = fault == .success ? "OK" : fault.text
    }
}
