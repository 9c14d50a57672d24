import Foundation
import Glibc
import Testing

@testable import SpindleSupervisor

@Suite("Configuration")
struct ConfigTests {
    let env = ["HOME": "/root", "PORT": "8080", "NAME": "Web"]

    func parse(_ text: String, in dir: TemporaryDirectory, name: String = "supervisord.conf") throws -> SupervisorConfig {
        let path = dir.write(name, text)
        return try SupervisorConfig.load(path: path, environment: env, hostNodeName: "node1")
    }

    func error(_ text: String, in dir: TemporaryDirectory) -> ConfigError? {
        let path = dir.write("supervisord.conf", text)
        do {
            _ = try SupervisorConfig.load(path: path, environment: env, hostNodeName: "node1")
            return nil
        } catch {
            return error
        }
    }

    @Test func everyProgramDefault() throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let config = try parse("[supervisord]\n[program:cat]\ncommand=/bin/cat\n", in: dir)
        #expect(config.groups.count == 1)
        let group = try #require(config.groups.first)
        #expect(group.name == "cat")
        #expect(group.priority == 999)
        let p = try #require(group.processes.first)
        #expect(p.name == "cat")
        #expect(p.programName == "cat")
        #expect(p.groupName == "cat")
        #expect(p.command == "/bin/cat")
        #expect(p.processNumber == 0)
        #expect(p.directory == nil)
        #expect(p.umask == nil)
        #expect(p.priority == 999)
        #expect(p.autostart == true)
        #expect(p.autorestart == .unexpected)
        #expect(p.startsecs == 1)
        #expect(p.startretries == 3)
        #expect(p.user == nil && p.uid == nil)
        #expect(p.stopsignal == SIGTERM)
        #expect(p.stopwaitsecs == 10)
        #expect(p.stopasgroup == false)
        #expect(p.killasgroup == false)
        #expect(p.exitcodes == [0])
        #expect(p.redirectStderr == false)
        #expect(p.environment.isEmpty)
        #expect(p.serverurl == nil)
        for channel in LogChannel.allCases {
            let c = p.logging(channel)
            #expect(c.logfile == .automatic)
            #expect(c.maxbytes == 50 * 1024 * 1024)
            #expect(c.backups == 10)
            #expect(c.captureMaxbytes == 0)
            #expect(c.eventsEnabled == false)
            #expect(c.syslog == false)
        }
    }

    @Test func everySupervisordDefault() throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let config = try parse("[supervisord]\n", in: dir)
        let s = config.supervisord
        #expect(s.logfile == "supervisord.log")
        #expect(s.logfileMaxbytes == 52_428_800)
        #expect(s.logfileBackups == 10)
        #expect(s.loglevel == .info)
        #expect(s.pidfile == "supervisord.pid")
        #expect(s.umask == 0o022)
        #expect(s.nodaemon == false)
        #expect(s.silent == false)
        #expect(s.minfds == 1024)
        #expect(s.minprocs == 200)
        #expect(s.nocleanup == false)
        #expect(s.childlogdir == FileSystem.temporaryDirectory)
        #expect(s.user == nil)
        #expect(s.directory == nil)
        #expect(s.stripANSI == false)
        #expect(s.environment.isEmpty)
        #expect(s.identifier == "supervisor")
        #expect(config.groups.isEmpty)
        #expect(config.supervisorctl == nil)
    }

    @Test func everyOptionSet() throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let config = try parse(
            """
            [supervisord]
            logfile = \(dir.path)/sd.log
            logfile_maxbytes = 1KB
            logfile_backups = 3
            loglevel = DEBUG
            pidfile = \(dir.path)/sd.pid
            umask = 077
            nodaemon = true
            silent = yes
            minfds = 2048
            minprocs = 300
            nocleanup = on
            childlogdir = \(dir.path)
            user = root
            directory = \(dir.path)
            strip_ansi = 1
            identifier = main
            environment = GLOBAL=g,SHARED="from supervisord"

            [program:web]
            command = /bin/web --port %(ENV_PORT)s
            directory = /tmp
            umask = 022
            priority = 5
            autostart = false
            autorestart = true
            startsecs = 0
            startretries = 7
            user = root
            stdout_logfile = \(dir.path)/web.out
            stdout_logfile_maxbytes = 2MB
            stdout_logfile_backups = 0
            stdout_capture_maxbytes = 1KB
            stdout_events_enabled = true
            stdout_syslog = true
            stderr_logfile = NONE
            stderr_logfile_maxbytes = 1GB
            stderr_logfile_backups = 4
            stopsignal = hup
            stopwaitsecs = 2
            stopasgroup = true
            exitcodes = 0,2, 255
            redirect_stderr = false
            environment = SHARED=mine,OWN=1
            serverurl = AUTO
            """, in: dir)
        let s = config.supervisord
        #expect(s.logfile == dir.path + "/sd.log")
        #expect(s.logfileMaxbytes == 1024)
        #expect(s.logfileBackups == 3)
        #expect(s.loglevel == .debug)
        #expect(s.umask == 0o077)
        #expect(s.nodaemon && s.silent && s.nocleanup && s.stripANSI)
        #expect(s.minfds == 2048 && s.minprocs == 300)
        #expect(s.childlogdir == dir.path)
        #expect(s.user == "root")
        #expect(s.identifier == "main")
        #expect(s.environment == ["GLOBAL": "g", "SHARED": "from supervisord"])
        let p = try #require(config.groups.first?.processes.first)
        #expect(p.command == "/bin/web --port 8080")
        #expect(p.directory == "/tmp")
        #expect(p.umask == 0o022)
        #expect(p.priority == 5)
        #expect(config.groups.first?.priority == 5)
        #expect(!p.autostart)
        #expect(p.autorestart == .always)
        #expect(p.startsecs == 0 && p.startretries == 7)
        #expect(p.user == "root" && p.uid == 0)
        #expect(p.stdout == LogChannelConfig(logfile: .path(dir.path + "/web.out"), maxbytes: 2 * 1024 * 1024, backups: 0, captureMaxbytes: 1024, eventsEnabled: true, syslog: true))
        #expect(p.stderr.logfile == LogFileSetting.none)
        #expect(p.stderr.maxbytes == 1024 * 1024 * 1024 && p.stderr.backups == 4)
        #expect(p.stopsignal == SIGHUP)
        #expect(p.stopwaitsecs == 2)
        #expect(p.stopasgroup && p.killasgroup)
        #expect(p.exitcodes == [0, 2, 255])
        #expect(p.environment == ["GLOBAL": "g", "SHARED": "mine", "OWN": "1"])
        #expect(p.serverurl == nil)
    }

    @Test func commentsContinuationsAndCase() throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let config = try parse(
            """
            ; a comment
            # another comment
            [supervisord]
            [program:x]
            COMMAND = /bin/echo a;b  ; inline comment
            Priority: 3 # also a comment
            environment = A=1,
              B=2
            autostart = TRUE
            autorestart = Unexpected
            [Program:ignored]
            command = /bin/true
            """, in: dir)
        #expect(config.groups.map(\.name) == ["x"])
        let p = try #require(config.groups.first?.processes.first)
        #expect(p.command == "/bin/echo a;b")
        #expect(p.priority == 3)
        #expect(p.environment == ["A": "1", "B": "2"])
        #expect(p.autostart)
        #expect(p.autorestart == .unexpected)
    }

    @Test func defaultSectionIsInherited() throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let config = try parse("[DEFAULT]\nstartsecs=0\n[supervisord]\n[program:a]\ncommand=/bin/true\n", in: dir)
        #expect(config.groups.first?.processes.first?.startsecs == 0)
    }

    @Test func expansions() throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let config = try parse(
            """
            [supervisord]
            environment = GREETING=hi
            [program:w]
            command = /bin/run %(program_name)s %(group_name)s %(process_num)02d %(here)s %(host_node_name)s %(ENV_NAME)s %(ENV_GREETING)s %(ENV_LOCAL)s 100%% %(numprocs)d [%(program_name)-4s] [%(process_num)3d]
            environment = LOCAL="l %(process_num)d"
            process_name = %(program_name)s_%(process_num)02d
            numprocs = 2
            numprocs_start = 7
            directory = %(here)s
            """, in: dir)
        let processes = try #require(config.groups.first?.processes)
        #expect(processes.map(\.name) == ["w_07", "w_08"])
        #expect(processes.map(\.processNumber) == [7, 8])
        #expect(processes[0].command == "/bin/run w w 07 \(dir.path) node1 Web hi l 7 100% 2 [w   ] [  7]")
        #expect(processes[1].environment["LOCAL"] == "l 8")
        #expect(processes[0].directory == dir.path)
    }

    @Test func numprocsNeedsProcessNum() {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let e = error("[supervisord]\n[program:w]\ncommand=/bin/true\nnumprocs=2\n", in: dir)
        #expect(e?.kind == .inconsistent)
        #expect(e?.section == "program:w")
        #expect(e?.option == "process_name")
        #expect(e?.reason.contains("%(process_num) must be present within process_name") == true)
    }

    @Test func groupsCollectPrograms() throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let config = try parse(
            """
            [supervisord]
            [group:web]
            programs = a,b
            priority = 10
            [program:a]
            command = /bin/a %(group_name)s
            priority = 2
            [program:b]
            command = /bin/b
            priority = 1
            [program:c]
            command = /bin/c
            priority = 5
            """, in: dir)
        #expect(config.groups.map(\.name) == ["c", "web"])
        let web = try #require(config.group(named: "web"))
        #expect(web.priority == 10)
        #expect(web.processes.map(\.name) == ["b", "a"])
        #expect(web.processes.last?.command == "/bin/a web")
        #expect(web.processes.allSatisfy { $0.groupName == "web" })
    }

    @Test func includesAreRelativeToTheIncludingFile() throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        dir.write("conf.d/b.conf", "[program:b]\ncommand=%(here)s/b\n")
        dir.write("conf.d/a.conf", "[program:a]\ncommand=/bin/a\n[program:shared]\ncommand=/bin/old\n")
        dir.write("conf.d/z.conf", "[program:shared]\ncommand=/bin/new\n")
        dir.write("conf.d/ignored.txt", "[program:ignored]\ncommand=/bin/x\n")
        let main = dir.write(
            "etc/supervisord.conf", "[supervisord]\n[include]\nfiles = ../conf.d/*.conf nothing/*.ini\n")
        let config = try SupervisorConfig.load(path: main, environment: env, hostNodeName: "n")
        #expect(config.groups.map(\.name) == ["a", "b", "shared"])
        #expect(config.group(named: "b")?.processes.first?.command == dir.path + "/conf.d/b")
        #expect(config.group(named: "shared")?.processes.first?.command == "/bin/new")
        #expect(config.includedFiles.map { ($0 as NSString).lastPathComponent } == ["a.conf", "b.conf", "z.conf"])
        #expect(config.warnings.contains { $0.contains("No file matches via include") })
    }

    @Test func environmentQuoting() throws {
        let pairs = try ConfigValues.keyValuePairs(#"A="with, comma",B='single quoted',C=plain,D="esc \"q\"",E=/usr/bin:/bin,F="""#)
        #expect(pairs == ["A": "with, comma", "B": "single quoted", "C": "plain", "D": #"esc "q""#, "E": "/usr/bin:/bin", "F": ""])
        #expect(try ConfigValues.keyValuePairs("") == [:])
        #expect(throws: ConfigValues.Refusal.self) { try ConfigValues.keyValuePairs("A=1,B") }
        #expect(throws: ConfigValues.Refusal.self) { try ConfigValues.keyValuePairs(#"A="open"#) }
        #expect(try Shlex.split(#"/bin/sh -c "echo 'a b'" x\ y"#) == ["/bin/sh", "-c", "echo 'a b'", "x y"])
    }

    @Test func valueTypes() throws {
        #expect(try ConfigValues.byteSize("10kb") == 10240)
        #expect(try ConfigValues.byteSize("3MB") == 3 * 1024 * 1024)
        #expect(try ConfigValues.byteSize("1GB") == 1 << 30)
        #expect(try ConfigValues.byteSize("123") == 123)
        #expect(try ConfigValues.octal("0o755") == 0o755)
        #expect(try ConfigValues.signal("9") == SIGKILL)
        #expect(try ConfigValues.signal("SIGUSR1") == SIGUSR1)
        #expect(try ConfigValues.signal("int") == SIGINT)
        #expect(try ConfigValues.autoRestart("FALSE") == .never)
        #expect(throws: ConfigValues.Refusal.self) { try ConfigValues.exitCodes("256") }
        #expect(throws: ConfigValues.Refusal.self) { try ConfigValues.signal("NOPE") }
        #expect(try ConfigValues.inetAddress("*:9001") == ("", 9001))
        #expect(try ConfigValues.inetAddress("LocalHost:9001") == ("localhost", 9001))
        #expect(try Expansion.expand("%(n)05d|%(n)-3d|%(n)+d|%(n)x|%(s).2s", ["n": .number(42), "s": .text("abc")]) == "00042|42 |+42|2a|ab")
    }

    @Test func servers() throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let config = try parse(
            """
            [supervisord]
            [unix_http_server]
            file = %(here)s/supervisor.sock
            chmod = 0770
            chown = root:root
            username = u
            password = p
            [inet_http_server]
            port = 127.0.0.1:9001
            [supervisorctl]
            serverurl = unix://%(here)s/supervisor.sock
            prompt = spin
            history_file = %(here)s/history
            [rpcinterface:supervisor]
            supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface
            extra = 1
            [eventlistener:listen]
            command = /bin/listener
            events = process_state, TICK_60
            """, in: dir)
        #expect(config.unixHTTPServers == [UnixHTTPServerConfig(file: dir.path + "/supervisor.sock", chmod: 0o770, ownerUID: 0, ownerGID: 0, username: "u", password: "p")])
        #expect(config.inetHTTPServers == [InetHTTPServerConfig(host: "127.0.0.1", port: 9001)])
        #expect(config.supervisorctl == SupervisorctlConfig(serverurl: "unix://\(dir.path)/supervisor.sock", prompt: "spin", historyFile: dir.path + "/history"))
        #expect(config.rpcInterfaces == [RPCInterfaceConfig(name: "supervisor", factory: "supervisor.rpcinterface:make_main_rpcinterface", options: ["extra": "1"])])
        let pool = try #require(config.eventListenerPools.first)
        #expect(pool.name == "listen" && pool.priority == -1 && pool.bufferSize == 10)
        #expect(pool.events == ["PROCESS_STATE", "TICK_60"])
        #expect(pool.processes.first?.name == "listen")
    }

    @Test func redirectStderrDropsTheStderrLog() throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let config = try parse("[supervisord]\n[program:a]\ncommand=/bin/a\nredirect_stderr=true\nstderr_logfile=/tmp/x.log\n", in: dir)
        #expect(config.groups.first?.processes.first?.stderr.logfile == LogFileSetting.none)
        #expect(config.warnings.contains { $0.contains("redirect_stderr=true but stderr_logfile") })
    }

    @Test func badFilesNameFileSectionAndOption() {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let path = dir.file("supervisord.conf")
        let e = error("[supervisord]\n[program:web]\ncommand=/bin/web\nstartsecs=abc\n", in: dir)
        #expect(e?.kind == .invalidValue)
        #expect(e?.file == path)
        #expect(e?.section == "program:web")
        #expect(e?.option == "startsecs")
        #expect(e?.value == "abc")
        #expect(e?.description == "Error: Invalid value for 'startsecs' in section 'program:web' of \(path): 'abc' is not an integer")

        let cases: [(String, ConfigError.Kind, String?, String?)] = [
            ("[program:a]\ncommand=/bin/a\n", .missingSection, "supervisord", nil),
            ("[supervisord]\n[program:a]\nautostart=true\n", .missingOption, "program:a", "command"),
            ("[supervisord]\n[program:a]\ncommand=/bin/a\nautostart=maybe\n", .invalidValue, "program:a", "autostart"),
            ("[supervisord]\n[program:a]\ncommand=/bin/a\nautorestart=sometimes\n", .invalidValue, "program:a", "autorestart"),
            ("[supervisord]\n[program:a]\ncommand=/bin/a\nstopsignal=BOGUS\n", .invalidValue, "program:a", "stopsignal"),
            ("[supervisord]\n[program:a]\ncommand=/bin/a\nexitcodes=0,x\n", .invalidValue, "program:a", "exitcodes"),
            ("[supervisord]\n[program:a]\ncommand=/bin/a\numask=9\n", .invalidValue, "program:a", "umask"),
            ("[supervisord]\n[program:a]\ncommand=/bin/a\nstdout_logfile_maxbytes=lots\n", .invalidValue, "program:a", "stdout_logfile_maxbytes"),
            ("[supervisord]\n[program:a]\ncommand=/bin/a\nstdout_logfile=/no/such/dir/x.log\n", .invalidValue, "program:a", "stdout_logfile"),
            ("[supervisord]\n[program:a]\ncommand=/bin/a\nstartretries=-2\n", .invalidValue, "program:a", "startretries"),
            ("[supervisord]\n[program:a]\ncommand=/bin/a\nbackoff_max=0\n", .invalidValue, "program:a", "backoff_max"),
            ("[supervisord]\n[program:a]\ncommand=/bin/a %(nope)s\n", .badExpansion, "program:a", "command"),
            ("[supervisord]\n[program:a]\ncommand=/bin/a %(ENV_NAME)d\n", .badExpansion, "program:a", "command"),
            ("[supervisord]\n[program:a]\ncommand=/bin/a\nenvironment=A=\"x\n", .invalidValue, "program:a", "environment"),
            ("[supervisord]\n[program:a]\ncommand=/bin/a\nstopasgroup=true\nkillasgroup=false\n", .inconsistent, "program:a", "killasgroup"),
            ("[supervisord]\n[program:a]\ncommand=/bin/a\nuser=no-such-user-xyz\n", .invalidValue, "program:a", "user"),
            ("[supervisord]\n[program:a b]\ncommand=/bin/a\n", .invalidValue, "program:a b", nil),
            ("[supervisord]\n[group:g]\nprograms=missing\n", .inconsistent, "group:g", "programs"),
            ("[supervisord]\nloglevel=loud\n", .invalidValue, "supervisord", "loglevel"),
            ("[supervisord]\nchildlogdir=/no/such/dir\n", .invalidValue, "supervisord", "childlogdir"),
            ("[supervisord]\n[include]\n", .missingOption, "include", "files"),
            ("[supervisord]\n[inet_http_server]\nport=99999\n", .invalidValue, "inet_http_server", "port"),
            ("[supervisord]\n[inet_http_server]\nport=9001\nusername=u\n", .inconsistent, "inet_http_server", "password"),
            ("[supervisord]\n[eventlistener:e]\ncommand=/bin/e\n", .missingOption, "eventlistener:e", "events"),
            ("[supervisord]\n[rpcinterface:x]\nfoo=1\n", .missingOption, "rpcinterface:x", "supervisor.rpcinterface_factory"),
            ("option=before any section\n", .syntax, nil, nil),
            ("[supervisord]\nthis line has no separator\n", .syntax, "supervisord", nil),
        ]
        for (text, kind, section, option) in cases {
            let e = error(text, in: dir)
            #expect(e?.kind == kind, "\(text)")
            #expect(e?.section == section, "\(text)")
            #expect(e?.option == option, "\(text)")
            #expect(e?.file == path, "\(text)")
        }
        let syntax = error("[supervisord]\nthis line has no separator\n", in: dir)
        #expect(syntax?.line == 2)
    }

    @Test func errorsInIncludedFilesNameThatFile() {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let included = dir.write("inc/bad.conf", "[program:bad]\ncommand=/bin/x\nstartretries=many\n")
        let e = error("[supervisord]\n[include]\nfiles=inc/*.conf\n", in: dir)
        #expect(e?.file == included)
        #expect(e?.section == "program:bad")
        #expect(e?.option == "startretries")
    }

    @Test func missingFile() {
        #expect(throws: ConfigError.self) { try SupervisorConfig.load(path: "/no/such/supervisord.conf") }
        do {
            _ = try SupervisorConfig.load(path: "/no/such/supervisord.conf")
        } catch {
            #expect(error.kind == .unreadableFile)
            #expect(error.file == "/no/such/supervisord.conf")
        }
    }

    @Test func searchPath() {
        let paths = SupervisorConfig.searchPaths(executable: "/opt/sv/bin/spindled", currentDirectory: "/home/u")
        #expect(paths == [
            "/opt/sv/etc/supervisord.conf", "/opt/sv/supervisord.conf", "/home/u/supervisord.conf",
            "/home/u/etc/supervisord.conf", "/etc/supervisord.conf", "/etc/supervisor/supervisord.conf",
        ])
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let found = dir.write("etc/supervisord.conf", "[supervisord]\n")
        #expect(SupervisorConfig.defaultConfigFile(executable: dir.path + "/bin/spindled", currentDirectory: "/nonexistent") == found)
    }
}
