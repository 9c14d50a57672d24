#if canImport(Glibc)
import Glibc
#endif
import Spindle
import SpindleSystem
import Synchronization

/// The signal (SIGINT or SIGTERM) that asked the gui to stop, or 0; written by its signal handler.
private let stopSignal = Atomic<Int32>(0)

/// A GUI for a server terminal (gui.py): worker threads do the work, the main thread keeps the
/// screen up to date and answers the keyboard.
///
/// Each worker advances its own progress bar. About ten times a second the main thread redraws the
/// bars in place with ANSI escape codes, and between frames it waits for keys on standard input:
/// "q" tells the workers to stop (an `Event`), joins them and ends. When standard input is a
/// terminal it is put in non-canonical, no-echo mode so a key counts without Enter, and restored at
/// the end, also after Ctrl-C. When standard input is a pipe or a file, keys are read from it all
/// the same; at its end no more keys come and the program runs until the workers are done.
enum GUI {
    static let workerCount = 4
    static let steps = 40
    static let barWidth = 40
    static let frameSeconds = 0.1
    /// The mean pause per step, 50 ms (about 2 s a bar); SPINDLE_GUI_STEP_SECONDS overrides it,
    /// so that a test can keep the workers busy until it has pressed its key.
    static let stepSeconds: Double = {
        if let text = getenv("SPINDLE_GUI_STEP_SECONDS"), let value = Double(String(cString: text)), value > 0 {
            return value
        }
        return 0.05
    }()

    /// The workers' progress, shared with the main thread.
    final class Progress: @unchecked Sendable {
        private let lock = Lock()
        private var stepsDone: [Int]
        private var running: Int
        /// Set when every worker has finished, whether done or stopped.
        let allFinished = Event()

        init(workers: Int) {
            stepsDone = Array(repeating: 0, count: workers)
            running = workers
        }

        func advance(_ worker: Int, to step: Int) { lock.withLock { stepsDone[worker] = step } }

        func finish() {
            let last = lock.withLock { () -> Bool in
                running -= 1
                return running == 0
            }
            if last { allFinished.set() }
        }

        var snapshot: [Int] { lock.withLock { stepsDone } }
    }

    /// How the run ended.
    enum Ending {
        case done, quit
        case interrupted(signal: Int32)
    }

    /// What a look at standard input found.
    enum Input {
        case nothing
        case keys([UInt8])
        case end
    }

    static func run() throws -> Int32 {
        let progress = Progress(workers: workerCount)
        let stop = Event()
        let workers = (0..<workerCount).map { index in
            SpindleThread(name: "worker\(index + 1)") {
                defer { progress.finish() }
                for step in 1...steps {
                    // The pause doubles as the wait for "stop".
                    if stop.wait(timeout: Double.random(in: (stepSeconds / 2)...(stepSeconds * 1.5))) { return }
                    progress.advance(index, to: step)
                }
            }
        }

        let terminal = TerminalSession()
        defer { terminal.end() }
        Console.line("gui: \(workerCount) workers, redrawn \(Int(1 / frameSeconds)) times a second; press q to quit")
        for worker in workers { try worker.start() }

        let started = Deadline.now
        var stdinOpen = true
        var frame = Frame(lines: workerCount + 1)
        frame.draw(bars(progress.snapshot), status(since: started, stdinOpen: stdinOpen))
        var nextFrame = Deadline.after(seconds: frameSeconds)

        var ending = Ending.done
        frames: while true {
            let signal = stopSignal.load(ordering: .relaxed)
            if signal != 0 {
                ending = .interrupted(signal: signal)
                break frames
            }
            if progress.allFinished.isSet { break frames }
            let wait = nextFrame.remainingSeconds ?? 0
            if stdinOpen {
                switch readInput(waitingAtMost: wait) {
                case .nothing: break
                case .end: stdinOpen = false
                case .keys(let keys):
                    if keys.contains(UInt8(ascii: "q")) || keys.contains(UInt8(ascii: "Q")) { ending = .quit }
                }
                if case .quit = ending { break frames }
            } else {
                progress.allFinished.wait(timeout: wait)
            }
            if nextFrame.hasPassed {
                frame.draw(bars(progress.snapshot), status(since: started, stdinOpen: stdinOpen))
                nextFrame = Deadline.after(seconds: frameSeconds)
            }
        }

        stop.set()
        for worker in workers { try worker.join() }
        frame.draw(bars(progress.snapshot), status(since: started, stdinOpen: stdinOpen))
        terminal.end()
        switch ending {
        case .done:
            Console.line("done: joined \(workers.count) workers")
            return 0
        case .quit:
            Console.line("quit: joined \(workers.count) workers")
            return 0
        case .interrupted(let signal):
            Console.line("interrupted: joined \(workers.count) workers")
            return 128 + signal
        }
    }

