// What the benchmarks need from C: glibc's single-threaded flag, the thread pointer, the futex,
// CPU binding, a malloc counter and pipe2 (Spindle's own shims are `package`).
#ifndef CBENCHSUPPORT_H
#define CBENCHSUPPORT_H

#include <stdint.h>
#if __has_include(<sys/single_threaded.h>)
#include <sys/single_threaded.h>
#define BENCH_HAS_SINGLE_THREADED 1
#endif

/// glibc's `__libc_single_threaded`: 1 until the process first starts a thread (glibc then skips
/// the atomic instructions of an uncontended pthread_mutex), 0 after; -1 when unknown.
static inline int bench_libc_single_threaded(void) {
#ifdef BENCH_HAS_SINGLE_THREADED
    return __libc_single_threaded;
#else
    return -1;
#endif
}

/// A word unique to the calling thread, read without a call (the TCB address on x86_64/glibc,
/// which is also what pthread_self() returns there).
static inline uintptr_t bench_thread_pointer(void) {
    return (uintptr_t)__builtin_thread_pointer();
}

/// Tells the CPU the caller is spinning.
static inline void bench_cpu_relax(void) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    __asm__ __volatile__("yield");
#endif
}

/// FUTEX_WAIT (private) with no timeout; returns 0 when woken or when the word had changed.
int bench_futex_wait(uint32_t *word, uint32_t expected);

/// FUTEX_WAKE (private); returns how many were woken.
int bench_futex_wake(uint32_t *word, int count);

/// Binds the calling thread to CPU `cpu`; returns 0 or an error number.
int bench_bind_to_cpu(int cpu);

/// Starts counting calls to malloc, calloc and realloc (from every thread), from zero.
void bench_malloc_count_start(void);

/// Stops counting and returns the number of calls since `bench_malloc_count_start`.
unsigned long bench_malloc_count_stop(void);

/// pipe2(2) with O_CLOEXEC (glibc declares pipe2 only under _GNU_SOURCE). Returns 0 or -1.
int bench_pipe_cloexec(int fds[2]);

#endif
