/*
 * atomic: temp, fsync, rename (see atomic.h).  The one place that replaces
 * a file: pgbak-run's local mode (a backup under local_dir) and its
 * metrics_file both come here.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "atomic.h"

#define TRIES 100		/* temporary names tried before giving up */

/* The digits of the next temporary name: different across threads (the
 * serial), processes (the pid) and runs (the clock), so the first is
 * nearly always free; O_EXCL makes sure. */
static void
unique(char *x)
{
	static unsigned serial;
	struct timespec ts;
	unsigned long v;
	char d[8];

	clock_gettime(CLOCK_REALTIME, &ts);
	v = (unsigned long)getpid() * 2654435761UL ^ (unsigned long)ts.tv_nsec ^
	    (unsigned long)__atomic_fetch_add(&serial, 1, __ATOMIC_RELAXED) * 40503UL;
	snprintf(d, sizeof d, "%06lu", v % 1000000);
	memcpy(x, d, 6);
}

/* "dir/name" for a message, without a doubled slash after "/". */
static int
shown(char *buf, size_t n, const char *dir, const char *name)
{
	size_t d = strlen(dir);

	return snprintf(buf, n, "%s%s%s", dir, d && dir[d - 1] == '/' ? "" : "/", name);
}

/* Add "(and unable to remove TMP: why)" to e's message. */
static void
left_behind(struct log_err *e, const char *dir, const char *tmp, int err)
{
	size_t n = strlen(e->msg);
	char path[sizeof e->msg];

	shown(path, sizeof path, dir, tmp);
	snprintf(e->msg + n, sizeof e->msg - n, " (and unable to remove %s: %s)", path,
	    strerror(err));
}

int
atomic_write(int dirfd, const char *dir, const char *name, const char *tmpl, mode_t mode,
    atomic_fill *fill, void *arg, struct log_err *e)
{
	char *tmp = strdup(tmpl), *x = NULL, *p, from[sizeof e->msg], to[sizeof e->msg];
	int fd = -1, i, err;

	if (tmp == NULL)
		return log_fail_sys(e, EXIT_TEMP, "unable to create a temporary file in %s", dir);
	for (p = tmp; (p = strstr(p, "XXXXXX")) != NULL; p++)
		x = p;
	for (i = 0; i < TRIES && fd < 0; i++) {
		if (x)
			unique(x);
		fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
		    0600);
		if (fd < 0 && (errno != EEXIST || x == NULL))
			break;
	}
	if (fd < 0) {
		log_fail_sys(e, EXIT_TEMP, "unable to create a temporary file in %s", dir);
		free(tmp);
		return -1;
	}
	shown(from, sizeof from, dir, tmp);
	if (fill(fd, arg, e) < 0)
		goto drop;
	if (fchmod(fd, mode) < 0 || fsync(fd) < 0) {
		log_fail_sys(e, EXIT_TEMP, "unable to write %s", from);
		goto drop;
	}
	err = close(fd);
	fd = -1;
	if (err < 0) {		/* NFS may tell of a failed write only now */
		log_fail_sys(e, EXIT_TEMP, "unable to write %s", from);
		goto drop;
	}
	if (renameat(dirfd, tmp, dirfd, name) < 0) {
		shown(to, sizeof to, dir, name);
		log_fail_sys(e, EXIT_TEMP, "unable to rename %s to %s", from, to);
		goto drop;
	}
	free(tmp);
	if (fsync(dirfd) < 0) {
		log_fail_sys(e, EXIT_TEMP, "unable to sync the directory %s", dir);
		return 1;
	}
	return 0;
drop:
	if (fd >= 0)
		close(fd);
	if (unlinkat(dirfd, tmp, 0) < 0)
		left_behind(e, dir, tmp, errno);
	free(tmp);
	return -1;
}
