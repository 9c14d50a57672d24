#if canImport(Glibc)
import Glibc
#endif
import CSpindle

// All raw system calls of Spindle's lower layers go through these helpers: a call that fails with
// EINTR is retried, any other failure becomes a thrown `SystemError`. `close` is never retried: on
// Linux the descriptor is gone even when close reports EINTR, and a retry could close a descriptor
// another thread has just been given.

/// Runs `body` until it returns something other than -1 with `EINTR`.
/// - Parameters:
///   - call: The call's name, for the error.
///   - subject: What the call acts on, for the error.
///   - body: The call; it returns -1 and sets `errno` on failure.
/// - Returns: The call's result.
/// - Throws: `SystemError` with the call's `errno` when it fails with anything but `EINTR`.
@inlinable
package func systemCall<T: FixedWidthInteger>(
    _ call: @autoclosure () -> String,
    subject: @autoclosure () -> String? = nil,
    _ body: () -> T
) throws(SystemError) -> T {
    while true {
        let result = body()
        if result != -1 { return result }
        let code = errno
        if code == EINTR { continue }
        throw SystemError(call: call(), errno: code, subject: subject())
    }
}

/// Closes `fd` once, never retrying (see the note above).
/// - Parameter fd: The descriptor to close.
/// - Throws: `SystemError` for `EBADF` (a bug: the descriptor was not open); other errors are
///   reported by the kernel after the descriptor is already released and are ignored.
package func closeDescriptor(_ fd: Int32) throws(SystemError) {
    if close(fd) == -1, errno == EBADF {
        throw SystemError(call: "close", errno: EBADF, subject: "fd \(fd)")
    }
}

/// Writes `text` to standard error with write(2), whole, without buffering.
/// - Parameter text: What to write.
package func writeToStandardError(_ text: String) {
    var bytes = Array(text.utf8)
    var offset = 0
    while offset < bytes.count {
        let n = bytes.withUnsafeMutableBytes { write(2, $0.baseAddress! + offset, $0.count - offset) }
        if n < 0 {
            if errno == EINTR { continue }
            return
        }
        offset += n
    }
    bytes.removeAll()
}

/// Caps the malloc arenas glibc keeps for this process (each thread that allocates otherwise
/// gets one of its own, up to 8 per core, and each keeps its peak). For daemons that mostly wait.
/// - Parameter arenas: The most arenas (at least 1).
package func limitMallocArenas(_ arenas: Int32) {
    _ = spindle_malloc_arena_max(max(1, arenas))
}

/// A real-time signal for waking a thread blocked in `sigtimedwait` (SIGRTMIN + 3); the thread
/// keeps it blocked and in the set it waits for.
package var wakeSignal: Int32 { spindle_wake_signal() }

/// The machine's processors.
package enum ProcessorCount {
    /// The number of processors online (at least 1).
    package static var online: Int { Swift.max(1, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN)))) }
}
