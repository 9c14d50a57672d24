// The thread sanitizer's annotation for a task resumed before it awaited (see CSpindleSanitizer.h).
#include "CSpindleSanitizer.h"

#include <stddef.h>

// Defined by the thread sanitizer's runtime when it is linked in; null otherwise.
extern void __tsan_acquire(void *addr) __attribute__((weak));

// The Swift concurrency runtime's current task (the AsyncTask, which is the Job the runtime
// passes to its own sanitizer calls); Swift calling convention.
extern void *swift_task_getCurrent(void) __attribute__((swiftcall, weak));

void spindle_tsan_task_resumed(void) {
    if (__tsan_acquire == NULL || swift_task_getCurrent == NULL) return;
    void *task = swift_task_getCurrent();
    if (task != NULL) __tsan_acquire(task);
}
