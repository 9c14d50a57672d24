// The resource tracker of SpindleMultiprocessing (Python's multiprocessing.resource_tracker): a
// small process that removes the shared memory segments a program created and did not unlink,
// once every process that could still unlink them is gone.
#ifndef CSPINDLE_TRACKER_H
#define CSPINDLE_TRACKER_H

#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

/// The longest segment name the tracker accepts (without the leading slash), NAME_MAX.
#define SPINDLE_TRACKER_NAME_MAX 255

/// Starts a tracker. It is double-forked, so that init (or the nearest subreaper) reaps it and
/// this process never holds a zombie of it; its forked side makes only async-signal-safe calls,
/// which makes it safe to start from a multithreaded program.
///
/// The tracker reads messages from a SOCK_SEQPACKET socket: 'R' then a name registers a segment,
/// 'U' then a name unregisters it. When the last process holding the other end of the socket
/// closes it (it exits, however it exits), the tracker unlinks every name still registered,
/// reports each on standard error, and exits.
///
/// On success returns 0, stores this process's end of the socket (close-on-exec) in `*fd` and
/// the tracker's pid in `*pid`; otherwise returns -1 with errno.
int spindle_tracker_start(int *fd, pid_t *pid);

/// Sends one message ('R' or 'U' and the name) to a tracker, as one packet, without SIGPIPE.
/// Returns 0 or -1 with errno (EPIPE or ECONNRESET when the tracker is gone).
int spindle_tracker_send(int fd, char kind, const char *name);

#ifdef __cplusplus
}
#endif
#endif
