// A malloc counter without LD_PRELOAD: the benchmark executable defines malloc, calloc and
// realloc itself, so every call from Swift's runtime, Foundation, Dispatch and Spindle lands here
// (the executable's definitions come first in symbol lookup) and goes on to glibc's allocator.
// Counting is off unless a benchmark turns it on, so the other figures pay one predictable branch.
// aligned_alloc/posix_memalign/memalign are not counted (Swift uses them only for alignments
// above 16 bytes).
#include "CBenchSupport.h"

#include <stdatomic.h>
#include <stddef.h>

extern void *__libc_malloc(size_t size);
extern void *__libc_calloc(size_t count, size_t size);
extern void *__libc_realloc(void *pointer, size_t size);

static atomic_int counting;
static atomic_ulong calls;

static inline void count_call(void) {
    if (atomic_load_explicit(&counting, memory_order_relaxed)) {
        atomic_fetch_add_explicit(&calls, 1, memory_order_relaxed);
    }
}

void *malloc(size_t size) {
    count_call();
    return __libc_malloc(size);
}

void *calloc(size_t count, size_t size) {
    count_call();
    return __libc_calloc(count, size);
}

void *realloc(void *pointer, size_t size) {
    count_call();
    return __libc_realloc(pointer, size);
}

void bench_malloc_count_start(void) {
    atomic_store(&calls, 0);
    atomic_store(&counting, 1);
}

unsigned long bench_malloc_count_stop(void) {
    atomic_store(&counting, 0);
    return atomic_load(&calls);
}
