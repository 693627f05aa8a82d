/*
 * job: one database's backup, from "does today's object exist" to the last
 * byte stored.  Three ways to store it:
 *   stream     pg_dump | pgbak-gzip | pgbak-put -C 3 KEY       (default)
 *   temp file  pg_dump | pgbak-gzip > TEMP; pgbak-put --expected-size N KEY < TEMP
 *   local      pg_dump | pgbak-gzip > LOCAL_DIR/KEY, via a temp name and rename
 * In every way pg_dump's and pgbak-gzip's exit statuses decide: the upload
 * is committed (or the file renamed into place) only when both exited 0.
 * With encrypt, an age stage follows pgbak-gzip and its status decides too.
 * A database with globals: true has a second job, the same with
 * pg_dumpall --globals-only in place of pg_dump, into its own object.
 * With verify on, pgbak-verify then reads the stored backup back.
 */
#define _GNU_SOURCE 1		/* mkostemp */
#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "atomic.h"
#include "keep.h"
#include "log.h"
#include "name.h"
#include "run.h"
#include "s3cfg.h"
#include "s3.h"
#include "spawn.h"

extern char **environ;

enum { DUMP, GZIP };

/*
 * A temporary name holds at most this many bytes of the backup's name:
 * lib/name lets a name reach NAME_MAX (255), and the unique tail a
 * temporary name adds (".PID.N.tmp", ".XXXXXX") must still fit, else a name
 * that pgbak-name accepts could not be written.  The tail, not the stem,
 * makes it unique.
 */
#define TEMP_STEM_MAX 200
/* After SIGTERM, how long pgbak-put may take to abort its upload before it
 * is killed (the other stages get spawn's grace, 5 s). */
#define ABORT_GRACE_MS 30000

/* One database's pg_dump (or pg_dumpall), pgbak-gzip and age, ready to run. */
struct dump {
	const char *name;	/* "pg_dump" or "pg_dumpall" */
	struct argv argv, gz_argv;	/* argv.c's */
	struct argv age_argv;	/* v NULL: no encryption */
	char **env;		/* pg_dump's: env_bare plus PGPASSWORD */
	char *pw;		/* "PGPASSWORD=...", wiped when done */
	int has_pw;		/* show PGPASSWORD=*** */
};

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static long
timeout_of(const struct conf *c, const struct conf_db *db)
{
	return db->timeout > 0 ? db->timeout : c->timeout > 0 ? c->timeout : 1800;
}

/*
 * What the children are handed besides argv: the environments of env.c
 * and, for the S3 children, the s3 section as loaded (conf_s3_fd), checked
 * here as they will read it.  Under --daemon a reload builds a new set
 * before it drops the old one, so a pass never mixes two settings.
 */
int
job_env(struct run_ctx *x, struct log_err *e)
{
	x->settings_fd = -1;
	x->env = env_for(environ, x->c, ENV_S3);
	x->env_bare = env_for(environ, x->c, ENV_BARE);
	if (x->env == NULL || x->env_bare == NULL) {
		job_env_free(x);
		return log_fail(e, EXIT_TEMP, "out of memory");
	}
	if (x->o->dry_run || !x->c->enable || !x->c->s3.enable)
		return 0;	/* no S3 child runs: -n only shows their argv */
	if ((s3_cfg_check(x->c, e) < 0 ||
	    (x->settings_fd = conf_s3_fd(x->c, e)) < 0)) {
		job_env_free(x);
		return -1;
	}
	return 0;
}

void
job_env_free(struct run_ctx *x)
{
	free(x->env);
	free(x->env_bare);
	x->env = x->env_bare = NULL;
	if (x->settings_fd >= 0)
		close(x->settings_fd);
	x->settings_fd = -1;
}

static void
dump_release(struct dump *d)
{
	if (d->pw) {
		OPENSSL_cleanse(d->pw, strlen(d->pw));
		free(d->pw);
	}
	free(d->env);
	argv_free(&d->argv);
	argv_free(&d->gz_argv);
	argv_free(&d->age_argv);
	memset(d, 0, sizeof *d);
}

/* pg_dump (or pg_dumpall) | pgbak-gzip [| age], their argv from argv.c;
 * the password in pg_dump's environment alone. */
