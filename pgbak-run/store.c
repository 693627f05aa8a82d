/*
 * store: the three ways to store a backup, and whether it is already there.
 *   stream     pg_dump | pgbak-gzip | pgbak-put -C 3 KEY       (default)
 *   temp file  pg_dump | pgbak-gzip > TEMP; pgbak-put --expected-size N KEY < TEMP
 *   local      pg_dump | pgbak-gzip > LOCAL_DIR/KEY, via a temp name and rename
 */
#define _GNU_SOURCE 1		/* mkostemp */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "atomic.h"
#include "log.h"
#include "run.h"
#include "spawn.h"

/* After SIGTERM, how long pgbak-put may take to abort its upload before it
 * is killed (the other stages get spawn's grace, 5 s). */
#define ABORT_GRACE_MS 30000

/* 1: today's object is there; 0: it is not; -1: cannot tell (reason set). */
int
exists_s3(const struct run_ctx *x, struct run_result *r, double deadline, long timeout)
{
	struct argv argv ARGV_AUTO = { 0 };
	struct spawn_stage st;
	struct spawn_pipe p;
	struct log_err e;

	if (argv_exists(&argv, x, r->key) < 0) {
		set_reason(r, RUN_FAILED, "out of memory");
		return -1;
	}
	s3_stage(x, &st, "pgbak-exists", argv.v);
	pipe_init(x, &p, &st, 1, deadline);
	show_line(r->key, &p, NULL, "");
	if (spawn_run(&p, &e) == 0)
		return 1;
	if (st.status == EXIT_NO && !p.timed_out && !p.cancelled)
		return 0;
	fail_pipe(x, r, &p, &e, timeout);
	return -1;
}

/* spawn's note that pgbak-put is still at work after the grace. */
static void
tell_linger(void *ctx, const struct spawn_stage *s, long ms)
{
	const struct run_result *r = ctx;

	warn("%s: waiting up to %ld s more for %s to abort its upload", r->key,
	    (ms + 999) / 1000, s->name);
}

/* The pgbak-put stage of p: after SIGTERM it aborts its upload, which may
 * take longer than the grace of the others; until ABORT_GRACE_MS. */
static void
may_abort(struct run_result *r, struct spawn_pipe *p, struct spawn_stage *put)
{
	put->linger_ms = ABORT_GRACE_MS;
	p->on_linger = tell_linger;
	p->linger_ctx = r;
}

/* pgbak-put, stage put of p, said "exists; nothing stored" (--if-absent):
 * the database is skipped, not failed; the object is the other run's. */
static int
stored_by_other(const struct run_ctx *x, struct run_result *r, const struct spawn_pipe *p,
    size_t put)
{
	if (x->o->force || p->timed_out || p->cancelled || p->failed != (int)put ||
	    p->st[put].status != EXIT_NO)
		return 0;
	set_reason(r, RUN_SKIPPED, "already exists (stored by another run meanwhile)");
	return 1;
}

void
store_stream(const struct run_ctx *x, struct run_result *r, struct dump *d, double deadline,
    long timeout)
{
	struct argv argv ARGV_AUTO = { 0 };
	struct spawn_stage st[4];
	struct spawn_pipe p;
	struct log_err e;
	size_t put = make_stages(x, d, st);
	int rc;

	if (argv_put(&argv, x, r->key, NULL) < 0) {
		set_reason(r, RUN_FAILED, "out of memory");
		return;
	}
	s3_stage(x, &st[put], "pgbak-put", argv.v);
	st[put].commit_fd = 3;	/* committed after pg_dump, pgbak-gzip and age */
	pipe_init(x, &p, st, put + 1, deadline);
	may_abort(r, &p, &st[put]);
	show_line(r->key, &p, d, "");
	rc = spawn_run(&p, &e);
	stage_bytes(r, d, st);
	if (rc == 0 && st[put].committed) {
		r->state = RUN_OK;
		if (log_verbose)
			tell_stderr(r->key, &p, 1);
		abort_stale(x, r, deadline, timeout);
	} else if (!stored_by_other(x, r, &p, put)) {
		fail_pipe(x, r, &p, &e, timeout);
	}
}

/* pg_dump | pgbak-gzip [| age] > fd, counted into *stored; 0 when every
 * stage exited 0. */
static int
dump_to(const struct run_ctx *x, struct run_result *r, struct dump *d, int fd,
    const char *where, double deadline, long timeout, uint64_t *stored)
{
	struct spawn_stage st[3];
	struct spawn_pipe p;
	struct log_err e;
	char tail[1100];
	size_t n = make_stages(x, d, st);
	int rc;

	pipe_init(x, &p, st, n, deadline);
	p.out_fd = fd;
	p.out_name = where;
	p.count_out = 1;
	snprintf(tail, sizeof tail, " > %s", where);
	show_line(r->key, &p, d, tail);
	rc = spawn_run(&p, &e);
	stage_bytes(r, d, st);
	*stored = st[n - 1].bytes_out;
	if (rc < 0)
		fail_pipe(x, r, &p, &e, timeout);
	else if (log_verbose)
		tell_stderr(r->key, &p, 1);
	return rc;
}

