#if canImport(Glibc)
import Glibc
#endif
import SpindleSystem
import Synchronization

/// A thread of execution with Python's `threading.Thread` semantics.
///
/// Give it a closure, or subclass it and override `run()`. `start()` runs it on a new OS thread;
/// `join(timeout:)` waits for it to end. An error thrown out of the body goes to
/// `SpindleThread.excepthook`. When the program exits, it first waits for every started
/// non-daemon thread, as Python does; daemon threads never hold the process up.
///
/// (Foundation owns the name `Thread`, hence `SpindleThread`.)
open class SpindleThread: @unchecked Sendable {
    enum Kind {
        case regular, main, dummy
    }

    struct Info {
        var name: String
        var daemon: Bool
        var started = false
        var ident: UInt?
        var nativeID: Int?
        var handle: pthread_t?
        var reaped = false
    }

    let kind: Kind
    let info: Locked<Info>
    private let target: (@Sendable () throws -> Void)?
    private let stackSize: Int
    let startedEvent = Event()
    let finishedEvent = Event()
    /// The thread's part in deadlock detection.
    let lockRecord = ThreadLockRecord()

    /// Creates a thread; it runs when `start()` is called.
    /// - Parameters:
    ///   - name: The thread's name; by default "Thread-N". It is also given to the OS thread
    ///     (first 15 bytes), so it shows in `ps -L` and debuggers.
    ///   - daemon: Whether the program may exit while this thread runs; by default the creating
    ///     thread's own daemon status.
    ///   - target: The work to run; a subclass may override `run()` instead.
    public init(name: String? = nil, daemon: Bool? = nil, target: (@Sendable () throws -> Void)? = nil) {
        self.kind = .regular
        self.target = target
        self.stackSize = ThreadRegistry.stackSize.load(ordering: .relaxed)
        let daemonFlag = daemon ?? SpindleThread.current.daemon
        self.info = Locked(Info(name: name ?? "Thread-\(ThreadRegistry.nextNumber())", daemon: daemonFlag))
        lockRecord.thread = self
    }

    /// Creates the object standing for a thread Spindle did not start (the main thread, or a
    /// thread made by other code).
    init(adopting kind: Kind) {
        self.kind = kind
        self.target = nil
        self.stackSize = 0
        let isMain = kind == .main
        let name = isMain ? "MainThread" : "Dummy-\(ThreadRegistry.nextNumber())"
        let ids: (pthread: pthread_t, tid: Int32) = isMain ? mainThreadIdentity : (pthread_self(), currentNativeThreadID)
        self.info = Locked(
            Info(name: name, daemon: !isMain, started: true, ident: UInt(ids.pthread), nativeID: Int(ids.tid)))
        lockRecord.thread = self
        startedEvent.set()
    }

    deinit {
        let info = self.info.withLock { $0 }
        if kind == .regular, let handle = info.handle, !info.reaped {
            pthread_detach(handle)
        }
    }

    // MARK: - Properties

    /// The thread's name; it can be changed at any time.
    public var name: String {
        get { info.withLock { $0.name } }
        set { info.withLock { $0.name = newValue } }
    }

    /// Whether the program may exit while this thread runs.
    public var daemon: Bool { info.withLock { $0.daemon } }

    /// Sets `daemon` (Python's `thread.daemon = flag`).
    /// - Parameter flag: The new daemon status.
    /// - Throws: `ThreadingError.Kind.daemonOfActiveThread` once the thread has started.
    public func setDaemon(_ flag: Bool) throws(ThreadingError) {
        try info.withLock { (info: inout Info) throws(ThreadingError) in
            if info.started {
                throw ThreadingError(.daemonOfActiveThread, "cannot set daemon status of active thread")
            }
            info.daemon = flag
        }
    }

    /// The thread's identifier (its `pthread_t`), or `nil` before it starts. It may be reused
    /// by a later thread after this one ends.
    public var ident: UInt? { info.withLock { $0.ident } }

