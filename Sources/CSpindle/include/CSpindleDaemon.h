// Shims for SpindleDaemon: signal dispositions (sigaction's union and flags are awkward from
// Swift), the SIGTERM handler that removes the daemon's pid file, close_range(2), and a status
// write that cannot raise SIGPIPE. Everything a signal handler reaches here is async-signal-safe.
#ifndef CSPINDLE_DAEMON_H
#define CSPINDLE_DAEMON_H

#include <stddef.h>
#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

/// The signal's default action (SIG_DFL).
#define SPINDLE_SIGNAL_DEFAULT 0
/// The signal is ignored (SIG_IGN).
#define SPINDLE_SIGNAL_IGNORE 1
/// The daemon's terminate handler: remove the registered pid file, then die of the signal.
#define SPINDLE_SIGNAL_TERMINATE 2
/// A handler of the caller's.
#define SPINDLE_SIGNAL_HANDLER 3

/// Sets the action for `signo`: one of the SPINDLE_SIGNAL_ values; `handler` is used only for
/// SPINDLE_SIGNAL_HANDLER. Returns 0, or -1 with errno.
int spindle_daemon_set_signal_action(int signo, int action, void (*handler)(int));

/// The current action for `signo` as a SPINDLE_SIGNAL_ value, or -1 with errno.
int spindle_daemon_signal_action(int signo);

/// Registers the pid file the terminate handler removes, and the process that owns it (a child
/// the daemon forks inherits the handler but must not remove its parent's pid file).
/// A NULL path disarms the handler's removal. Returns 0, or -1 with errno ENAMETOOLONG.
int spindle_daemon_set_terminate_pidfile(const char *path, pid_t owner);

/// Unblocks `signo` for the calling thread, so the action installed for it can run.
/// Returns 0, or -1 with errno.
int spindle_daemon_unblock_signal(int signo);

/// Unblocks every signal of the calling thread (before exec, so the program starts clean).
/// Returns 0, or -1 with errno.
int spindle_daemon_unblock_all_signals(void);

/// pipe2(2) with O_CLOEXEC: both ends close on exec. Returns 0, or -1 with errno.
int spindle_daemon_pipe_cloexec(int fds[2]);

/// close_range(2): closes every descriptor from `first` to `last` inclusive.
/// Returns 0, or -1 with errno (ENOSYS on kernels before 5.9).
int spindle_daemon_close_range(unsigned int first, unsigned int last);

/// Writes all `count` bytes of `bytes` to `fd` with SIGPIPE ignored for the duration (a reader
/// that is gone yields EPIPE instead of killing the writer). Retries after EINTR and short
/// writes. Returns 0, or -1 with errno. Meant for a single-threaded process.
int spindle_daemon_write_status(int fd, const void *bytes, size_t count);

#ifdef __cplusplus
}
#endif
#endif
