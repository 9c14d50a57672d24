import Foundation
import Glibc
import SpindleSupervisor
import SpindleSystem
import SpindleTestSupport
import Testing

@testable import SpindleSupervisorServer

/// A supervisor served by a `SupervisorHTTPServer` on a UNIX socket and a TCP port.
final class ServerHarness: @unchecked Sendable {
    let directory = TestDirectory("spindle-http")
    let supervisor: Supervisor
    let server: SupervisorHTTPServer
    let port: Int
    var socket: String { directory.file("s.sock") }

    init(auth: String = "", unixOptions: String = "", programs: String) throws {
        port = freePort()
        let text = """
            [supervisord]
            childlogdir = \(directory.path)
            [rpcinterface:supervisor]
            supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface
            [unix_http_server]
            file = \(directory.file("s.sock"))
            chmod = 0766
            \(unixOptions)
            \(auth)
            [inet_http_server]
            port = 127.0.0.1:\(port)
            \(auth)

            """ + programs
        let path = directory.write("supervisord.conf", text)
        let config = try SupervisorConfig.load(path: path)
        let mainLog = try MainLog(path: directory.file("main.log"), level: .info, maxBytes: 0, backups: 0, echo: false)
        supervisor = Supervisor(config: config) { level, message in mainLog.log(level, message) }
        let interface = SupervisorRPCInterface(
            supervisor: supervisor, config: config, mainLog: mainLog,
            readConfig: { () throws(ConfigError) -> SupervisorConfig in try SupervisorConfig.load(path: path) }, stateChanged: { _ in })
        server = SupervisorHTTPServer(listeners: try HTTPListener.open(config), interface: interface, mainLog: mainLog)
        try server.start()
        try supervisor.run()
    }

    var unixClient: SupervisorClient { SupervisorClient(serverURL: "unix://" + socket) }
    var tcpClient: SupervisorClient { SupervisorClient(serverURL: "http://127.0.0.1:\(port)") }