static int
dump_prepare(const struct run_ctx *x, const struct conf_db *db, int globals, struct dump *d)
{
	char *inherited = NULL, **ev;	/* PGPASSWORD=... of our environment */
	size_t n = 0, k;

	memset(d, 0, sizeof *d);
	for (ev = environ; *ev; ev++)
		if (env_name_is(*ev, "PGPASSWORD"))
			inherited = *ev;
	d->name = globals ? "pg_dumpall" : "pg_dump";
	if (argv_dump(&d->argv, x, db, globals) < 0 || argv_gzip(&d->gz_argv, x) < 0 ||
	    (x->c->encrypt.present && argv_age(&d->age_argv, x) < 0))
		return -1;

	for (k = 0; x->env_bare[k]; k++)
		;
	if ((d->env = calloc(k + 2, sizeof *d->env)) == NULL)
		return -1;
	memcpy(d->env, x->env_bare, k * sizeof *d->env);
	if (db->password) {
		n = strlen(db->password) + sizeof "PGPASSWORD=";
		if ((d->pw = malloc(n)) == NULL)
			return -1;
		snprintf(d->pw, n, "PGPASSWORD=%s", db->password);
		d->env[k] = d->pw;
		d->has_pw = 1;
	} else if (inherited) {
		d->env[k] = inherited;	/* libpq's own means, for pg_dump alone */
		d->has_pw = 1;
	}
	return 0;
}

static void
stage(struct spawn_stage *s, const char *name, char *const *argv, char **env)
{
	memset(s, 0, sizeof *s);
	s->name = name;
	s->argv = argv;
	s->envp = env;
	s->capture = 1;
}

/* A stage of an S3 program: its environment and the settings pgbak-run loaded. */
static void
s3_stage(const struct run_ctx *x, struct spawn_stage *s, const char *name,
    char *const *argv)
{
	stage(s, name, argv, x->env);
	s->pass_as = SETTINGS_FD;
	s->pass_fd = x->settings_fd;
}

/* The stages that make the object's bytes, pg_dump | pgbak-gzip [| age],
 * into st; returns how many. */
static size_t
make_stages(const struct run_ctx *x, struct dump *d, struct spawn_stage *st)
{
	size_t n = 0;

	stage(&st[n++], d->name, d->argv.v, d->env);
	stage(&st[n++], "pgbak-gzip", d->gz_argv.v, x->env_bare);
	if (d->age_argv.v)
		stage(&st[n++], "age", d->age_argv.v, x->env_bare);
	return n;
}

static void
pipe_init(const struct run_ctx *x, struct spawn_pipe *p, struct spawn_stage *st, size_t n,
    double deadline)
{
	double left = deadline - now_s();

	memset(p, 0, sizeof *p);
	p->st = st;
	p->n = n;
	p->in_fd = p->out_fd = -1;
	p->cancel_fd = x->cancel_fd;
	p->timeout_ms = left > 0.001 ? (long)(left * 1000) : 1;
}

/* A command line for -v and --dry-run; the password shows as ***. */
static void
show(FILE *f, int has_pw, char *const *argv)
{
	if (has_pw)
		fputs("PGPASSWORD=*** ", f);
	argv_show(f, argv);
}

static void
show_line(const char *key, const struct spawn_pipe *p, const struct dump *d,
    const char *tail)
{
	char *buf = NULL;
	size_t len = 0, i;
	FILE *f;

	if (!log_verbose || (f = open_memstream(&buf, &len)) == NULL)
		return;
	for (i = 0; i < p->n; i++) {
		if (i)
			fputs(" | ", f);
		show(f, i == DUMP && d && p->st[i].argv == d->argv.v && d->has_pw, p->st[i].argv);
	}
	fputs(tail, f);
	fclose(f);
	info("%s: running %s", key, buf);
	free(buf);
}

/* Print the stages' stderr lines that explain a failure: pg_dump's always,
 * the others' when they failed. */
static void
tell_stderr(const char *key, const struct spawn_pipe *p, int all)
{
	char text[SPAWN_RING + 1], *line, *save;
	size_t i;

	for (i = 0; i < p->n; i++) {
		const struct spawn_stage *s = &p->st[i];

		if (s->ring.len == 0 || !(all || i == 0 || s->status != 0))
			continue;
		spawn_tail(&s->ring, text, sizeof text);
		for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
			warn("%s: %s", key, line);
	}
}

