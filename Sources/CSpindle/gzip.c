#define _GNU_SOURCE
#include "CSpindleGzip.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <zlib.h>

int spindle_gzip_file(const char *source, const char *target, int level) {
    if (level < 1 || level > 9) {
        errno = EINVAL;
        return -1;
    }
    int in = open(source, O_RDONLY | O_CLOEXEC);
    if (in < 0) return -1;
    int out = open(target, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (out < 0) {
        int saved = errno;
        close(in);
        errno = saved;
        return -1;
    }
    char mode[4] = {'w', 'b', (char)('0' + level), 0};
    gzFile gz = gzdopen(out, mode);  // owns `out` from here on
    if (gz == NULL) {
        int saved = errno ? errno : ENOMEM;
        close(out);
        close(in);
        unlink(target);
        errno = saved;
        return -1;
    }
    enum { chunk = 1 << 16 };
    char *buffer = malloc(chunk);
    int failure = buffer ? 0 : ENOMEM;
    while (!failure) {
        ssize_t n = read(in, buffer, chunk);
        if (n < 0) {
            if (errno == EINTR) continue;
            failure = errno;
            break;
        }
        if (n == 0) break;
        if (gzwrite(gz, buffer, (unsigned)n) != (int)n) {
            int zerr = 0;
            gzerror(gz, &zerr);
            failure = (zerr == Z_ERRNO && errno) ? errno : EIO;
            break;
        }
    }
    free(buffer);
    int closed = gzclose(gz);
    if (!failure && closed != Z_OK) failure = (closed == Z_ERRNO && errno) ? errno : EIO;
    close(in);
    if (failure) {
        unlink(target);
        errno = failure;
        return -1;
    }
    return 0;
}