    /// Sends raw HTTP and returns the status and the whole reply.
    func raw(_ request: String, readBody: Bool = true) throws -> (status: Int, head: HTTPClientConnection.ResponseHead, body: String) {
        var connection = try HTTPClientConnection(.unix(path: socket))
        defer { connection.close() }
        let bytes = Array(request.utf8)
        _ = bytes.withUnsafeBytes { send(connection.descriptor, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
        let head = try connection.readHead()
        let body = readBody ? try connection.readBody(head) : []
        return (head.status, head, String(decoding: body, as: UTF8.self))
    }

    func close() {
        server.close()
        supervisor.shutdown(timeout: 20)
        directory.remove()
    }
}

@Suite("HTTP server", .serialized, .timeLimit(.minutes(2)))
struct HTTPServerTests {
    static let programs = """
        [program:ticker]
        command = /bin/sh -c "echo hello; while :; do echo tick; sleep 0.2; done"
        startsecs = 0
        """

    @Test func xmlRPCOverBothListeners() throws {
        let owner = getuid() == 0 ? getpwnam("nobody") : nil
        let h = try ServerHarness(unixOptions: owner == nil ? "" : "chown = nobody", programs: HTTPServerTests.programs)
        defer { h.close() }
        #expect(try h.unixClient.call("supervisor.getState") == .structure(["statecode": .int(1), "statename": .string("RUNNING")]))
        #expect(try h.tcpClient.call("supervisor.getAPIVersion") == .string("3.0"))
        #expect(throws: SupervisorClientError.fault(code: 10, string: "BAD_NAME: nosuch")) {
            try h.unixClient.call("supervisor.getProcessInfo", [.string("nosuch")])
        }
        var info = stat()
        #expect(stat(h.socket, &info) == 0 && info.st_mode & 0o777 == 0o766)
        if let owner { #expect(info.st_uid == owner.pointee.pw_uid) }
    }

    @Test func basicAuthenticationWithAHashedPassword() throws {
        let hash = SHA1.hexDigest(Array("secret".utf8))
        #expect(hash == "e5e9fa1ba31ecd1ae84f75caaa474f3a663f05f4")
        let h = try ServerHarness(auth: "username = user\npassword = {SHA}\(hash)", programs: HTTPServerTests.programs)
        defer { h.close() }
        #expect(throws: SupervisorClientError.http(status: 401, reason: "Unauthorized")) { try h.unixClient.call("supervisor.getState") }
        var wrong = h.tcpClient
        wrong.username = "user"
        wrong.password = "nope"
        #expect(throws: SupervisorClientError.http(status: 401, reason: "Unauthorized")) { try wrong.call("supervisor.getState") }
        var right = h.tcpClient
        right.username = "user"
        right.password = "secret"
        #expect(try right.call("supervisor.getAPIVersion") == .string("3.0"))
        let reply = try h.raw("POST /RPC2 HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n")
        #expect(reply.status == 401)
        #expect(reply.head.header("www-authenticate") == "Basic realm=\"default\"")
        #expect(reply.body.contains("<p>Error code 401."))
        var tail = h.unixClient
        tail.username = "user"
        tail.password = "bad"
        #expect(throws: SupervisorClientError.http(status: 401, reason: "Unauthorized")) { try tail.follow("/mainlogtail") { _ in false } }
    }

    @Test func logTailStreamsWhatIsAppended() throws {
        let h = try ServerHarness(programs: HTTPServerTests.programs)
        defer { h.close() }
        #expect(waitUntil { ((try? h.unixClient.call("supervisor.readProcessStdoutLog", [.string("ticker"), .int(0), .int(0)]))?.stringValue ?? "").contains("tick") })
        var received: [UInt8] = []
        let started = monotonicSeconds()
        try h.unixClient.follow("/logtail/ticker/stdout", shouldStop: { monotonicSeconds() - started > 10 }) { bytes in
            received += bytes
            return String(decoding: received, as: UTF8.self).components(separatedBy: "tick").count < 8
        }
        let text = String(decoding: received, as: UTF8.self)
        #expect(text.hasPrefix("hello\ntick\n"), "\(text)")
        #expect(text.components(separatedBy: "tick").count >= 8, "the stream must go on as the log grows: \(text)")
        var main: [UInt8] = []
        try h.unixClient.follow("/mainlogtail") { bytes in
            main += bytes
            return false
        }
        #expect(String(decoding: main, as: UTF8.self).contains("spawned: 'ticker'"))
        #expect(throws: SupervisorClientError.http(status: 404, reason: "Not Found")) { try h.unixClient.follow("/logtail/nosuch/stdout") { _ in false } }
        #expect(throws: SupervisorClientError.http(status: 404, reason: "Not Found")) { try h.unixClient.follow("/logtail/ticker/bogus") { _ in false } }
        let chunked = try h.raw("GET /logtail/ticker HTTP/1.1\r\nHost: x\r\n\r\n", readBody: false).head
        #expect(chunked.header("transfer-encoding") == "chunked")
        #expect(chunked.header("content-type") == "text/plain;charset=utf-8")
    }

    @Test func badRequestsAreRefusedAsSupervisordRefusesThem() throws {
        let h = try ServerHarness(programs: HTTPServerTests.programs)
        defer { h.close() }
        #expect(try h.raw("GET /RPC2 HTTP/1.1\r\nHost: x\r\n\r\n").status == 400)
        #expect(try h.raw("POST /RPC2 HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello").status == 400)
        #expect(try h.raw("GET /nowhere HTTP/1.1\r\nHost: x\r\n\r\n").status == 404)
        #expect(try h.raw("POST /logtail/ticker HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n").status == 400)
    }

    @Test func oneConnectionCarriesSeveralCalls() throws {
        let h = try ServerHarness(programs: HTTPServerTests.programs)
        defer { h.close() }
        var connection = try HTTPClientConnection(.unix(path: h.socket))
        defer { connection.close() }
        for method in ["supervisor.getAPIVersion", "supervisor.getSupervisorVersion"] {
            try connection.send(method: "POST", path: "/RPC2", host: "localhost", headers: [], body: Array(XMLRPCCall(method).xml.utf8))
            let head = try connection.readHead()
            #expect(head.status == 200)
            #expect(head.header("content-type") == "text/xml")
            let response = try XMLRPCResponse.parse(try connection.readBody(head))
            guard case .value(.string) = response else {
                Issue.record("unexpected \(response)")
                return
            }
        }
    }
}
