/* rmtree: rm -rf for our own temporary directories (see rmtree.h). */
#define _GNU_SOURCE 1		/* nftw's FTW_DEPTH, FTW_PHYS */
#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <string.h>

#include "rmtree.h"

/* nftw takes no context: the first failure, for the message */
static __thread char failed[512];
static __thread int failed_errno;

static int
rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb, (void)flag, (void)ftw;
	if (remove(path) < 0 && errno != ENOENT && failed_errno == 0) {
		failed_errno = errno;
		snprintf(failed, sizeof failed, "%s", path);
	}
	return 0;	/* go on: remove what can be */
}

int
rmtree(const char *path, struct log_err *e)
{
	failed_errno = 0;
	/* FTW_PHYS: a link is removed, not followed; FTW_DEPTH: contents first */
	if (nftw(path, rm_entry, 16, FTW_DEPTH | FTW_PHYS) < 0 && errno != ENOENT)
		return log_fail_sys(e, EXIT_TEMP, "unable to remove %s", path);
	if (failed_errno) {
		errno = failed_errno;
		return log_fail_sys(e, EXIT_TEMP, "unable to remove %s", failed);
	}
	return 0;
}