    /// The kernel's thread id (as `ps -L` shows it), or `nil` before it starts.
    public var nativeID: Int? { info.withLock { $0.nativeID } }

    /// Whether the thread has started and its body has not finished.
    public var isAlive: Bool {
        switch kind {
        case .main, .dummy: return true
        case .regular: return info.withLock { $0.started } && !finishedEvent.isSet
        }
    }

    /// Whether `start()` has been called.
    public var isStarted: Bool { info.withLock { $0.started } }

    // MARK: - Running

    /// The thread's body. Runs the `target` given at creation; subclasses override it.
    /// - Throws: Whatever the body throws; it goes to `excepthook`.
    open func run() throws {
        try target?()
    }

    /// Starts the thread; it is running (`isAlive`, `ident` and `nativeID` set) when this returns.
    /// - Throws: `ThreadingError.Kind.alreadyStarted` on a second call;
    ///   `ThreadingError.Kind.startFailed` when the OS cannot create a thread.
    public func start() throws(ThreadingError) {
        try info.withLock { (info: inout Info) throws(ThreadingError) in
            if info.started || kind != .regular {
                throw ThreadingError(.alreadyStarted, "threads can only be started once")
            }
            info.started = true
        }
        ThreadRegistry.installExitHandler()
        ThreadRegistry.add(self)

        var attributes = pthread_attr_t()
        pthread_attr_init(&attributes)
        defer { pthread_attr_destroy(&attributes) }
        if stackSize > 0 { pthread_attr_setstacksize(&attributes, stackSize) }
        var handle = pthread_t()
        let context = Unmanaged.passRetained(self).toOpaque()
        let rc = pthread_create(&handle, &attributes, { context in
            let thread = Unmanaged<SpindleThread>.fromOpaque(context!).takeRetainedValue()
            thread.bootstrap()
            return nil
        }, context)
        if rc != 0 {
            Unmanaged<SpindleThread>.fromOpaque(context).release()
            ThreadRegistry.remove(self)
            info.withLock { $0.started = false }
            throw ThreadingError(.startFailed(errno: rc), "can't start new thread: \(SystemError(call: "pthread_create", errno: rc).message)")
        }
        info.withLock { $0.handle = handle }
        startedEvent.wait()
    }

    private func bootstrap() {
        let me = pthread_self()
        let tid = currentNativeThreadID
        let name = info.withLock { info -> String in
            info.ident = UInt(me)
            info.nativeID = Int(tid)
            return info.name
        }
        ThreadRegistry.setCurrent(self)
        Self.nameOSThread(name)
        startedEvent.set()
        do {
            try run()
        } catch {
            SpindleThread.excepthook(ExceptHookArguments(error: error, thread: self))
        }
        ThreadStorage.releaseCurrent()
        DeadlockMonitor.unregister(lockRecord)
        currentLockRecordPointer = nil
        ThreadRegistry.remove(self)
        ThreadRegistry.clearCurrent()
        finishedEvent.set()
    }

    private static func nameOSThread(_ name: String) {
        var bytes = Array(name.utf8.prefix(15))
        while let last = bytes.last, last & 0xC0 == 0x80 { bytes.removeLast() }  // no cut character
        if let last = bytes.last, last >= 0xC0 { bytes.removeLast() }
        bytes.append(0)
        bytes.withUnsafeBufferPointer { buffer in
            buffer.withMemoryRebound(to: CChar.self) { setOSThreadName($0.baseAddress!) }
        }
    }

