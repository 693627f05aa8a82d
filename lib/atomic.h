/*
 * atomic: replace a file so that a reader sees the old content or the new,
 * never a part, and a crash leaves one of the two, as skalibs'
 * openwritenclose_suffix_sync does: write a temporary name in the same
 * directory, fsync it, rename it over the name, fsync the directory.
 */
#ifndef PGBAK_ATOMIC_H
#define PGBAK_ATOMIC_H

#include <sys/types.h>

#include "log.h"

/* Write the new content to fd, the temporary file open for writing:
 * 0, or -1 with e. */
typedef int atomic_fill(int fd, void *arg, struct log_err *e);

/*
 * Replace name in the directory dirfd (dir: how messages show that
 * directory) with what fill(fd, arg, e) writes.  The temporary name is
 * tmpl with its last "XXXXXX" replaced by digits until a name is free; it
 * is created with O_EXCL and O_NOFOLLOW, so that nothing already there (a
 * link another user planted) is written through.  The file gets mode,
 * whatever the umask, before it is synced.
 *
 * 0: name holds the new content.  1: the same, but the directory could not
 * be synced, so a crash may still forget the rename (e says so).  -1: name
 * is as it was and the temporary file removed; e says why (fill's message
 * when fill failed), and names the temporary file if it could not be
 * removed.
 */
int atomic_write(int dirfd, const char *dir, const char *name, const char *tmpl, mode_t mode,
    atomic_fill *fill, void *arg, struct log_err *e);

#endif
