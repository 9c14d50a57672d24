/// An XML-RPC `methodResponse`: a value, or a fault with a code and a string.
public enum XMLRPCResponse: Sendable, Equatable {
    /// A successful call's result.
    case value(XMLRPCValue)
    /// A fault, such as code 10 and `BAD_NAME: foo`.
    case fault(code: Int, string: String)

    /// The response as supervisord writes it (Python's `xmlrpc.client.dumps` with
    /// `methodresponse=True`, or of a `Fault`).
    public var xml: String {
        var out = "<?xml version='1.0'?>\n<methodResponse>\n"
        switch self {
        case .value(let value):
            out += "<params>\n<param>\n"
            value.write(into: &out)
            out += "</param>\n</params>\n"
        case .fault(let code, let string):
            out += "<fault>\n"
            XMLRPCValue.structure(["faultCode": .int(code), "faultString": .string(string)]).write(into: &out)
            out += "</fault>\n"
        }
        return out + "</methodResponse>\n"
    }

    /// Reads a `methodResponse` document.
    /// - Parameter document: The response body.
    /// - Returns: The response.
    /// - Throws: `XMLRPCError` when it is not a well-formed `methodResponse` with one parameter
    ///   or a fault struct.
    public static func parse(_ document: [UInt8]) throws(XMLRPCError) -> XMLRPCResponse {
        let root = try XMLTreeParser.parse(document)
        guard root.name == "methodResponse" else { throw XMLRPCError(reason: "not a methodResponse: <\(root.name)>") }
        if let fault = root.child("fault") {
            guard let element = fault.child("value") else { throw XMLRPCError(reason: "a <fault> without a <value>") }
            let value = try XMLRPCValue.read(element)
            guard let code = value["faultCode"]?.intValue, let string = value["faultString"]?.stringValue else {
                throw XMLRPCError(reason: "a fault without faultCode and faultString")
            }
            return .fault(code: code, string: string)
        }
        guard let element = root.child("params")?.child("param")?.child("value") else {
            throw XMLRPCError(reason: "a methodResponse without a parameter")
        }
        return .value(try XMLRPCValue.read(element))
    }
}
