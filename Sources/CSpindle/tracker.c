#define _GNU_SOURCE
#include "CSpindleTracker.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

// Everything below the fork runs in a copy of a multithreaded process, so it only makes
// async-signal-safe calls: no malloc, no stdio, no locks. The table of names lives in memory
// from mmap; a segment is removed with unlink(2) on its file under /dev/shm, which is where
// glibc's shm_open puts it (shm_unlink itself is not on the async-signal-safe list).

#define SLOT (SPINDLE_TRACKER_NAME_MAX + 1)
#define TRACKER_FD 3

struct table {
    char *slots;      // `capacity` slots of SLOT bytes; an empty string is a free slot
    size_t capacity;
    size_t used;      // slots [0, used) have been handed out at some point
};

static void put(const char *text) {
    size_t n = strlen(text);
    while (n > 0) {
        ssize_t written = write(2, text, n);
        if (written < 0) {
            if (errno == EINTR) continue;
            return;
        }
        text += written;
        n -= (size_t)written;
    }
}

static int grow(struct table *table) {
    size_t capacity = table->capacity ? table->capacity * 2 : 64;
    void *fresh = mmap(NULL, capacity * SLOT, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (fresh == MAP_FAILED) return -1;
    if (table->slots) {
        memcpy(fresh, table->slots, table->used * SLOT);
        munmap(table->slots, table->capacity * SLOT);
    }
    table->slots = fresh;
    table->capacity = capacity;
    return 0;
}

static char *find(struct table *table, const char *name) {
    for (size_t i = 0; i < table->used; i++) {
        char *slot = table->slots + i * SLOT;
        if (slot[0] != 0 && strcmp(slot, name) == 0) return slot;
    }
    return NULL;
}

static void add(struct table *table, const char *name) {
    if (find(table, name)) return;
    for (size_t i = 0; i < table->used; i++) {
        char *slot = table->slots + i * SLOT;
        if (slot[0] == 0) {
            strcpy(slot, name);
            return;
        }
    }
    if (table->used == table->capacity && grow(table) != 0) {
        put("spindle resource tracker: out of memory; a segment will not be cleaned up: ");
        put(name);
        put("\n");
        return;
    }
    strcpy(table->slots + table->used * SLOT, name);
    table->used++;
}

// A name shm_open accepts has no slash and is not "." or "..": anything else is ignored, so
// that a message can never make the tracker unlink a file outside /dev/shm.
static int acceptable(const char *name, size_t length) {
    if (length == 0 || length > SPINDLE_TRACKER_NAME_MAX) return 0;
    if (memchr(name, '/', length) || memchr(name, 0, length)) return 0;
    if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0) return 0;
    return 1;
}

static void close_others(void) {
#ifdef SYS_close_range
    if (syscall(SYS_close_range, TRACKER_FD + 1, ~0U, 0) == 0) return;
#endif
    struct rlimit limit;
    long highest = 65536;
    if (getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur != RLIM_INFINITY && limit.rlim_cur < 1048576) {
        highest = (long)limit.rlim_cur;
    }
    for (long fd = TRACKER_FD + 1; fd < highest; fd++) close((int)fd);
}

static void __attribute__((noreturn)) tracker_main(int fd) {
    // Keep standard error for the report, the socket as descriptor 3, nothing else.
    if (fd != TRACKER_FD) {
        if (dup2(fd, TRACKER_FD) < 0) _exit(1);
    } else {
        fcntl(TRACKER_FD, F_SETFD, 0);
    }
    close_others();
    int null = open("/dev/null", O_RDWR);
    if (null >= 0) {
        dup2(null, 0);
        dup2(null, 1);
        if (null > 2 && null != TRACKER_FD) close(null);
    }
    // Interrupts for the program (^C to the process group, a SIGTERM to it) are not for the
    // tracker, which ends when the program has ended. Python's tracker ignores them too.
    struct sigaction ignore;
    memset(&ignore, 0, sizeof ignore);
    ignore.sa_handler = SIG_IGN;
    sigaction(SIGINT, &ignore, NULL);
    sigaction(SIGTERM, &ignore, NULL);
    sigaction(SIGHUP, &ignore, NULL);
    sigaction(SIGPIPE, &ignore, NULL);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);

    struct table table = {NULL, 0, 0};
    char message[SLOT + 1];
    for (;;) {
        ssize_t n = recv(TRACKER_FD, message, sizeof message, 0);
        if (n < 0) {
            if (errno == EINTR) continue;
            break;
        }
        if (n == 0) break;
        if (n < 2) continue;
        size_t length = (size_t)n - 1;
        char name[SLOT];
        if (length > SPINDLE_TRACKER_NAME_MAX) continue;
        memcpy(name, message + 1, length);
        name[length] = 0;
        if (!acceptable(name, length)) continue;
        if (message[0] == 'R') {
            add(&table, name);
        } else if (message[0] == 'U') {
            char *slot = find(&table, name);
            if (slot) slot[0] = 0;
        }
    }
    for (size_t i = 0; i < table.used; i++) {
        char *name = table.slots + i * SLOT;
        if (name[0] == 0) continue;
        char path[sizeof "/dev/shm/" + SLOT];
        memcpy(path, "/dev/shm/", sizeof "/dev/shm/" - 1);
        strcpy(path + sizeof "/dev/shm/" - 1, name);
        if (unlink(path) == 0) {
            put("spindle resource tracker: removed the shared memory '");
            put(name);
            put("' that was not unlinked\n");
        }
    }
    _exit(0);
}

int spindle_tracker_start(int *fd, pid_t *pid) {
    int pair[2];
    if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pair) != 0) return -1;
    int report[2];
    if (pipe2(report, O_CLOEXEC) != 0) {
        int code = errno;
        close(pair[0]);
        close(pair[1]);
        errno = code;
        return -1;
    }
    pid_t first = fork();
    if (first < 0) {
        int code = errno;
        close(pair[0]);
        close(pair[1]);
        close(report[0]);
        close(report[1]);
        errno = code;
        return -1;
    }
    if (first == 0) {
        // The intermediate child: fork the tracker, tell its pid, exit at once.
        close(pair[0]);
        close(report[0]);
        pid_t tracker = fork();
        if (tracker == 0) {
            close(report[1]);
            tracker_main(pair[1]);
        }
        int32_t value = tracker;
        ssize_t written;
        do {
            written = write(report[1], &value, sizeof value);
        } while (written < 0 && errno == EINTR);
        _exit(tracker < 0 ? 1 : 0);
    }
    close(pair[1]);
    close(report[1]);
    int32_t value = -1;
    ssize_t got;
    do {
        got = read(report[0], &value, sizeof value);
    } while (got < 0 && errno == EINTR);
    close(report[0]);
    int status = 0;
    while (waitpid(first, &status, 0) < 0 && errno == EINTR) {}
    if (got != (ssize_t)sizeof value || value <= 0) {
        close(pair[0]);
        errno = ECHILD;
        return -1;
    }
    *fd = pair[0];
    *pid = value;
    return 0;
}

int spindle_tracker_send(int fd, char kind, const char *name) {
    size_t length = strlen(name);
    if (length == 0 || length > SPINDLE_TRACKER_NAME_MAX) {
        errno = ENAMETOOLONG;
        return -1;
    }
    char message[SLOT + 1];
    message[0] = kind;
    memcpy(message + 1, name, length);
    ssize_t n;
    do {
        n = send(fd, message, length + 1, MSG_NOSIGNAL);
    } while (n < 0 && errno == EINTR);
    return n < 0 ? -1 : 0;
}
