// epoll for the supervisor's child watch loop: Swift's Glibc module does not bring in
// <sys/epoll.h>, and its packed epoll_event is clumsy from Swift. Events carry a 64-bit token.
#ifndef CSPINDLE_EPOLL_H
#define CSPINDLE_EPOLL_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/// epoll_create1(EPOLL_CLOEXEC): a descriptor, or -1 with errno.
int spindle_epoll_create(void);

/// Adds `fd` for readability (level-triggered), reporting `token` when it is ready. 0 or -1 with errno.
int spindle_epoll_add(int epfd, int fd, uint64_t token);

/// Removes `fd`. 0 or -1 with errno.
int spindle_epoll_remove(int epfd, int fd);

/// Waits (forever when `timeout_ms` < 0) and writes up to `capacity` ready tokens.
/// Returns how many, or -1 with errno (EINTR included: the caller retries).
int spindle_epoll_wait(int epfd, uint64_t *tokens, int capacity, int timeout_ms);

#ifdef __cplusplus
}
#endif

#endif