static void
set_reason(struct run_result *r, enum run_state st, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void
set_reason(struct run_result *r, enum run_state st, const char *fmt, ...)
{
	va_list ap;

	r->state = st;
	va_start(ap, fmt);
	vsnprintf(r->reason, sizeof r->reason, fmt, ap);
	va_end(ap);
}

/* pgbak-put left its multipart upload (it said S3_UPLOAD_LEFT, or was
 * killed while it lingered to abort it): the summary line says so. */
static void
upload_left(struct run_result *r, const struct spawn_pipe *p)
{
	char text[SPAWN_RING + 1];
	const char *how = NULL;
	size_t i, n;

	for (i = 0; i < p->n && how == NULL; i++) {
		const struct spawn_stage *s = &p->st[i];

		if (s->linger_ms <= 0)		/* not pgbak-put */
			continue;
		if (s->lingered && s->signal == SIGKILL)
			how = "an upload may be left behind (pgbak-put was killed before it "
			    "finished aborting)";
		else if (spawn_tail(&s->ring, text, sizeof text) > 0 &&
		    strstr(text, S3_UPLOAD_LEFT) != NULL)
			how = "the upload was left behind (its abort failed)";
	}
	n = strlen(r->reason);
	if (how && n < sizeof r->reason)
		snprintf(r->reason + n, sizeof r->reason - n, "; %s: the next successful run's "
		    "stale-upload clean-up aborts it, once older than the timeout", how);
}

/* Turn a failed pipeline into one reason line, and its stderr into lines. */
static void
fail_pipe(const struct run_ctx *x, struct run_result *r, const struct spawn_pipe *p,
    const struct log_err *e, long timeout)
{
	char why[512], last[512];
	const struct spawn_stage *s;

	if (p->timed_out) {
		report_duration(timeout, why, sizeof why);
		set_reason(r, RUN_FAILED, "timed out after %s", why);
	} else if (p->cancelled) {
		set_reason(r, RUN_FAILED, "cancelled by a signal");
	} else if (p->failed < 0) {
		set_reason(r, RUN_FAILED, "%s", e->msg);
	} else {
		s = &p->st[p->failed];
		spawn_describe(s, why, sizeof why);
		spawn_last_line(&s->ring, last, sizeof last);
		if (*last)
			set_reason(r, RUN_FAILED, "%s: %s", why, last);
		else
			set_reason(r, RUN_FAILED, "%s", why);
	}
	(void)x;
	upload_left(r, p);
	tell_stderr(r->key, p, 0);
}

/* 1: today's object is there; 0: it is not; -1: cannot tell (reason set). */
static int
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

/*
 * After a backup is stored: abort the uploads of its name (any day) older
 * than its timeout, which a pgbak-put killed by SIGKILL left behind.  No
 * live run of these settings can own one: it would have been stopped at
 * its timeout.  Housekeeping only, so a failure warns and the backup stays ok.
 */
static void
abort_stale(const struct run_ctx *x, struct run_result *r, double deadline, long timeout)
{
	char why[512], last[512];
	struct argv argv ARGV_AUTO = { 0 };
	struct spawn_stage st;
	struct spawn_pipe p;
	struct log_err e;

	if (argv_stale(&argv, x, r->key, timeout) < 0) {
		warn("%s: unable to abort stale uploads: out of memory", r->key);
		return;
	}
	s3_stage(x, &st, "pgbak-put", argv.v);
	pipe_init(x, &p, &st, 1, deadline);
	show_line(r->key, &p, NULL, "");
	if (spawn_run(&p, &e) == 0)
		return;
	if (p.timed_out || p.cancelled || p.failed < 0) {
		warn("%s: unable to abort stale uploads: %s", r->key, e.msg);
		return;
	}
	spawn_describe(&st, why, sizeof why);
	spawn_last_line(&st.ring, last, sizeof last);
	warn("%s: unable to abort stale uploads: %s%s%s", r->key, why, *last ? ": " : "", last);
}

/* --dry-run: the clean-up of stale uploads that follows a stored backup. */
static void
dry_stale(const struct run_ctx *x, const struct conf_db *db, const char *key, FILE *f)
{
	struct argv argv ARGV_AUTO = { 0 };

	if (argv_stale(&argv, x, key, timeout_of(x->c, db)) < 0)
		return;
	fputs("  ", f);
	show(f, 0, argv.v);
	fputs(" (after a success)\n", f);
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

static void
stream(const struct run_ctx *x, struct run_result *r, struct dump *d, double deadline,
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
	r->dump_bytes = st[DUMP].bytes_out;
	r->gzip_bytes = st[GZIP].bytes_out;
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
	r->dump_bytes = st[DUMP].bytes_out;
	r->gzip_bytes = st[GZIP].bytes_out;
	*stored = st[n - 1].bytes_out;
	if (rc < 0)
		fail_pipe(x, r, &p, &e, timeout);
	else if (log_verbose)
		tell_stderr(r->key, &p, 1);
	return rc;
}

static void
temp_file(const struct run_ctx *x, struct run_result *r, struct dump *d, double deadline,
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

static char *
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
 * (reason set).  It walks the key the way local() writes it, so the two
 * agree: a symbolic link below local_dir fails the database, with -f or
 * without, instead of a skip for what lies behind it.
 */
static int
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

static void
local(const struct run_ctx *x, struct run_result *r, struct dump *d, double deadline,
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

/*
 * Retention: once today's object is stored (or was already there), run
 * pgbak-prune for this database with that key, which it requires to be
 * listed before it deletes anything.  A prune that fails makes the database
 * fail ("prune: ..."), but the stored object stays as it is.
 */
static void
prune_after(const struct run_ctx *x, struct run_result *r, const char *ymd, long timeout)
{
	struct argv argv ARGV_AUTO = { 0 };
	struct keep_policy pol;
	struct spawn_stage st;
	struct spawn_pipe p;
	struct log_err e;
	char why[sizeof r->reason];

	if (x->t->prune == NULL || !x->c->s3.enable || !keep_conf(x->c, r->db, &pol))
		return;
	if (argv_prune(&argv, x, &pol, ymd, r->key) < 0) {
		set_reason(r, RUN_FAILED, "prune: out of memory");
		return;
	}
	s3_stage(x, &st, "pgbak-prune", argv.v);
	pipe_init(x, &p, &st, 1, now_s() + (double)timeout);
	show_line(r->key, &p, NULL, "");
	if (spawn_run(&p, &e) == 0) {
		if (log_verbose)
			tell_stderr(r->key, &p, 1);
		return;
	}
	fail_pipe(x, r, &p, &e, timeout);
	memcpy(why, r->reason, sizeof why);
	set_reason(r, RUN_FAILED, "prune: %s", why);
}

/* The key and local name of a job: the dump's or the globals', ".gz.age"
 * when encrypting.  The one place that decides. */
int
job_name(const struct conf *c, const struct conf_db *db, int globals, const char *ymd,
    char **key, char **local, struct log_err *e)
{
	int flags = (globals ? NAME_GLOBALS : 0) | (c->encrypt.present ? NAME_AGE : 0);

	return name_object(db->backup_file_prefix, db->database, ymd, flags, key, local, e);
}

/* What pgbak-verify said, without its name and the object's: from
 * "pgbak-verify: s3://BUCKET/KEY: truncated: ..." just "truncated: ...". */
static const char *
verify_said(const char *line, const char *name)
{
	const char *p = line, *k;
	size_t n = strlen(name);

	if (strncmp(p, "pgbak-verify: ", 14) == 0)
		p += 14;
	if (strncmp(p, "s3://", 5) == 0 && (k = strchr(p + 5, '/')) != NULL)
		k++;
	else
		k = p;
	if (strncmp(k, name, n) == 0 && strncmp(k + n, ": ", 2) == 0)
		return k + n + 2;
	return p;
}

/* pgbak-verify the backup just stored: the object, or in local mode the
 * file.  It has a time limit of its own, as long as the database's.  A
 * damaged or unreadable backup fails the database ("verify: ...") and is
 * left where it is, for the operator to look at. */
static void
verify_stored(const struct run_ctx *x, struct run_result *r, long timeout)
{
	char *file = x->c->s3.enable ? NULL : local_path(x, r->key);
	struct argv argv ARGV_AUTO = { 0 };
	char last[sizeof r->reason], why[sizeof r->reason];
	struct spawn_stage st;
	struct spawn_pipe p;
	struct log_err e;

	if ((!x->c->s3.enable && file == NULL) || argv_verify(&argv, x, r->key, file) < 0) {
		set_reason(r, RUN_FAILED, "verify: out of memory");
		free(file);
		return;
	}
	if (file)
		stage(&st, "pgbak-verify", argv.v, x->env_bare);
	else
		s3_stage(x, &st, "pgbak-verify", argv.v);
	pipe_init(x, &p, &st, 1, now_s() + (double)timeout);
	show_line(r->key, &p, NULL, "");
	if (spawn_run(&p, &e) == 0) {
		r->verified = 1;
	} else {
		fail_pipe(x, r, &p, &e, timeout);
		spawn_last_line(&st.ring, last, sizeof last);
		if (p.failed == 0 && !p.timed_out && !p.cancelled && *last &&
		    (st.status == EXIT_NO || st.status == EXIT_TEMP)) {
			set_reason(r, RUN_FAILED, "verify: %s",
			    verify_said(last, file ? file : r->key));
		} else {
			snprintf(why, sizeof why, "%s", r->reason);
			set_reason(r, RUN_FAILED, "verify: %s", why);
		}
	}
	free(file);
}

void
job_run(const struct run_ctx *x, struct run_result *r)
{
	const struct conf *c = x->c;
	const struct conf_db *db = r->db;
	long timeout = timeout_of(c, db);
	double t0 = now_s(), deadline = t0 + (double)timeout;
	struct log_err e;
	struct dump d;
	char ymd[9];
	int have;

	name_today(ymd);
	if (job_name(c, db, r->globals, ymd, &r->key, &r->local, &e) < 0) {
		set_reason(r, RUN_FAILED, "%s", e.msg);
		return;
	}
	if (!x->o->force) {
		if (c->s3.enable)
			have = exists_s3(x, r, deadline, timeout);
		else
			have = exists_local(x, r);
		if (have < 0)
			goto done;
		if (have) {
			set_reason(r, RUN_SKIPPED, "already exists");
			goto done;
		}
	}
	if (dump_prepare(x, db, r->globals, &d) < 0) {
		set_reason(r, RUN_FAILED, "out of memory");
	} else if (!c->s3.enable) {
		local(x, r, &d, deadline, timeout);
	} else if (c->use_temp_file) {
		temp_file(x, r, &d, deadline, timeout);
	} else {
		stream(x, r, &d, deadline, timeout);
	}
	dump_release(&d);
	if (r->state == RUN_OK && (x->o->verify || c->verify))
		verify_stored(x, r, timeout);
done:
	r->seconds = now_s() - t0;
	if (r->state == RUN_OK || r->state == RUN_SKIPPED)
		prune_after(x, r, ymd, timeout);
}

/* --dry-run: the prune that follows a stored backup, when a policy applies. */
static void
dry_prune(const struct run_ctx *x, const struct conf_db *db, const char *key, FILE *f)
{
	struct argv argv ARGV_AUTO = { 0 };
	struct keep_policy pol;
	char ymd[9];

	if (x->t->prune == NULL || !x->c->s3.enable || !keep_conf(x->c, db, &pol))
		return;
	name_today(ymd);
	if (argv_prune(&argv, x, &pol, ymd, key) < 0)
		return;
	fputs("  ", f);
	show(f, 0, argv.v);
	fputs(" (once the backup is stored or found)\n", f);
}

/* --dry-run: a command line argv.c built, released once shown; nothing
 * when it could not be built. */
static void
dry_show(FILE *f, const char *before, struct argv *a, int ok, const char *after)
{
	if (ok < 0)
		return;
	fputs(before, f);
	show(f, 0, a->v);
	fputs(after, f);
	argv_free(a);
}

/* --dry-run: what job_run would execute, nothing run. */
void
job_dry_run(const struct run_ctx *x, const struct conf_db *db, int globals,
    const char *key, const char *local, FILE *f)
{
	const struct conf *c = x->c;
	const char *tdir = c->temp_dir ? c->temp_dir : getenv("TMPDIR");
	struct argv a = { 0 };
	struct dump d;
	char *dest;

	if (dump_prepare(x, db, globals, &d) < 0) {
		dump_release(&d);
		return;
	}
	fprintf(f, "%s:\n", key);
	if (!x->o->force && c->s3.enable)
		dry_show(f, "  ", &a, argv_exists(&a, x, key), "\n");
	fputs("  ", f);
	show(f, d.has_pw, d.argv.v);
	fputs(" | ", f);
	show(f, 0, d.gz_argv.v);
	if (d.age_argv.v) {
		fputs(" | ", f);
		show(f, 0, d.age_argv.v);
	}
	if (!c->s3.enable) {
		dest = local_path(x, key);
		fprintf(f, " > %s (through a temporary name, then renamed)\n", dest ? dest : key);
		free(dest);
	} else if (c->use_temp_file) {
		fprintf(f, " > %s/%.*s.XXXXXX\n", tdir && *tdir ? tdir : "/tmp", TEMP_STEM_MAX,
		    local);
		dry_show(f, "  ", &a, argv_put(&a, x, key, "SIZE"),
		    " < the temporary file, then removed\n");
		dry_stale(x, db, key, f);
	} else {
		dry_show(f, " | ", &a, argv_put(&a, x, key, NULL), "\n");
		dry_stale(x, db, key, f);
	}
	if (x->o->verify || c->verify) {
		dest = c->s3.enable ? NULL : local_path(x, key);
		if (c->s3.enable || dest)
			dry_show(f, "  ", &a, argv_verify(&a, x, key, dest), "\n");
		free(dest);
	}
	dry_prune(x, db, key, f);
	dump_release(&d);
}
