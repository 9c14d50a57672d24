#define _GNU_SOURCE
#include "CSpindle.h"

#include <errno.h>
#include <limits.h>
#include <linux/futex.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

int spindle_futex_wait(uint32_t *word, uint32_t expected, int64_t deadline_ns, int shared) {
    int op = FUTEX_WAIT_BITSET | (shared ? 0 : FUTEX_PRIVATE_FLAG);
    struct timespec ts;
    struct timespec *tsp = NULL;
    if (deadline_ns >= 0) {
        ts.tv_sec = (time_t)(deadline_ns / 1000000000LL);
        ts.tv_nsec = (long)(deadline_ns % 1000000000LL);
        tsp = &ts;
    }
    long rc = syscall(SYS_futex, word, op, expected, tsp, NULL, FUTEX_BITSET_MATCH_ANY);
    if (rc == -1 && errno == EAGAIN) {
        return 0; /* the word changed before we slept: that is a wake-up */
    }
    return rc == -1 ? -1 : 0;
}

int spindle_futex_wake(uint32_t *word, int count, int shared) {
    int op = FUTEX_WAKE | (shared ? 0 : FUTEX_PRIVATE_FLAG);
    return (int)syscall(SYS_futex, word, op, count, NULL, NULL, 0);
}

int64_t spindle_monotonic_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

int64_t spindle_realtime_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

pid_t spindle_gettid(void) {
    return (pid_t)syscall(SYS_gettid);
}

#include <stdlib.h>
#include <string.h>

int spindle_deadlock_mode = 0;
__thread void *spindle_lock_record_tls = 0;

__attribute__((constructor)) static void spindle_read_deadlock_mode(void) {
    const char *mode = getenv("SPINDLE_DEADLOCK");
    if (mode == NULL) return;
    if (strcmp(mode, "report") == 0) spindle_deadlock_mode = 1;
    else if (strcmp(mode, "throw") == 0) spindle_deadlock_mode = 2;
}

static pthread_t main_pthread;
static pid_t main_tid;

__attribute__((constructor)) static void spindle_record_main_thread(void) {
    main_pthread = pthread_self();
    main_tid = spindle_gettid();
}

pthread_t spindle_main_pthread(void) { return main_pthread; }
pid_t spindle_main_tid(void) { return main_tid; }

int spindle_set_thread_name(const char *name) {
    return pthread_setname_np(pthread_self(), name);
}

#include <signal.h>

static int sigquit_fd = -1;

static void spindle_sigquit_handler(int sig) {
    (void)sig;
    int saved = errno;
    char byte = 'Q';
    if (sigquit_fd >= 0) {
        ssize_t ignored = write(sigquit_fd, &byte, 1);
        (void)ignored;
    }
    errno = saved;
}

int spindle_install_sigquit_pipe(int write_fd) {
    sigquit_fd = write_fd;
    struct sigaction action;
    memset(&action, 0, sizeof action);
    action.sa_handler = spindle_sigquit_handler;
    action.sa_flags = SA_RESTART;
    sigemptyset(&action.sa_mask);
    return sigaction(SIGQUIT, &action, NULL);
}
