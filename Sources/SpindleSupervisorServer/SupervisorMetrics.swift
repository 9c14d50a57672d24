#if canImport(Glibc)
import Glibc
#endif
import Prometheus
import SpindleSupervisor
import SpindleSystem

/// spindled's Prometheus metrics, served at `GET /metrics` in the text exposition format:
/// every process's state (one gauge per state, 1 for the state it is in), uptime, pid, last
/// exit status and restarts, how many processes are in each state, and spindled's own start
/// time, uptime and state.
///
/// The values are read from the supervisor at each scrape (nothing is sampled in between), so
/// a scrape always shows what `getAllProcessInfo` would. A process whose group is removed
/// loses its series; one added again starts its restart counter from zero.
final class SupervisorMetrics: Sendable {
    /// The media type of the text exposition format.
    static let contentType = "text/plain; version=0.0.4; charset=utf-8"

    let interface: SupervisorRPCInterface
    let registry = PrometheusCollectorRegistry()
    /// When this program started (seconds since the epoch).
    let startTime: Double
    private let series: Locked<Series>

    /// The series of the processes seen at the last scrape.
    private struct Series {
        var processes: [String: ProcessSeries] = [:]
    }

    /// One process's gauges and counter.
    private struct ProcessSeries {
        let states: [ProcessState: Gauge]
        let uptime: Gauge
        let pid: Gauge
        let exitStatus: Gauge
        let restarts: Counter
        /// The restarts the counter has counted.
        var restartsCounted: Int
        /// One gauge per health status, 1 for the current one; made once the process has a
        /// health check.
        var health: [HealthStatus: Gauge] = [:]
    }

    private let up: Gauge
    private let start: Gauge
    private let uptime: Gauge
    private let stateCode: Gauge
    private let info: Gauge
    private let counts: [ProcessState: Gauge]

    /// Creates the metrics of a supervisor.
    /// - Parameter interface: The XML-RPC interface (its supervisor and state are reported).
    init(interface: SupervisorRPCInterface) {
        self.interface = interface
        self.startTime = SupervisorMetrics.processStartTime() ?? SupervisorMetrics.now
        self.series = Locked(Series())
        up = registry.makeGauge(descriptor: SupervisorMetrics.descriptor("spindled_up", "1 while spindled is RUNNING, 0 while it shuts down or restarts"))
        start = registry.makeGauge(descriptor: SupervisorMetrics.descriptor("spindled_start_time_seconds", "When spindled started, in seconds since the epoch"))
        uptime = registry.makeGauge(descriptor: SupervisorMetrics.descriptor("spindled_uptime_seconds", "Seconds since spindled started"))
        stateCode = registry.makeGauge(descriptor: SupervisorMetrics.descriptor("spindled_state_code", "supervisord's state code (getState): 2 FATAL, 1 RUNNING, 0 RESTARTING, -1 SHUTDOWN"))
        info = registry.makeGauge(descriptor: SupervisorMetrics.descriptor("spindled_info", "Always 1; the labels tell the supervisor version spindled reports and its identification"), labels: [("version", SupervisorRPCInterface.supervisorVersion), ("identification", interface.identifier)])
        var counts: [ProcessState: Gauge] = [:]
        for state in ProcessState.allCases {
            counts[state] = registry.makeGauge(descriptor: SupervisorMetrics.descriptor("spindled_processes", "How many processes are in each state"), labels: [("state", state.name)])
        }
        self.counts = counts
    }

    /// Reads the supervisor and renders every metric.
    /// - Returns: The exposition text.
    func scrape() -> [UInt8] {
        let infos = interface.supervisor.allProcessInfo()
        let spawns = interface.supervisor.spawnCounts()
        var health: [String: HealthStatus] = [:]
        for report in interface.supervisor.allHealth() where report.status != .none {
            health[Supervisor.makeName(group: report.group, process: report.name)] = report.status
        }
        let now = SupervisorMetrics.now
        let mood = interface.state
        up.set(to: mood == .running ? 1 : 0)
        start.set(to: startTime)
        uptime.set(to: max(0, now - startTime))
        stateCode.set(to: Double(mood.rawValue))
        info.set(to: 1)
        for state in ProcessState.allCases {
            counts[state]?.set(to: Double(infos.filter { $0.state == state }.count))
        }
        series.withLock { current in
            var seen: Set<String> = []
            for process in infos {
                let name = Supervisor.makeName(group: process.group, process: process.name)
                seen.insert(name)
                var entry = current.processes[name] ?? makeSeries(process)
                for (state, gauge) in entry.states { gauge.set(to: state == process.state ? 1 : 0) }
                entry.uptime.set(to: process.state == .running ? Double(max(0, process.now - process.start)) : 0)
                entry.pid.set(to: Double(process.pid))
                entry.exitStatus.set(to: Double(process.exitstatus))
                let restarts = max(0, (spawns[name] ?? 0) - 1)
                if restarts < entry.restartsCounted {
                    entry.restarts.reset()
                    entry.restartsCounted = 0
                }
                if restarts > entry.restartsCounted {
                    entry.restarts.increment(by: Int64(restarts - entry.restartsCounted))
                    entry.restartsCounted = restarts
                }
                if let status = health[name] {
                    if entry.health.isEmpty { entry.health = makeHealthSeries(process) }
                    for (each, gauge) in entry.health { gauge.set(to: each == status ? 1 : 0) }
                } else if !entry.health.isEmpty {
                    for gauge in entry.health.values { registry.unregisterGauge(gauge) }
                    entry.health = [:]
                }
                current.processes[name] = entry
            }
            for (name, gone) in current.processes where !seen.contains(name) {
                for gauge in gone.states.values { registry.unregisterGauge(gauge) }
                for gauge in gone.health.values { registry.unregisterGauge(gauge) }
                registry.unregisterGauge(gone.uptime)
                registry.unregisterGauge(gone.pid)
                registry.unregisterGauge(gone.exitStatus)
                registry.unregisterCounter(gone.restarts)
                current.processes.removeValue(forKey: name)
            }
        }
        var buffer: [UInt8] = []
        registry.emit(into: &buffer)
        return buffer
    }

