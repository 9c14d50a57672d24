// Shims for SpindleMultiprocessing: the socket pair of a connection, a send that cannot raise
// SIGPIPE, the parent-death signal of a daemon worker (prctl is variadic, so Swift cannot call it)
// and POSIX shared memory.
#ifndef CSPINDLE_MULTIPROCESSING_H
#define CSPINDLE_MULTIPROCESSING_H

#include <stddef.h>
#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

/// socketpair(2) of connected AF_UNIX stream sockets, both close-on-exec. Returns 0 or -1 with errno.
int spindle_mp_socketpair(int fds[2]);

/// send(2) with MSG_NOSIGNAL, retried on EINTR: a peer that is gone is EPIPE, never SIGPIPE.
/// Returns the bytes sent or -1 with errno.
ssize_t spindle_mp_send(int fd, const void *buffer, size_t count);

/// recv(2), retried on EINTR. Returns the bytes read (0 at end of stream) or -1 with errno.
ssize_t spindle_mp_recv(int fd, void *buffer, size_t count);

/// Waits until `fd` is readable (or at its end, or in error) for at most `timeout_ms`
/// milliseconds (-1: no limit). Returns 1 when readable, 0 on timeout, -1 with errno (EINTR
/// is returned to the caller, which knows its deadline).
int spindle_mp_wait_readable(int fd, int timeout_ms);

/// shutdown(2) of both directions (`how` 2), reading (0) or writing (1). Returns 0 or -1 with errno.
int spindle_mp_shutdown(int fd, int how);

/// prctl(PR_SET_PDEATHSIG, signal): the calling process gets `signal` when the thread that
/// created it ends. Returns 0 or -1 with errno.
int spindle_mp_set_parent_death_signal(int signal);

/// shm_open(3) with O_CLOEXEC added. Returns a descriptor or -1 with errno.
int spindle_mp_shm_open(const char *name, int create, int exclusive, mode_t mode);

/// shm_unlink(3). Returns 0 or -1 with errno.
int spindle_mp_shm_unlink(const char *name);

/// The size of the file behind `fd` (fstat), or -1 with errno.
long long spindle_mp_file_size(int fd);

/// ftruncate(2), retried on EINTR. Returns 0 or -1 with errno.
int spindle_mp_truncate(int fd, long long size);

/// mmap(2) of `size` bytes of `fd`, shared, readable and writable. Returns the address or NULL with errno.
void *spindle_mp_map_shared(int fd, size_t size);

/// munmap(2). Returns 0 or -1 with errno.
int spindle_mp_unmap(void *address, size_t size);

#ifdef __cplusplus
}
#endif
#endif
