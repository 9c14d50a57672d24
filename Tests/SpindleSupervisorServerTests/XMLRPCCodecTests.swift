import SpindleSupervisorServer
import Testing

@Suite("XML-RPC codec")
struct XMLRPCCodecTests {
    @Test func responseIsWrittenAsPythonMarshalsIt() {
        let value = XMLRPCValue.structure([
            "name": .string("a&b<c>"), "n": .int(-5), "ok": .bool(true), "f": .double(1.5),
            "list": .array([.int(1), .string("two"), .bool(false)]), "empty": .array([]),
            "bin": .base64([0, 1] + Array("hello".utf8)), "nested": .structure(["k": .string("v")]),
        ])
        // What Python 3's xmlrpc.client.dumps((value,), methodresponse=True) gives for the same dict.
        let python =
            "<?xml version='1.0'?>\n<methodResponse>\n<params>\n<param>\n<value><struct>\n<member>\n<name>name</name>\n<value><string>a&amp;b&lt;c&gt;</string></value>\n</member>\n<member>\n<name>n</name>\n<value><int>-5</int></value>\n</member>\n<member>\n<name>ok</name>\n<value><boolean>1</boolean></value>\n</member>\n<member>\n<name>f</name>\n<value><double>1.5</double></value>\n</member>\n<member>\n<name>list</name>\n<value><array><data>\n<value><int>1</int></value>\n<value><string>two</string></value>\n<value><boolean>0</boolean></value>\n</data></array></value>\n</member>\n<member>\n<name>empty</name>\n<value><array><data>\n</data></array></value>\n</member>\n<member>\n<name>bin</name>\n<value><base64>\nAAFoZWxsbw==\n</base64></value>\n</member>\n<member>\n<name>nested</name>\n<value><struct>\n<member>\n<name>k</name>\n<value><string>v</string></value>\n</member>\n</struct></value>\n</member>\n</struct></value>\n</param>\n</params>\n</methodResponse>\n"
        #expect(XMLRPCResponse.value(value).xml == python)
    }

    @Test func faultIsWrittenAsSupervisordSendsIt() {
        let python =
            "<?xml version='1.0'?>\n<methodResponse>\n<fault>\n<value><struct>\n<member>\n<name>faultCode</name>\n<value><int>10</int></value>\n</member>\n<member>\n<name>faultString</name>\n<value><string>BAD_NAME: foo</string></value>\n</member>\n</struct></value>\n</fault>\n</methodResponse>\n"
        #expect(XMLRPCResponse.fault(code: 10, string: "BAD_NAME: foo").xml == python)
    }

    @Test func longBase64IsCutInLinesOf76() {
        let python =
            "<value><base64>\neHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4\neHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eA==\n</base64></value>\n"
        #expect(XMLRPCValue.base64(Array(repeating: UInt8(ascii: "x"), count: 100)).xml == python)
    }

    @Test func callIsWrittenAsPythonDumpsIt() throws {
        let python =
            "<?xml version='1.0'?>\n<methodCall>\n<methodName>supervisor.readProcessStdoutLog</methodName>\n<params>\n<param>\n<value><string>foo</string></value>\n</param>\n<param>\n<value><int>-1600</int></value>\n</param>\n<param>\n<value><int>0</int></value>\n</param>\n<param>\n<value><boolean>1</boolean></value>\n</param>\n</params>\n</methodCall>\n"
        let call = XMLRPCCall("supervisor.readProcessStdoutLog", [.string("foo"), .int(-1600), .int(0), .bool(true)])
        #expect(call.xml == python)
        #expect(try XMLRPCCall.parse(Array(python.utf8)) == call)
    }

    @Test func everyTypeIsRead() throws {
        let document = """
            <?xml version="1.0" encoding="utf-8"?>
            <!-- a comment -->
            <methodCall>
              <methodName>system.multicall</methodName>
              <params>
                <param><value><int> 42 </int></value></param>
                <param><value><i4>-7</i4></value></param>
                <param><value><boolean>1</boolean></value></param>
                <param><value><boolean>0</boolean></value></param>
                <param><value><string>a &lt;b&gt; &amp; &#233;&#x263A; <![CDATA[<raw & text>]]></string></value></param>
                <param><value>untyped text</value></param>
                <param><value></value></param>
                <param><value><string/></value></param>
                <param><value><double>2.5e3</double></value></param>
                <param><value><array><data><value><int>1</int></value><value>two</value></data></array></value></param>
                <param><value><struct><member><name>k</name><value><nil/></value></member><member><name>b</name><value><base64>aGk=</base64></value></member></struct></value></param>
                <param><value><nil/></value></param>
                <param><value><dateTime.iso8601>20240102T03:04:05</dateTime.iso8601></value></param>
              </params>
            </methodCall>
            """
        let call = try XMLRPCCall.parse(Array(document.utf8))
        #expect(call.methodName == "system.multicall")
        #expect(
            call.params == [
                .int(42), .int(-7), .bool(true), .bool(false), .string("a <b> & é☺ <raw & text>"), .string("untyped text"), .string(""),
                .string(""), .double(2500), .array([.int(1), .string("two")]),
                .structure(["k": .nil, "b": .base64(Array("hi".utf8))]), .nil, .dateTime("20240102T03:04:05"),
            ])
    }

    @Test func paramsMayBeLeftOut() throws {
        let call = try XMLRPCCall.parse(Array("<methodCall><methodName>supervisor.getState</methodName></methodCall>".utf8))
        #expect(call == XMLRPCCall("supervisor.getState"))
    }

    @Test("malformed documents are refused", arguments: [
        "", "<methodCall>", "<methodCall><methodName>x</methodName></methodCal>", "<methodCall><params></params></methodCall>",
        "<methodCall><methodName></methodName></methodCall>", "<methodCall><methodName>x</methodName><params><param><value><int>abc</int></value></param></params></methodCall>",
        "<methodCall><methodName>x</methodName><params><param><value><string>&bogus;</string></value></param></params></methodCall>",
        "<methodCall><methodName>x</methodName></methodCall>junk",
    ])
    func malformed(_ document: String) {
        #expect(throws: XMLRPCError.self) { try XMLRPCCall.parse(Array(document.utf8)) }
    }

    @Test func responsesAreReadBack() throws {
        let value = XMLRPCValue.array([.string("x"), .int(3), .bool(false), .structure(["a": .array([])])])
        #expect(try XMLRPCResponse.parse(Array(XMLRPCResponse.value(value).xml.utf8)) == .value(value))
        let fault = XMLRPCResponse.fault(code: 70, string: "NOT_RUNNING: foo")
        #expect(try XMLRPCResponse.parse(Array(fault.xml.utf8)) == fault)
    }

    @Test func controlCharactersInLogTextPassThrough() throws {
        let text = "\u{1B}[31mred\u{1B}[0m\ttab"
        let response = XMLRPCResponse.value(.string(text))
        #expect(try XMLRPCResponse.parse(Array(response.xml.utf8)) == response)
    }
}