    /// Waits for the thread's body to finish.
    /// - Parameter timeout: Seconds to wait at most; `nil` waits as long as it takes.
    /// - Returns: `true` when the thread has finished, `false` when the timeout expired first
    ///   (Python returns nothing and leaves you to check `isAlive`; both work here).
    /// - Throws: `ThreadingError.Kind.notStarted` before `start()`;
    ///   `ThreadingError.Kind.joinCurrentThread` when a thread joins itself.
    @discardableResult
    public func join(timeout: Double? = nil) throws(ThreadingError) -> Bool {
        guard isStarted else { throw ThreadingError(.notStarted, "cannot join thread before it is started") }
        if self === SpindleThread.current {
            throw ThreadingError(.joinCurrentThread, "cannot join current thread")
        }
        let finished: Bool
        if timeout == nil {
            finished = try DeadlockMonitor.block(on: .thread(self)) { finishedEvent.wait() }
        } else {
            finished = finishedEvent.wait(timeout: timeout)
        }
        guard finished else { return false }
        let handle = info.withLock { info -> pthread_t? in
            guard let handle = info.handle, !info.reaped else { return nil }
            info.reaped = true
            return handle
        }
        if let handle { pthread_join(handle, nil) }  // the OS thread is gone, not just its body
        return true
    }

    // MARK: - Module functions (Python's threading.current_thread() and friends)

    /// The `SpindleThread` of the calling thread; threads Spindle did not start get a stand-in
    /// (the main thread is "MainThread", others "Dummy-N").
    public static var current: SpindleThread { ThreadRegistry.current }

    /// The program's main thread.
    public static var main: SpindleThread { ThreadRegistry.mainThread }

    /// Every thread alive now: the main thread, started Spindle threads that have not finished,
    /// and stand-ins of other threads that asked for `current`.
    /// - Returns: The threads.
    public static func enumerate() -> [SpindleThread] {
        [ThreadRegistry.mainThread] + ThreadRegistry.all()
    }

    /// How many threads `enumerate()` would return.
    public static var activeCount: Int { 1 + ThreadRegistry.count }

    /// The calling thread's identifier (Python's `threading.get_ident()`).
    public static var currentIdent: UInt { UInt(pthread_self()) }

    /// The calling thread's kernel id (Python's `threading.get_native_id()`).
    public static var currentNativeID: Int { Int(currentNativeThreadID) }

    /// Sets the stack size of threads created from now on (Python's `threading.stack_size`).
    /// - Parameter size: Bytes; 0 for the system default; otherwise at least 32 KiB. `nil` only reads.
    /// - Returns: The previous setting.
    /// - Throws: `ThreadingError.Kind.invalidArgument` for a size below 32 KiB (other than 0).
    @discardableResult
    public static func stackSize(_ size: Int? = nil) throws(ThreadingError) -> Int {
        guard let size else { return ThreadRegistry.stackSize.load(ordering: .relaxed) }
        if size != 0, size < 32 * 1024 {
            throw ThreadingError(.invalidArgument, "size not valid: \(size) bytes (the minimum is 32768)")
        }
        return ThreadRegistry.stackSize.exchange(size, ordering: .relaxed)
    }

    /// Registers `callback` to run at program exit before Spindle waits for non-daemon threads
    /// (Python's `threading._register_atexit`), so that a pool can tell its workers to finish.
    /// - Parameter callback: What to run; callbacks run newest first.
    package static func registerAtExit(_ callback: @escaping @Sendable () -> Void) {
        ThreadRegistry.installExitHandler()
        ThreadRegistry.exitCallbacks.withLock { $0.append(callback) }
    }

    private static let hook = Locked<(@Sendable (ExceptHookArguments) -> Void)?>(nil)

    /// Called with the error when a thread's body throws (Python's `threading.excepthook`). The
    /// default prints "Exception in thread NAME:" and the error to standard error.
    public static var excepthook: @Sendable (ExceptHookArguments) -> Void {
        get { hook.withLock { $0 } ?? defaultExcepthook }
        set { hook.withLock { $0 = newValue } }
    }

    /// The hook Spindle starts with (Python's `threading.__excepthook__`).
    public static let defaultExcepthook: @Sendable (ExceptHookArguments) -> Void = { arguments in
        let text = "Exception in thread \(arguments.thread.name):\n\(arguments.error)\n"
        writeToStandardError(text)
    }
}
