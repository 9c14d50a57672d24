#define _GNU_SOURCE
#include "CSpindleSpawn.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <pthread.h>
#include <unistd.h>

extern char **environ;

#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif
#ifndef SYS_pidfd_send_signal
#define SYS_pidfd_send_signal 424
#endif
#ifndef SYS_close_range
#define SYS_close_range 436
#endif
#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif
#ifndef SYS_clone3
#define SYS_clone3 435
#endif
#ifndef CLONE_INTO_CGROUP
#define CLONE_INTO_CGROUP 0x200000000ULL
#endif

/// clone3's argument (linux/sched.h's struct clone_args, up to the cgroup field: version 2).
struct spindle_clone_args {
    uint64_t flags;
    uint64_t pidfd;
    uint64_t child_tid;
    uint64_t parent_tid;
    uint64_t exit_signal;
    uint64_t stack;
    uint64_t stack_size;
    uint64_t tls;
    uint64_t set_tid;
    uint64_t set_tid_size;
    uint64_t cgroup;
};

/// clone3's arguments for a child created in the cgroup `dir_fd` is open on (no migration
/// afterwards, so no cgroup write lock), with `flags` besides.
static struct spindle_clone_args into_cgroup_args(int dir_fd, uint64_t flags) {
    struct spindle_clone_args args;
    memset(&args, 0, sizeof args);
    args.flags = CLONE_INTO_CGROUP | flags;
    args.exit_signal = SIGCHLD;
    args.cgroup = (uint64_t)dir_fd;
    return args;
}

/// After clone3 into a cgroup failed with `err`: the cgroup's cgroup.procs, opened for the child
/// to join by writing to it, when the failure means a kernel without clone3 or
/// CLONE_INTO_CGROUP (before 5.7); else -1 (errno kept: the spawn fails at the cgroup step).
static int procs_for_old_kernel(int err, int dir_fd) {
    if (err != ENOSYS && err != E2BIG && err != EINVAL) {
        errno = err;
        return -1;
    }
    return openat(dir_fd, "cgroup.procs", O_WRONLY | O_CLOEXEC);
}

/// A fork whose child starts in the cgroup `dir_fd` is open on. Returns the pid in the parent,
/// 0 in the child, -1 with errno.
///
/// A raw system call, so glibc's fork bookkeeping (atfork handlers, the child's thread id)
/// does not run: the child only calls async-signal-safe code before it execs.
static pid_t fork_into_cgroup(int dir_fd) {
    struct spindle_clone_args args = into_cgroup_args(dir_fd, 0);
    return (pid_t)syscall(SYS_clone3, &args, sizeof args);
}

static int retry_dup_high(int fd, int floor) {
    int copy;
    do {
        copy = fcntl(fd, F_DUPFD_CLOEXEC, floor);
    } while (copy == -1 && errno == EINTR);
    return copy;
}

static int clear_cloexec(int fd) {
    int flags = fcntl(fd, F_GETFD);
    if (flags == -1) return -1;
    if (flags & FD_CLOEXEC) return fcntl(fd, F_SETFD, flags & ~FD_CLOEXEC);
    return 0;
}

/// Marks every descriptor from 3 up close-on-exec.
static int cloexec_from_3(void) {
    if (syscall(SYS_close_range, 3, ~0U, CLOSE_RANGE_CLOEXEC) == 0) return 0;
    struct rlimit limit;
    long max = 65536;
    if (getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur != RLIM_INFINITY && (long)limit.rlim_cur < max) {
        max = (long)limit.rlim_cur;
    }
    for (long fd = 3; fd < max; fd++) {
        int flags = fcntl((int)fd, F_GETFD);
        if (flags != -1 && !(flags & FD_CLOEXEC)) fcntl((int)fd, F_SETFD, flags | FD_CLOEXEC);
    }
    return 0;
}

