// gzip compression of whole files for spindled's rotated logs (`*_logfile_compress`), on zlib.
#ifndef CSPINDLE_GZIP_H
#define CSPINDLE_GZIP_H

#ifdef __cplusplus
extern "C" {
#endif

/// Compresses the file `source` into a new gzip file `target` (created with mode 0644,
/// truncated if it exists; readable by `gzip -d` and `zcat`) at zlib `level` (1-9).
/// `source` is left in place. Returns 0, or -1 with errno set (EIO when zlib failed without
/// one); a failed `target` is removed.
int spindle_gzip_file(const char *source, const char *target, int level);

#ifdef __cplusplus
}
#endif
#endif