void
store_temp_file(const struct run_ctx *x, struct run_result *r, struct dump *d, double deadline,
    long timeout)
{
	const char *dir = x->c->temp_dir ? x->c->temp_dir : getenv("TMPDIR");
	char size[32], *path = NULL;
	struct argv argv ARGV_AUTO = { 0 };
	struct spawn_stage st;
	struct spawn_pipe p;
	struct log_err e;
	uint64_t stored = 0;
	size_t n;
	int fd;

	if (dir == NULL || *dir == '\0')
		dir = "/tmp";
	n = strlen(dir) + strlen(r->local) + sizeof "/.XXXXXX";
	if ((path = malloc(n)) == NULL) {
		set_reason(r, RUN_FAILED, "out of memory");
		return;
	}
	snprintf(path, n, "%s/%.*s.XXXXXX", dir, TEMP_STEM_MAX, r->local);
	if ((fd = mkostemp(path, O_CLOEXEC)) < 0) {	/* mode 0600 */
		set_reason(r, RUN_FAILED, "unable to create a temporary file in %s: %s", dir,
		    strerror(errno));
		free(path);
		return;
	}
	if (dump_to(x, r, d, fd, path, deadline, timeout, &stored) < 0)
		goto out;
	if (lseek(fd, 0, SEEK_SET) < 0) {
		set_reason(r, RUN_FAILED, "unable to read %s: %s", path, strerror(errno));
		goto out;
	}
	snprintf(size, sizeof size, "%llu", (unsigned long long)stored);
	if (argv_put(&argv, x, r->key, size) < 0) {
		set_reason(r, RUN_FAILED, "out of memory");
		goto out;
	}
	s3_stage(x, &st, "pgbak-put", argv.v);
	st.commit_fd = 3;	/* nothing before it: the commit goes at once */
	pipe_init(x, &p, &st, 1, deadline);
	may_abort(r, &p, &st);
	p.in_fd = fd;
	{
		char tail[1100];

		snprintf(tail, sizeof tail, " < %s", path);
		show_line(r->key, &p, NULL, tail);
	}
	if (spawn_run(&p, &e) == 0 && st.committed) {
		r->state = RUN_OK;
		abort_stale(x, r, deadline, timeout);
	} else if (!stored_by_other(x, r, &p, 0)) {
		fail_pipe(x, r, &p, &e, timeout);
	}
out:
	if (unlink(path) < 0 && errno != ENOENT)
		warn_sys("unable to remove %s", path);
	close(fd);
	free(path);
}

/* mkdir -p for the operator's local_dir (it may climb: the operator wrote it). */
static int
mkdirs(const char *path)
{
	char *p = strdup(path), *s;
	int rc = 0;

	if (p == NULL)
		return -1;
	for (s = p + 1; rc == 0; s++) {
		if (*s != '/' && *s != '\0')
			continue;
		char c = *s;
		*s = '\0';
		if (mkdir(p, 0755) < 0 && errno != EEXIST)
			rc = -1;
		*s = c;
		if (c == '\0')
			break;
	}
	free(p);
	return rc;
}

/*
 * Open the directories of key under dirfd (creating them when create), one
 * component at a time and never through a symbolic link, so the key stays
 * below local_dir.  On failure *bad is the length of key up to the
 * component that failed, and errno is ELOOP when that is a symbolic link
 * (O_DIRECTORY would say ENOTDIR).
 */
