/// An XML-RPC `methodCall`: a method name and its parameters.
public struct XMLRPCCall: Sendable, Equatable {
    /// The method, such as `supervisor.getState`.
    public var methodName: String
    /// The parameters, in order.
    public var params: [XMLRPCValue]

    /// Creates a call.
    /// - Parameters:
    ///   - methodName: The method.
    ///   - params: The parameters.
    public init(_ methodName: String, _ params: [XMLRPCValue] = []) {
        self.methodName = methodName
        self.params = params
    }

    /// Reads a `methodCall` document as supervisord does: `<params>` may be left out (no
    /// parameters), and a `<value>` without a type element is a string.
    /// - Parameter document: The request body.
    /// - Returns: The call.
    /// - Throws: `XMLRPCError` when the document is not well formed, a value cannot be
    ///   converted, or there is no (or an empty) `<methodName>`.
    public static func parse(_ document: [UInt8]) throws(XMLRPCError) -> XMLRPCCall {
        let root = try XMLTreeParser.parse(document)
        guard let name = root.child("methodName")?.text, !name.isEmpty else {
            throw XMLRPCError(reason: "no method name")
        }
        var params: [XMLRPCValue] = []
        if let list = root.child("params") {
            for param in list.children {
                guard let value = param.children.first, value.name == "value" else {
                    throw XMLRPCError(reason: "a <param> without a <value>")
                }
                params.append(try XMLRPCValue.read(value))
            }
        }
        return XMLRPCCall(name, params)
    }

    /// The call as Python's `xmlrpc.client.dumps` writes it.
    public var xml: String {
        var out = "<?xml version='1.0'?>\n<methodCall>\n<methodName>" + XMLRPCValue.escape(methodName) + "</methodName>\n<params>\n"
        for param in params {
            out += "<param>\n"
            param.write(into: &out)
            out += "</param>\n"
        }
        return out + "</params>\n</methodCall>\n"
    }
}