    /// The workers' bar lines, e.g. "worker1 [##########..............................]  25%".
    static func bars(_ stepsDone: [Int]) -> [String] {
        stepsDone.enumerated().map { index, done in
            let filled = done * barWidth / steps
            let percent = String(done * 100 / steps)
            return "worker\(index + 1) ["
                + String(repeating: "#", count: filled) + String(repeating: ".", count: barWidth - filled)
                + "] " + String(repeating: " ", count: 3 - percent.count) + percent + "%"
        }
    }

    /// The status line under the bars.
    static func status(since start: Deadline, stdinOpen: Bool) -> String {
        let tenths = Int((Deadline.now.nanoseconds - start.nanoseconds) / 100_000_000)
        let keys = stdinOpen ? "press q to quit" : "no more keys (end of input)"
        return "elapsed \(tenths / 10).\(tenths % 10) s | \(keys)"
    }

    /// Waits up to `seconds` for standard input to have something, and reads it.
    static func readInput(waitingAtMost seconds: Double) -> Input {
        var descriptor = pollfd(fd: 0, events: Int16(POLLIN), revents: 0)
        let ready = poll(&descriptor, 1, Int32((seconds * 1000).rounded(.up)))
        if ready < 0 { return errno == EINTR ? .nothing : .end }
        if ready == 0 { return .nothing }
        if descriptor.revents & Int16(POLLNVAL) != 0 { return .end }
        var buffer = [UInt8](repeating: 0, count: 64)
        let count = read(0, &buffer, buffer.count)
        if count > 0 { return .keys(Array(buffer[0..<count])) }
        if count == 0 { return .end }
        return errno == EINTR || errno == EAGAIN ? .nothing : .end
    }

    /// A block of lines redrawn in place: each draw moves the cursor back up to the block's first
    /// line and rewrites every line, in one write.
    struct Frame {
        let lines: Int
        private var drawn = false

        init(lines: Int) { self.lines = lines }

        mutating func draw(_ bars: [String], _ status: String) {
            var text = drawn ? "\u{1B}[\(lines)A" : ""
            for line in bars + [status] {
                text += "\r\u{1B}[2K" + line + "\n"
            }
            drawn = true
            Console.write(text)
        }
    }

    /// The terminal settings the gui changes, and their restoration: standard input's termios
    /// (when it is a terminal), the cursor's visibility (when standard output is a terminal) and
    /// the SIGINT and SIGTERM handlers and mask.
    final class TerminalSession {
        private var savedMode: termios?
        private let hidCursor: Bool
        private var savedActions: [(signal: Int32, action: sigaction)] = []
        private var savedMask = sigset_t()
        private var ended = false

        init() {
            stopSignal.store(0, ordering: .relaxed)
            for signal in [SIGINT, SIGTERM] {
                var action = sigaction()
                action.__sigaction_handler.sa_handler = { signal in
                    stopSignal.store(signal, ordering: .relaxed)
                    // A second signal ends the program the usual way.
                    var fallback = sigaction()
                    fallback.__sigaction_handler.sa_handler = SIG_DFL
                    sigemptyset(&fallback.sa_mask)
                    sigaction(signal, &fallback, nil)
                }
                sigemptyset(&action.sa_mask)
                action.sa_flags = 0
                var old = sigaction()
                if sigaction(signal, &action, &old) == 0 { savedActions.append((signal, old)) }
            }
            // A parent may have left the signals blocked (the mask survives exec); they must get
            // through. The workers, started after this, inherit the mask.
            var handled = sigset_t()
            sigemptyset(&handled)
            sigaddset(&handled, SIGINT)
            sigaddset(&handled, SIGTERM)
            pthread_sigmask(SIG_UNBLOCK, &handled, &savedMask)
            if isatty(0) == 1 {
                var mode = termios()
                if tcgetattr(0, &mode) == 0 {
                    var raw = mode
                    raw.c_lflag &= ~tcflag_t(ICANON | ECHO)
                    withUnsafeMutableBytes(of: &raw.c_cc) { cc in
                        cc[Int(VMIN)] = 1
                        cc[Int(VTIME)] = 0
                    }
                    if tcsetattr(0, TCSANOW, &raw) == 0 { savedMode = mode }
                }
            }
            hidCursor = isatty(1) == 1
            if hidCursor { Console.write("\u{1B}[?25l") }
        }

        /// Restores everything; later calls do nothing.
        func end() {
            if ended { return }
            ended = true
            if hidCursor { Console.write("\u{1B}[?25h") }
            if var mode = savedMode { tcsetattr(0, TCSANOW, &mode) }
            pthread_sigmask(SIG_SETMASK, &savedMask, nil)
            for (signal, var action) in savedActions { sigaction(signal, &action, nil) }
        }
    }
}
