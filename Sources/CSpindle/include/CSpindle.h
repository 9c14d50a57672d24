// CSpindle is the only C in Spindle: the system calls Swift cannot reach directly (variadic
// syscall(2), vfork, signal handlers, constructors that run before main). This header declares the
// futex and thread helpers and includes the others (spawn, daemon, multiprocessing).
#ifndef CSPINDLE_H
#define CSPINDLE_H

#include <stdint.h>
#include <sys/types.h>
#include <pthread.h>

#include "CSpindleSpawn.h"
#include "CSpindleMultiprocessing.h"
#include "CSpindleEpoll.h"
#include "CSpindleTracker.h"
#include "CSpindleGzip.h"
#include "CSpindleTree.h"
#include "CSpindleSanitizer.h"
#if __has_include("CSpindleDaemon.h")
#include "CSpindleDaemon.h"
#endif

#ifdef __cplusplus
extern "C" {
#endif

/// Waits while `*word == expected`, until woken or until the absolute CLOCK_MONOTONIC
/// deadline `deadline_ns` passes (a negative deadline waits forever).
/// `shared` selects a process-shared futex (for words in shared memory).
/// Returns 0 when woken (or when the word had already changed), otherwise -1 with errno
/// set to ETIMEDOUT, EINTR or EAGAIN.
int spindle_futex_wait(uint32_t *word, uint32_t expected, int64_t deadline_ns, int shared);

/// Wakes at most `count` waiters of `word`. Returns how many were woken, or -1 with errno.
int spindle_futex_wake(uint32_t *word, int count, int shared);

/// Caps how many malloc arenas glibc keeps (mallopt M_ARENA_MAX). Returns 1 on success.
int spindle_malloc_arena_max(int arenas);

/// A real-time signal (SIGRTMIN + 3) that a daemon's main thread keeps blocked and waits for
/// with sigtimedwait, so that another thread can wake it without a polling loop.
int spindle_wake_signal(void);

/// Nanoseconds of CLOCK_MONOTONIC.
int64_t spindle_monotonic_ns(void);

/// Nanoseconds of CLOCK_REALTIME since the epoch.
int64_t spindle_realtime_ns(void);

/// The kernel's id of the calling thread (gettid(2)).
pid_t spindle_gettid(void);

/// The pthread of the program's main thread, recorded before `main` ran.
pthread_t spindle_main_pthread(void);

/// The kernel id of the program's main thread, recorded before `main` ran.
pid_t spindle_main_tid(void);

/// Names the calling thread for the OS (15 bytes at most are kept). Returns 0 or an error number.
int spindle_set_thread_name(const char *name);

/// Spindle's deadlock detection mode: 0 off, 1 report, 2 throw. Set from SPINDLE_DEADLOCK before
/// `main` runs, and by `DeadlockDetection.mode`.
extern int spindle_deadlock_mode;

/// The deadlock detection mode, read without a fence (a plain load on x86).
static inline int spindle_deadlock_mode_get(void) {
    return __atomic_load_n(&spindle_deadlock_mode, __ATOMIC_RELAXED);
}

/// Sets the deadlock detection mode.
static inline void spindle_deadlock_mode_set(int mode) {
    __atomic_store_n(&spindle_deadlock_mode, mode, __ATOMIC_RELAXED);
}

/// The calling thread's deadlock-detection record (unretained), kept in a C thread-local so the
/// tracked fast path finds it with one load.
extern __thread void *spindle_lock_record_tls;

static inline void *spindle_lock_record_get(void) { return spindle_lock_record_tls; }
static inline void spindle_lock_record_set(void *record) { spindle_lock_record_tls = record; }

/// Installs a SIGQUIT handler that writes one byte to `write_fd` (async-signal-safe), for a
/// thread that dumps the threads when it reads it. Returns 0 or -1 with errno.
int spindle_install_sigquit_pipe(int write_fd);

/// Tells the CPU the caller is spinning (x86 `pause`), easing the sibling hyper-thread.
static inline void spindle_cpu_relax(void) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    __asm__ __volatile__("yield");
#endif
}

#ifdef __cplusplus
}
#endif
#endif
