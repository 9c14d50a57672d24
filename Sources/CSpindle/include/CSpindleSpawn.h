// Process creation for SpindleSubprocess: everything between fork and exec happens here, in
// async-signal-safe C, because Swift may allocate or take locks at any point.
#ifndef CSPINDLE_SPAWN_H
#define CSPINDLE_SPAWN_H

#include <stdint.h>
#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

/// One descriptor the child gets: `source` (a parent descriptor) becomes `target` in the child.
struct spindle_spawn_fd {
    int source;
    int target;
};

/// What to start and how.
struct spindle_spawn_config {
    /// Candidate executable paths, tried in order (a PATH search done by the caller). A candidate
    /// that fails with ENOENT, ENOTDIR, EACCES or ELOOP is skipped for the next; the first error
    /// that is not one of those stops the search.
    const char *const *paths;
    int path_count;
    char *const *argv;
    /// The environment, or NULL to inherit the parent's.
    char *const *envp;
    const struct spindle_spawn_fd *fds;
    int fd_count;
    /// Descriptors kept open in the child under their own numbers (Python's pass_fds).
    const int *keep_fds;
    int keep_count;
    /// Close every other descriptor above 2 (Python's close_fds).
    int close_fds;
    /// The working directory, or NULL.
    const char *cwd;
    int new_session;
    /// The process group to join (0: a new group led by the child), or -1 to keep the parent's.
    int process_group;
    /// Reset SIGPIPE and SIGXFSZ to their defaults and unblock every signal in the child.
    int restore_signals;
    int set_umask;
    mode_t umask_value;
    int set_gid;
    gid_t gid;
    int set_groups;
    const gid_t *groups;
    int group_count;
    int set_uid;
    uid_t uid;
    /// Non-zero: the child starts in the cgroup v2 whose directory `cgroup_dir_fd` is open, so
    /// that nothing it becomes can start outside it. The child is created there
    /// (clone3's CLONE_INTO_CGROUP, Linux 5.7); on a kernel without it, it writes "0" to the
    /// cgroup's cgroup.procs before it does anything else (a migration, which takes the kernel's
    /// cgroup write lock: milliseconds).
    int join_cgroup;
    int cgroup_dir_fd;
};

/// The steps of starting a child, reported with the errno of the one that failed.
enum spindle_spawn_step {
    SPINDLE_STEP_NONE = 0,
    SPINDLE_STEP_FDS = 1,
    SPINDLE_STEP_CHDIR = 2,
    SPINDLE_STEP_SIGNALS = 3,
    SPINDLE_STEP_SETSID = 4,
    SPINDLE_STEP_SETPGID = 5,
    SPINDLE_STEP_SETGROUPS = 6,
    SPINDLE_STEP_SETGID = 7,
    SPINDLE_STEP_SETUID = 8,
    SPINDLE_STEP_CLOSE_FDS = 9,
    SPINDLE_STEP_EXEC = 10,
    SPINDLE_STEP_FORK = 11,
    SPINDLE_STEP_CGROUP = 12,
};

struct spindle_spawn_result {
    pid_t pid;
    /// A pidfd for the child (close-on-exec), or -1 where the kernel has none.
    int pidfd;
    /// 0 on success, else the errno of the failed step.
    int error;
    int step;
    /// For SPINDLE_STEP_EXEC: which candidate path failed.
    int failed_path;
};

/// Starts a child as `config` says. On success the child runs and `result->pid` is set; on
/// failure nothing is left behind (the failed child is reaped) and `result` names the step.
/// Returns 0 or -1.
int spindle_spawn(const struct spindle_spawn_config *config, struct spindle_spawn_result *result);

/// waitpid(2) for `pid`; returns the pid, 0 (WNOHANG and still running) or -1 with errno.
/// `*status_out` gets the exit code, or minus the signal number when a signal ended the child.
pid_t spindle_wait_child(pid_t pid, int nohang, int *status_out);

/// Sends `signal` through the pidfd when there is one (no risk of hitting a recycled pid), else kill(2).
int spindle_send_signal(int pidfd, pid_t pid, int signal);

/// write(2) that turns a closed pipe into EPIPE without raising SIGPIPE in the process: SIGPIPE
/// is blocked in the calling thread for the call and a SIGPIPE it caused is consumed.
/// Returns the bytes written or -1 with errno.
ssize_t spindle_write_nosigpipe(int fd, const void *buffer, size_t count);

/// pipe2(2) with O_CLOEXEC (glibc hides pipe2 from Swift). Returns 0 or -1 with errno.
int spindle_pipe_cloexec(int fds[2]);

/// Opens a pidfd for `pid`, or returns -1.
int spindle_pidfd_open(pid_t pid);

#ifdef __cplusplus
}
#endif
#endif
