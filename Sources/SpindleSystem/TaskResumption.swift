import CSpindle

/// Call in a task right after a continuation's await returned, before the task touches memory
/// its resumer may have touched (the task's next suspension reuses the continuation's context).
///
/// A continuation resumed while its `withUnsafeContinuation` body was still running lets the task
/// go on without being scheduled as a job, and the Swift runtime then gives the thread sanitizer
/// no happens-before edge from the resumer (it has one for a task scheduled after it awaited).
/// The ordering is real (the runtime's acquiring load of the continuation's status), so this
/// states it to the sanitizer: it acquires the task's synchronisation object, which every resume
/// releases. Without the sanitizer in the process it does nothing but a null check.
@inline(__always)
package func taskDidResume() {
    spindle_tsan_task_resumed()
}