    private func makeSeries(_ process: SupervisedProcessInfo) -> ProcessSeries {
        let labels = [("group", process.group), ("name", process.name)]
        var states: [ProcessState: Gauge] = [:]
        for state in ProcessState.allCases {
            states[state] = registry.makeGauge(descriptor: SupervisorMetrics.descriptor("spindled_process_state", "1 for the state the process is in, 0 for the others"), labels: labels + [("state", state.name)])
        }
        return ProcessSeries(
            states: states,
            uptime: registry.makeGauge(descriptor: SupervisorMetrics.descriptor("spindled_process_uptime_seconds", "Seconds since the process started, while it is RUNNING; 0 otherwise"), labels: labels),
            pid: registry.makeGauge(descriptor: SupervisorMetrics.descriptor("spindled_process_pid", "The process id, 0 when there is no process"), labels: labels),
            exitStatus: registry.makeGauge(descriptor: SupervisorMetrics.descriptor("spindled_process_exit_status", "The exit status of the process's last child, 0 if none"), labels: labels),
            restarts: registry.makeCounter(descriptor: SupervisorMetrics.descriptor("spindled_process_restarts_total", "Starts of the process after its first one, automatic or asked for"), labels: labels),
            restartsCounted: 0)
    }

    /// The health gauges of a process with a health check (spindled's), one per status.
    private func makeHealthSeries(_ process: SupervisedProcessInfo) -> [HealthStatus: Gauge] {
        let labels = [("group", process.group), ("name", process.name)]
        var gauges: [HealthStatus: Gauge] = [:]
        for status in HealthStatus.allCases where status != .none {
            gauges[status] = registry.makeGauge(
                descriptor: SupervisorMetrics.descriptor("spindled_process_health", "1 for the health a checked process is in (healthcheck_command), 0 for the others"),
                labels: labels + [("health", status.rawValue)])
        }
        return gauges
    }

    /// A metric's name and help (the name whole, as the exposition shows it).
    static func descriptor(_ name: String, _ help: String) -> MetricNameDescriptor {
        MetricNameDescriptor(metricName: name, unitName: "", helpText: help)
    }

    /// The wall clock, in seconds since the epoch.
    static var now: Double {
        var time = timespec()
        clock_gettime(CLOCK_REALTIME, &time)
        return Double(time.tv_sec) + Double(time.tv_nsec) / 1e9
    }

    /// When this process started, from `/proc/self/stat` (its start in clock ticks after boot)
    /// and `/proc/stat` (the boot time); `nil` where they cannot be read.
    static func processStartTime() -> Double? {
        guard let stat = readSmallFile("/proc/self/stat"), let close = stat.lastIndex(of: ")") else { return nil }
        // Fields after the command's closing parenthesis start at field 3 (state); starttime is 22.
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        guard fields.count > 19, let ticks = Double(fields[19]) else { return nil }
        guard let system = readSmallFile("/proc/stat"),
            let line = system.split(separator: "\n").first(where: { $0.hasPrefix("btime ") }),
            let boot = Double(String(line.dropFirst(6)).trimmingASCIIWhitespace())
        else { return nil }
        let hertz = Double(sysconf(Int32(_SC_CLK_TCK)))
        guard hertz > 0 else { return nil }
        return boot + ticks / hertz
    }

    /// A file of `/proc`, whose size `stat` does not tell.
    static func readSmallFile(_ path: String) -> String? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { _ = Glibc.close(fd) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n < 0, errno == EINTR { continue }
            guard n > 0 else { break }
            bytes += chunk[0..<n]
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
