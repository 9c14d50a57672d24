#define _GNU_SOURCE
#include "CSpindleMultiprocessing.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

int spindle_mp_socketpair(int fds[2]) {
    return socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds);
}

ssize_t spindle_mp_send(int fd, const void *buffer, size_t count) {
    ssize_t n;
    do {
        n = send(fd, buffer, count, MSG_NOSIGNAL);
    } while (n == -1 && errno == EINTR);
    return n;
}

ssize_t spindle_mp_recv(int fd, void *buffer, size_t count) {
    ssize_t n;
    do {
        n = recv(fd, buffer, count, 0);
    } while (n == -1 && errno == EINTR);
    return n;
}

int spindle_mp_wait_readable(int fd, int timeout_ms) {
    struct pollfd entry;
    entry.fd = fd;
    entry.events = POLLIN;
    entry.revents = 0;
    int rc = poll(&entry, 1, timeout_ms);
    if (rc < 0) return -1;
    return rc > 0 ? 1 : 0;
}

int spindle_mp_shutdown(int fd, int how) {
    int mode = how == 0 ? SHUT_RD : (how == 1 ? SHUT_WR : SHUT_RDWR);
    return shutdown(fd, mode);
}

int spindle_mp_set_parent_death_signal(int signal) {
    return prctl(PR_SET_PDEATHSIG, (unsigned long)signal, 0, 0, 0);
}

int spindle_mp_shm_open(const char *name, int create, int exclusive, mode_t mode) {
    int flags = O_RDWR | O_CLOEXEC;
    if (create) flags |= O_CREAT;
    if (exclusive) flags |= O_EXCL;
    int fd;
    do {
        fd = shm_open(name, flags, mode);
    } while (fd == -1 && errno == EINTR);
    return fd;
}

int spindle_mp_shm_unlink(const char *name) {
    return shm_unlink(name);
}

long long spindle_mp_file_size(int fd) {
    struct stat st;
    if (fstat(fd, &st) != 0) return -1;
    return (long long)st.st_size;
}

int spindle_mp_truncate(int fd, long long size) {
    int rc;
    do {
        rc = ftruncate(fd, (off_t)size);
    } while (rc == -1 && errno == EINTR);
    return rc;
}

void *spindle_mp_map_shared(int fd, size_t size) {
    void *address = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    return address == MAP_FAILED ? NULL : address;
}

int spindle_mp_unmap(void *address, size_t size) {
    return munmap(address, size);
}
