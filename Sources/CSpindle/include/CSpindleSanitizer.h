// What the thread sanitizer cannot see by itself: happens-before edges that the Swift concurrency
// runtime establishes with atomics in its own (uninstrumented) code.
#ifndef CSPINDLE_SANITIZER_H
#define CSPINDLE_SANITIZER_H

#ifdef __cplusplus
extern "C" {
#endif

/// Call in a task right after a continuation's await returned. When the thread sanitizer is in
/// the process, this acquires the task's synchronisation object, which the runtime releases in
/// every `resume` of the task's continuation (`_swift_tsan_release(task)`) and acquires when it
/// runs the task as a job. A continuation resumed while its body was still running is not run as
/// a job: the task goes on from `swift_continuation_await`, whose acquiring load of the
/// continuation's status orders the resumer's accesses before the task's, but which tells the
/// sanitizer nothing. This call supplies that edge. Without the sanitizer it does nothing.
void spindle_tsan_task_resumed(void);

#ifdef __cplusplus
}
#endif

#endif
