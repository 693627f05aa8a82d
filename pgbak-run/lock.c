/*
 * lock: one pgbak-run of a settings file at a time on this host.
 *
 * The lock is flock(2) on the settings file itself, opened read-only:
 *   - it stands for what must not run twice, the same databases dumped to
 *     the same keys, under whatever path reaches the file (relative, through
 *     a symbolic link, a bind mount);
 *   - it needs only the read access a run has anyway, and no directory to
 *     write in: the systemd unit runs with ProtectSystem=strict and
 *     PrivateTmp, so a lock file in /tmp or /run would be private to the
 *     service and a run started from a shell would never see it;
 *   - the kernel drops it when the process ends, however it ends: no stale
 *     lock to clean up after a SIGKILL or a reboot.
 * Two settings files naming the same bucket and keys (or two hosts) are
 * not caught here: pgbak-put --if-absent keeps the second upload from
 * replacing the first.  A file replaced by rename(2) while a --daemon runs
 * is a new file, with a lock of its own: the daemon keeps the old one.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "log.h"
#include "run.h"

static int lock_fd = -1;	/* held until the process ends, children never get it */

/* The pid holding a flock on st's file, from /proc/locks; 0 when not known.
 * The device is matched when it can be (btrfs shows another st_dev). */
static long
holder(const struct stat *st)
{
	FILE *f = fopen("/proc/locks", "re");
	char line[256], type[16];
	unsigned int maj, min;
	unsigned long long ino;
	long pid, any = 0;

	if (f == NULL)
		return 0;
	while (fgets(line, sizeof line, f) != NULL) {
		/* "1: FLOCK  ADVISORY  WRITE 1234 08:01:5678 0 EOF"; waiters have "->" */
		if (sscanf(line, "%*d: %15s %*s %*s %ld %x:%x:%llu", type, &pid, &maj, &min,
		    &ino) != 5 || strcmp(type, "FLOCK") != 0 || ino != (unsigned long long)st->st_ino)
			continue;
		if (maj == major(st->st_dev) && min == minor(st->st_dev)) {
			any = pid;
			break;
		}
		if (any == 0)
			any = pid;
	}
	fclose(f);
	return any > 0 ? any : 0;
}

int
lock_settings(const char *path, struct log_err *e)
{
	struct stat st;
	char who[32] = "";
	long pid = 0;
	int i;

	if ((lock_fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY)) < 0 ||
	    fstat(lock_fd, &st) < 0) {
		warn_sys("unable to open %s to lock it; running without the lock", path);
		return 0;
	}
	/* the holder may end between the refusal and the look at /proc/locks */
	for (i = 0; i < 3; i++) {
		if (flock(lock_fd, LOCK_EX | LOCK_NB) == 0)
			return 0;
		if (errno != EWOULDBLOCK) {
			warn_sys("unable to lock %s; running without the lock", path);
			return 0;
		}
		if ((pid = holder(&st)) != 0)
			break;
	}
	close(lock_fd);
	lock_fd = -1;
	if (pid != 0)
		snprintf(who, sizeof who, " (pid %ld)", pid);
	return log_fail(e, EXIT_NO, "another pgbak-run%s holds %s; nothing done: one run of "
	    "a settings file at a time", who, path);
}