static int
open_key_dir(int dirfd, const char *key, int create, const char **base, size_t *bad)
{
	char *k = strdup(key), *s, *comp;
	int fd = dup(dirfd), next;
	struct stat st;

	*bad = 0;
	if (k == NULL || fd < 0) {
		free(k);
		if (fd >= 0)
			close(fd);
		return -1;
	}
	fcntl(fd, F_SETFD, FD_CLOEXEC);
	comp = k;
	while ((s = strchr(comp, '/')) != NULL) {
		*s = '\0';
		*bad = (size_t)(s - k);
		if (*comp && strcmp(comp, ".") != 0) {
			if (strcmp(comp, "..") == 0) {
				errno = EINVAL;
				goto fail;
			}
			if (create && mkdirat(fd, comp, 0755) < 0 && errno != EEXIST)
				goto fail;
			next = openat(fd, comp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			if (next < 0) {
				if (fstatat(fd, comp, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
				    S_ISLNK(st.st_mode))
					errno = ELOOP;
				goto fail;
			}
			close(fd);
			fd = next;
		}
		comp = s + 1;
	}
	*base = key + (comp - k);
	free(k);
	return fd;
fail:
	next = errno;
	close(fd);
	free(k);
	errno = next;
	return -1;
}

/* Today's file in its directory: 1 a regular file, 0 nothing, -1 with errno
 * anything else (ELOOP a symbolic link, which is neither read nor replaced). */
static int
local_final(int dfd, const char *base)
{
	struct stat st;

	if (fstatat(dfd, base, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return errno == ENOENT ? 0 : -1;
	if (S_ISREG(st.st_mode))
		return 1;
	errno = S_ISLNK(st.st_mode) ? ELOOP : S_ISDIR(st.st_mode) ? EISDIR : EEXIST;
	return -1;
}

char *
local_path(const struct run_ctx *x, const char *key)
{
	const char *dir = x->c->local_dir ? x->c->local_dir : "./backups";
	size_t n = strlen(dir) + strlen(key) + 2;
	char *p = malloc(n);

	if (p)
		snprintf(p, n, "%s/%s", dir, key);
	return p;
}

/* Why local_dir/key (its first len bytes) cannot be used, into r. */
static void
local_refused(const struct run_ctx *x, struct run_result *r, size_t len, int err)
{
	const char *dir = x->c->local_dir ? x->c->local_dir : "./backups";

	if (err == ELOOP)
		set_reason(r, RUN_FAILED, "%s/%.*s is a symbolic link: none is followed below "
		    "local_dir", dir, (int)len, r->key);
	else
		set_reason(r, RUN_FAILED, "unable to use %s/%.*s: %s", dir, (int)len, r->key,
		    strerror(err));
}

/*
 * Whether today's file is under local_dir: 1 yes, 0 no, -1 cannot tell
 * (reason set).  It walks the key the way store_local() writes it, so the two
 * agree: a symbolic link below local_dir fails the database, with -f or
 * without, instead of a skip for what lies behind it.
 */
int
exists_local(const struct run_ctx *x, struct run_result *r)
{
	const char *dir = x->c->local_dir ? x->c->local_dir : "./backups", *base;
	int top, dfd, have;
	size_t bad;

	if ((top = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
		if (errno == ENOENT)
			return 0;
		set_reason(r, RUN_FAILED, "unable to open %s: %s", dir, strerror(errno));
		return -1;
	}
	dfd = open_key_dir(top, r->key, 0, &base, &bad);
	close(top);
	if (dfd < 0 && errno == ENOENT)
		return 0;
	if (dfd < 0) {
		local_refused(x, r, bad, errno);
		return -1;
	}
	if ((have = local_final(dfd, base)) < 0)
		local_refused(x, r, strlen(r->key), errno);
	close(dfd);
	return have;
}

/* What local_fill runs. */
struct local_job {
	const struct run_ctx *x;
	struct run_result *r;
	struct dump *d;
	const char *dest;
	double deadline;
	long timeout;
};

/* atomic_write's fill: the pipeline into the temporary file; its failure's
 * reason is r's. */
static int
local_fill(int fd, void *arg, struct log_err *e)
{
	struct local_job *j = arg;
	uint64_t stored;

	if (dump_to(j->x, j->r, j->d, fd, j->dest, j->deadline, j->timeout, &stored) < 0)
		return log_fail(e, EXIT_TEMP, "%s", j->r->reason);
	return 0;
}

void
store_local(const struct run_ctx *x, struct run_result *r, struct dump *d, double deadline,
    long timeout)
{
	const char *dir = x->c->local_dir ? x->c->local_dir : "./backups", *base;
	char tmpl[512], *dest = local_path(x, r->key), *where = NULL;
	struct local_job j = { x, r, d, dest, deadline, timeout };
	int top = -1, dfd = -1, rc;
	struct log_err e;
	size_t bad;

	if (dest == NULL) {
		set_reason(r, RUN_FAILED, "out of memory");
		return;
	}
	if (mkdirs(dir) < 0 || (top = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
		set_reason(r, RUN_FAILED, "unable to create %s: %s", dir, strerror(errno));
		goto out;
	}
	if ((dfd = open_key_dir(top, r->key, 1, &base, &bad)) < 0) {
		local_refused(x, r, bad, errno);
		goto out;
	}
	if (local_final(dfd, base) < 0) {	/* -f: what the check refuses, too */
		local_refused(x, r, strlen(r->key), errno);
		goto out;
	}
	/* the directory as messages show it: dest without "/BASE" */
	if ((where = strndup(dest, strlen(dest) - strlen(base) - 1)) == NULL) {
		set_reason(r, RUN_FAILED, "out of memory");
		goto out;
	}
	snprintf(tmpl, sizeof tmpl, ".%.*s.%ld.XXXXXX.tmp", TEMP_STEM_MAX, base, (long)getpid());
	rc = atomic_write(dfd, where, base, tmpl, 0600, local_fill, &j, &e);
	if (rc < 0)
		set_reason(r, RUN_FAILED, "%s", e.msg);
	else
		r->state = RUN_OK;
	if (rc > 0)
		warn("%s", e.msg);
out:
	if (dfd >= 0)
		close(dfd);
	if (top >= 0)
		close(top);
	free(where);
	free(dest);
}