/// The child's side, between fork and exec. Never returns.
/// `report_fd` is -1 under vfork (the failure lands in the parent's `r` directly); under fork
/// it is the pipe the failure is written to. `procs_fd`, when not -1, is a cgroup.procs the
/// child joins first (a kernel without CLONE_INTO_CGROUP).
__attribute__((noreturn)) static void child_exec(const struct spindle_spawn_config *c,
                                                 struct spindle_spawn_result *r,
                                                 const sigset_t *parent_mask,
                                                 int report_fd, int procs_fd) {
    int step = SPINDLE_STEP_FDS;
    int i;

    // Signal handlers of the parent must not run in the child (it shares the parent's memory
    // under vfork): every caught signal goes back to its default.
    for (int sig = 1; sig < NSIG; sig++) {
        struct sigaction action;
        if (sig == SIGKILL || sig == SIGSTOP) continue;
        if (sigaction(sig, NULL, &action) != 0) continue;
        int ignored = action.sa_handler == SIG_IGN && !(action.sa_flags & SA_SIGINFO);
        int restore = c->restore_signals && (sig == SIGPIPE || sig == SIGXFSZ);
        if ((action.sa_handler != SIG_DFL && !ignored) || (ignored && restore)) {
            memset(&action, 0, sizeof action);
            action.sa_handler = SIG_DFL;
            sigaction(sig, &action, NULL);
        }
    }

    // The cgroup first, so that nothing the child becomes can escape it.
    step = SPINDLE_STEP_CGROUP;
    if (procs_fd >= 0) {
        ssize_t written;
        do {
            written = write(procs_fd, "0", 1);
        } while (written == -1 && errno == EINTR);
        if (written != 1) goto fail;
    }

    step = SPINDLE_STEP_FDS;
    // Descriptors: first copy every source above all targets, so that no dup2 can overwrite a
    // source still to be used, then put the copies in place (dup2 clears close-on-exec).
    int floor = 3;
    for (i = 0; i < c->fd_count; i++) {
        if (c->fds[i].target >= floor) floor = c->fds[i].target + 1;
    }
    if (report_fd >= 0 && report_fd < floor) {
        int moved = retry_dup_high(report_fd, floor);
        if (moved == -1) goto fail;
        report_fd = moved;
    }
    int copies[64];
    if (c->fd_count > 64) {
        errno = EINVAL;
        goto fail;
    }
    for (i = 0; i < c->fd_count; i++) {
        copies[i] = retry_dup_high(c->fds[i].source, floor);
        if (copies[i] == -1) goto fail;
    }
    for (i = 0; i < c->fd_count; i++) {
        int rc;
        do {
            rc = dup2(copies[i], c->fds[i].target);
        } while (rc == -1 && errno == EINTR);
        if (rc == -1) goto fail;
    }
    for (i = 0; i < c->fd_count; i++) close(copies[i]);

    step = SPINDLE_STEP_CHDIR;
    if (c->cwd && chdir(c->cwd) != 0) goto fail;

    if (c->set_umask) umask(c->umask_value);

    step = SPINDLE_STEP_SETSID;
    if (c->new_session && setsid() == -1) goto fail;

    step = SPINDLE_STEP_SETPGID;
    if (c->process_group >= 0 && setpgid(0, c->process_group) != 0) goto fail;

    // Credentials through raw system calls: glibc's wrappers would signal the parent's threads.
    step = SPINDLE_STEP_SETGROUPS;
    if (c->set_groups && syscall(SYS_setgroups, (size_t)c->group_count, c->groups) != 0) goto fail;
    step = SPINDLE_STEP_SETGID;
    if (c->set_gid && syscall(SYS_setresgid, c->gid, c->gid, c->gid) != 0) goto fail;
    step = SPINDLE_STEP_SETUID;
    if (c->set_uid && syscall(SYS_setresuid, c->uid, c->uid, c->uid) != 0) goto fail;

    step = SPINDLE_STEP_CLOSE_FDS;
    if (c->close_fds) {
        cloexec_from_3();
        for (i = 0; i < c->keep_count; i++) {
            if (clear_cloexec(c->keep_fds[i]) != 0) goto fail;
        }
    } else {
        for (i = 0; i < c->keep_count; i++) clear_cloexec(c->keep_fds[i]);
    }

    step = SPINDLE_STEP_SIGNALS;
    if (c->restore_signals) {
        sigset_t empty;
        sigemptyset(&empty);
        sigprocmask(SIG_SETMASK, &empty, NULL);
    } else {
        sigprocmask(SIG_SETMASK, parent_mask, NULL);
    }

    step = SPINDLE_STEP_EXEC;
    char *const *envp = c->envp ? c->envp : environ;
    int saved = ENOENT;
    for (i = 0; i < c->path_count; i++) {
        execve(c->paths[i], c->argv, envp);
        saved = errno;
        r->failed_path = i;
        if (saved != ENOENT && saved != ENOTDIR && saved != EACCES && saved != ELOOP) break;
    }
    errno = saved;

fail:
    r->error = errno ? errno : EINVAL;
    r->step = step;
    if (report_fd >= 0) {
        ssize_t ignored = write(report_fd, r, sizeof *r);
        (void)ignored;
    }
    _exit(127);
}

