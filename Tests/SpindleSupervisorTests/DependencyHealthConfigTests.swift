import Foundation
import Glibc
import Testing

@testable import SpindleSupervisor

@Suite("depends_on and healthcheck_* options")
struct DependencyHealthConfigTests {
    func load(_ programs: String, in dir: TemporaryDirectory) throws(ConfigError) -> SupervisorConfig {
        let path = dir.write("supervisord.conf", "[supervisord]\n" + programs)
        return try SupervisorConfig.load(path: path, environment: [:], hostNodeName: "node1")
    }

    func failure(_ programs: String, in dir: TemporaryDirectory) -> ConfigError? {
        do {
            _ = try load(programs, in: dir)
            return nil
        } catch {
            return error
        }
    }

    func process(_ config: SupervisorConfig, _ group: String, _ name: String) -> ProcessConfig? {
        config.group(named: group)?.processes.first { $0.name == name }
    }

    @Test func withoutTheNewOptionsNothingChanges() throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let config = try load("[program:a]\ncommand=/bin/cat\n", in: dir)
        let a = try #require(process(config, "a", "a"))
        #expect(a.dependsOn.isEmpty)
        #expect(a.healthcheck == nil)
    }

    @Test func dependsOnResolvesProgramsProcessesAndGroups() throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let config = try load(
            """
            [program:db]
            command=/bin/cat
            [program:worker]
            command=/bin/cat
            process_name=%(program_name)s_%(process_num)d
            numprocs=2
            [program:cache]
            command=/bin/cat
            [program:queue]
            command=/bin/cat
            [group:back]
            programs=cache,queue
            [program:web]
            command=/bin/cat
            depends_on = db, back:cache , worker
            [program:api]
            command=/bin/cat
            depends_on=back:*,db,db

            """, in: dir)
        #expect(process(config, "web", "web")?.dependsOn == ["db:db", "back:cache", "worker:worker_0", "worker:worker_1"])
        #expect(process(config, "api", "api")?.dependsOn == ["back:cache", "back:queue", "db:db"])
        #expect(process(config, "db", "db")?.dependsOn == [])
    }

    @Test func anUnknownDependencyIsAConfigurationError() throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let error = try #require(failure("[program:web]\ncommand=/bin/cat\ndepends_on=db\n", in: dir))
        #expect(error.kind == .inconsistent)
        #expect(error.section == "program:web" && error.option == "depends_on" && error.file == dir.file("supervisord.conf"))
        #expect(error.description.contains("depends_on names unknown program 'db'"), "\(error)")
        let group = try #require(failure("[program:web]\ncommand=/bin/cat\ndepends_on=back:db\n", in: dir))
        #expect(group.description.contains("unknown process or group 'back:db'"), "\(group)")
    }

    @Test func aCycleIsAConfigurationErrorNamingIt() throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let error = try #require(
            failure(
                """
                [program:a]
                command=/bin/cat
                priority=1
                depends_on=b
                [program:b]
                command=/bin/cat
                priority=2
                depends_on=c
                [program:c]
                command=/bin/cat
                priority=3
                depends_on=a
                [program:d]
                command=/bin/cat
                depends_on=a

                """, in: dir))
        #expect(error.kind == .inconsistent)
        #expect(error.reason == "depends_on cycle: a -> b -> c -> a", "\(error)")
        #expect(error.section == "program:a" && error.option == "depends_on")
        #expect(error.description.hasPrefix("Error: Inconsistent configuration for 'depends_on' in section 'program:a' of \(dir.file("supervisord.conf"))"), "\(error)")
        let itself = try #require(failure("[program:a]\ncommand=/bin/cat\ndepends_on=a\n", in: dir))
        #expect(itself.reason == "depends_on cycle: a -> a")
    }

    @Test func healthCheckOptionsAndTheirDefaults() throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let config = try load(
            """
            [program:web]
            command=/bin/cat
            healthcheck_command=/bin/test -e /tmp/%(program_name)s
            [program:api]
            command=/bin/cat
            healthcheck_command=true
            healthcheck_interval=0.5
            healthcheck_timeout=2
            healthcheck_retries=5

            """, in: dir)
        #expect(process(config, "web", "web")?.healthcheck == HealthCheckConfig(command: "/bin/test -e /tmp/web", interval: 10, timeout: 5, retries: 3))
        #expect(process(config, "api", "api")?.healthcheck == HealthCheckConfig(command: "true", interval: 0.5, timeout: 2, retries: 5))
    }

    @Test(arguments: [
        ("healthcheck_interval=0", "healthcheck_interval", "above 0"),
        ("healthcheck_timeout=soon", "healthcheck_timeout", "'soon' is not a number of seconds"),
        ("healthcheck_retries=0", "healthcheck_retries", "at least 1"),
    ])
    func badHealthCheckValuesAreRefused(_ line: String, _ option: String, _ reason: String) throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let error = try #require(failure("[program:web]\ncommand=/bin/cat\nhealthcheck_command=true\n\(line)\n", in: dir))
        #expect(error.kind == .invalidValue && error.option == option && error.section == "program:web", "\(error)")
        #expect(error.reason.contains(reason), "\(error)")
    }

    @Test func aHealthCheckCommandThatCannotBeSplitIsRefusedAtLoad() throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        // ` ;` starts an inline comment, so the quote is left open.
        let error = try #require(failure("[program:web]\ncommand=/bin/cat\nhealthcheck_command=/bin/sh -c \"true ; exit 0\"\n", in: dir))
        #expect(error.kind == .invalidValue && error.option == "healthcheck_command" && error.section == "program:web", "\(error)")
        #expect(error.reason.contains("No closing quotation"), "\(error)")
    }

    @Test func aHealthCheckOptionWithoutACommandIsRefused() throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let error = try #require(failure("[program:web]\ncommand=/bin/cat\nhealthcheck_retries=2\n", in: dir))
        #expect(error.kind == .inconsistent && error.option == "healthcheck_retries")
        #expect(error.reason == "healthcheck_retries is set but healthcheck_command is not")
    }

    @Test func dependencyOrders() {
        let deps: [String: [String]] = ["web": ["db", "cache"], "cache": ["db"], "db": [], "log": []]
        let items = ["db", "cache", "log", "web"]
        #expect(DependencyOrder.startOrder(["web", "log", "cache", "db"], key: { $0 }, dependencies: { deps[$0] ?? [] }) == ["log", "db", "cache", "web"])
        #expect(DependencyOrder.stopOrder(items, key: { $0 }, dependencies: { deps[$0] ?? [] }) == ["log", "web", "cache", "db"])
        #expect(DependencyOrder.stopBatches(items, key: { $0 }, dependencies: { deps[$0] ?? [] }) == [["log", "web"], ["cache"], ["db"]])
        #expect(DependencyOrder.stopBatches(["a", "b", "c"], key: { $0 }, dependencies: { _ in [] }) == [["a", "b", "c"]])
        #expect(DependencyOrder.cycle(nodes: items, dependencies: deps) == nil)
        #expect(DependencyOrder.cycle(nodes: ["x", "y"], dependencies: ["x": ["y"], "y": ["x"]]) == ["x", "y", "x"])
    }
}
