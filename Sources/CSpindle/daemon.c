#define _GNU_SOURCE
#include "CSpindleDaemon.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

static char terminate_pidfile[PATH_MAX];
static volatile sig_atomic_t terminate_pidfile_armed;
static volatile pid_t terminate_pidfile_owner;

static void spindle_daemon_terminate(int signo) {
    int saved_errno = errno;
    if (terminate_pidfile_armed && getpid() == terminate_pidfile_owner) {
        unlink(terminate_pidfile);
    }
    /* Die of the signal itself, so the parent sees how the daemon ended: restore the default
       action and raise it again; it is blocked while this handler runs and is delivered, with
       the default action, as soon as the handler returns. */
    struct sigaction action;
    memset(&action, 0, sizeof action);
    action.sa_handler = SIG_DFL;
    sigemptyset(&action.sa_mask);
    sigaction(signo, &action, NULL);
    raise(signo);
    errno = saved_errno;
}

int spindle_daemon_set_signal_action(int signo, int kind, void (*handler)(int)) {
    struct sigaction action;
    memset(&action, 0, sizeof action);
    sigemptyset(&action.sa_mask);
    switch (kind) {
    case SPINDLE_SIGNAL_DEFAULT:
        action.sa_handler = SIG_DFL;
        break;
    case SPINDLE_SIGNAL_IGNORE:
        action.sa_handler = SIG_IGN;
        break;
    case SPINDLE_SIGNAL_TERMINATE:
        action.sa_handler = spindle_daemon_terminate;
        break;
    case SPINDLE_SIGNAL_HANDLER:
        if (handler == NULL) {
            errno = EINVAL;
            return -1;
        }
        action.sa_handler = handler;
        action.sa_flags = SA_RESTART;
        break;
    default:
        errno = EINVAL;
        return -1;
    }
    return sigaction(signo, &action, NULL);
}

int spindle_daemon_signal_action(int signo) {
    struct sigaction current;
    if (sigaction(signo, NULL, &current) == -1) {
        return -1;
    }
    if (current.sa_handler == SIG_DFL) return SPINDLE_SIGNAL_DEFAULT;
    if (current.sa_handler == SIG_IGN) return SPINDLE_SIGNAL_IGNORE;
    if (current.sa_handler == spindle_daemon_terminate) return SPINDLE_SIGNAL_TERMINATE;
    return SPINDLE_SIGNAL_HANDLER;
}

int spindle_daemon_set_terminate_pidfile(const char *path, pid_t owner) {
    terminate_pidfile_armed = 0;
    if (path == NULL) {
        return 0;
    }
    size_t length = strlen(path);
    if (length >= sizeof terminate_pidfile) {
        errno = ENAMETOOLONG;
        return -1;
    }
    memcpy(terminate_pidfile, path, length + 1);
    terminate_pidfile_owner = owner;
    terminate_pidfile_armed = 1;
    return 0;
}

int spindle_daemon_unblock_signal(int signo) {
    sigset_t one;
    sigemptyset(&one);
    if (sigaddset(&one, signo) == -1) {
        return -1;
    }
    return pthread_sigmask(SIG_UNBLOCK, &one, NULL) == 0 ? 0 : -1;
}

int spindle_daemon_unblock_all_signals(void) {
    sigset_t none;
    sigemptyset(&none);
    return sigprocmask(SIG_SETMASK, &none, NULL);
}

int spindle_daemon_pipe_cloexec(int fds[2]) {
    return pipe2(fds, O_CLOEXEC);
}

int spindle_daemon_close_range(unsigned int first, unsigned int last) {
#ifdef SYS_close_range
    return (int)syscall(SYS_close_range, first, last, 0);
#else
    (void)first;
    (void)last;
    errno = ENOSYS;
    return -1;
#endif
}

int spindle_daemon_write_status(int fd, const void *bytes, size_t count) {
    struct sigaction ignore, previous;
    memset(&ignore, 0, sizeof ignore);
    ignore.sa_handler = SIG_IGN;
    sigemptyset(&ignore.sa_mask);
    if (sigaction(SIGPIPE, &ignore, &previous) == -1) {
        return -1;
    }
    const char *next = bytes;
    size_t left = count;
    int result = 0;
    while (left > 0) {
        ssize_t written = write(fd, next, left);
        if (written < 0) {
            if (errno == EINTR) continue;
            result = -1;
            break;
        }
        next += written;
        left -= (size_t)written;
    }
    int saved_errno = errno;
    sigaction(SIGPIPE, &previous, NULL);
    errno = saved_errno;
    return result;
}