#if defined(__x86_64__)
/// What the child of `vfork_into_cgroup` runs with.
struct vfork_child {
    const struct spindle_spawn_config *config;
    struct spindle_spawn_result *result;
    const sigset_t *parent_mask;
};

/// The child's entry on its own stack. Never returns.
__attribute__((noreturn, used)) static void vfork_child_entry(struct vfork_child *child) {
    child_exec(child->config, child->result, child->parent_mask, -1, -1);
}

/// vfork into a cgroup: clone3 with CLONE_VM | CLONE_VFORK | CLONE_INTO_CGROUP. The parent is
/// suspended until the child execs or exits, as under vfork, and the child shares its memory
/// (it reports a failure straight into `result`), but runs on a stack of its own: `stack`,
/// `size` bytes (16-byte aligned at the top). The system call is made in assembly because the
/// child starts on that stack with no frame to return to; it calls the entry at once.
/// Returns the pid in the parent, or -1 with errno.
static pid_t vfork_into_cgroup(int dir_fd, void *stack, size_t size, struct vfork_child *child) {
    struct spindle_clone_args args = into_cgroup_args(dir_fd, CLONE_VM | CLONE_VFORK);
    args.stack = (uint64_t)(uintptr_t)stack;
    args.stack_size = size;
    long ret;
    register void (*entry)(struct vfork_child *) __asm__("r12") = vfork_child_entry;
    register struct vfork_child *argument __asm__("r13") = child;
    __asm__ volatile(
        "syscall\n\t"
        "test %%rax, %%rax\n\t"
        "jnz 1f\n\t"
        // The child: a fresh stack, no frame above; the entry never returns.
        "xor %%ebp, %%ebp\n\t"
        "mov %%r13, %%rdi\n\t"
        "call *%%r12\n\t"
        "ud2\n\t"
        "1:\n\t"
        : "=a"(ret)
        : "0"((long)SYS_clone3), "D"(&args), "S"(sizeof args), "r"(entry), "r"(argument)
        : "rcx", "r11", "memory");
    if (ret < 0) {
        errno = (int)-ret;
        return -1;
    }
    return (pid_t)ret;
}
#endif

int spindle_spawn(const struct spindle_spawn_config *config, struct spindle_spawn_result *result) {
    result->pid = -1;
    result->pidfd = -1;
    result->error = 0;
    result->step = SPINDLE_STEP_NONE;
    result->failed_path = -1;

    sigset_t all, parent_mask;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &parent_mask);

    // vfork shares memory with the parent until exec, so the child reports a failure straight
    // into `result`. Changing credentials in a vfork child is unsafe with glibc's thread
    // bookkeeping, so those use fork (and report through a pipe). A child created in a cgroup
    // is vforked there on x86-64 and forked there elsewhere.
    int use_fork = config->set_uid || config->set_gid || config->set_groups;
#if !defined(__x86_64__)
    use_fork = use_fork || config->join_cgroup;
#endif
    pid_t pid = -1;
    int report[2] = {-1, -1};
    int procs_fd = -1;
    int failed_step = SPINDLE_STEP_FORK;
    if (use_fork) {
        if (pipe2(report, O_CLOEXEC) != 0) {
            result->error = errno;
            result->step = SPINDLE_STEP_FORK;
            pthread_sigmask(SIG_SETMASK, &parent_mask, NULL);
            return -1;
        }
        if (config->join_cgroup) {
            pid = fork_into_cgroup(config->cgroup_dir_fd);
            if (pid == -1) {
                // An old kernel: fork, and join in the child.
                procs_fd = procs_for_old_kernel(errno, config->cgroup_dir_fd);
                if (procs_fd >= 0) pid = fork();
            }
            if (pid == -1) failed_step = SPINDLE_STEP_CGROUP;
        } else {
            pid = fork();
        }
        if (pid == 0) {
            close(report[0]);
            struct spindle_spawn_result local = *result;
            child_exec(config, &local, &parent_mask, report[1], procs_fd);
        }
    } else if (config->join_cgroup) {
#if defined(__x86_64__)
        size_t size = 64 * 1024;
        void *stack = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
        if (stack == MAP_FAILED) {
            pid = -1;
        } else {
            struct vfork_child child = {config, result, &parent_mask};
            pid = vfork_into_cgroup(config->cgroup_dir_fd, stack, size, &child);
            int saved = errno;
            munmap(stack, size);
            errno = saved;
            if (pid == -1) {
                // An old kernel: vfork, and join in the child.
                procs_fd = procs_for_old_kernel(errno, config->cgroup_dir_fd);
                if (procs_fd >= 0) {
                    pid = vfork();
                    if (pid == 0) child_exec(config, result, &parent_mask, -1, procs_fd);
                }
            }
        }
        if (pid == -1) failed_step = SPINDLE_STEP_CGROUP;
#endif
    } else {
        pid = vfork();
        if (pid == 0) child_exec(config, result, &parent_mask, -1, -1);
    }
    int fork_errno = errno;
    pthread_sigmask(SIG_SETMASK, &parent_mask, NULL);
    if (procs_fd >= 0) close(procs_fd);

    if (pid < 0) {
        if (report[0] != -1) { close(report[0]); close(report[1]); }
        result->error = fork_errno;
        result->step = failed_step;
        return -1;
    }
    if (use_fork) {
        close(report[1]);
        struct spindle_spawn_result child_report;
        ssize_t n;
        do {
            n = read(report[0], &child_report, sizeof child_report);
        } while (n == -1 && errno == EINTR);
        close(report[0]);
        if (n == (ssize_t)sizeof child_report) {
            result->error = child_report.error;
            result->step = child_report.step;
            result->failed_path = child_report.failed_path;
        }
    }
    if (result->error != 0) {
        int status;
        while (waitpid(pid, &status, 0) == -1 && errno == EINTR) {}
        return -1;
    }
    result->pid = pid;
    result->pidfd = spindle_pidfd_open(pid);
    return 0;
}

pid_t spindle_wait_child(pid_t pid, int nohang, int *status_out) {
    int status = 0;
    pid_t rc;
    do {
        rc = waitpid(pid, &status, nohang ? WNOHANG : 0);
    } while (rc == -1 && errno == EINTR);
    if (rc > 0) {
        if (WIFEXITED(status)) *status_out = WEXITSTATUS(status);
        else if (WIFSIGNALED(status)) *status_out = -WTERMSIG(status);
        else *status_out = 0;
    }
    return rc;
}

int spindle_send_signal(int pidfd, pid_t pid, int signal) {
    if (pidfd >= 0) {
        long rc = syscall(SYS_pidfd_send_signal, pidfd, signal, NULL, 0);
        if (rc == 0 || errno != ENOSYS) return (int)rc;
    }
    return kill(pid, signal);
}

ssize_t spindle_write_nosigpipe(int fd, const void *buffer, size_t count) {
    sigset_t pipe_only, old, pending;
    sigemptyset(&pipe_only);
    sigaddset(&pipe_only, SIGPIPE);
    sigpending(&pending);
    int already_pending = sigismember(&pending, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &pipe_only, &old);
    ssize_t n;
    do {
        n = write(fd, buffer, count);
    } while (n == -1 && errno == EINTR);
    int saved = errno;
    if (n == -1 && saved == EPIPE && !already_pending) {
        struct timespec zero = {0, 0};
        while (sigtimedwait(&pipe_only, NULL, &zero) == -1 && errno == EINTR) {}
    }
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    errno = saved;
    return n;
}

int spindle_pipe_cloexec(int fds[2]) {
    return pipe2(fds, O_CLOEXEC);
}

int spindle_pidfd_open(pid_t pid) {
    long fd = syscall(SYS_pidfd_open, pid, 0);
    return fd < 0 ? -1 : (int)fd;
}
