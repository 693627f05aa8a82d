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
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "keep.h"
#include "log.h"
#include "name.h"
#include "run.h"
#include "spawn.h"

extern char **environ;

enum { DUMP, GZIP };

/* One database's pg_dump (or pg_dumpall), pgbak-gzip and age, ready to run. */
struct dump {
	const char *name;	/* "pg_dump" or "pg_dumpall" */
	char *argv[14];
	char port[16];
	char *gz_argv[3];
	char level[16];		/* "-N" from gzip_level */
	char **age_argv;	/* age -r R1 -r R2 ...; NULL: no encryption */
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

static int
is_db_password(const struct conf *c, const char *val)
{
	size_t i;

	for (i = 0; i < c->ndbs; i++)
		if (c->dbs[i].password && *c->dbs[i].password &&
		    strcmp(c->dbs[i].password, val) == 0)
			return 1;
	return 0;
}

static int
name_is(const char *entry, const char *name)
{
	size_t n = strlen(name);

	return strncmp(entry, name, n) == 0 && entry[n] == '=';
}

/*
 * The environments of the stages, built from ours:
 *   pgbak-put, pgbak-exists: without PGPASSWORD.  They re-read the settings
 *     file (for the S3 section), and conf_load expands every ${NAME} in it,
 *     the databases' passwords included, so the variables a password names
 *     must stay; PGPASSWORD itself stays only when its value is one of the
 *     passwords, that is when the file may say password: ${PGPASSWORD}.
 *   pgbak-gzip: also without any variable holding a database password and
 *     without the S3 secrets: it reads nothing but its input.
 *   pg_dump: as pgbak-gzip, plus PGPASSWORD of its database (dump_prepare).
 */
static char **
env_filter(const struct conf *c, int bare)
{
	size_t n = 0, k = 0;
	char **v, **e, *eq;

	for (e = environ; *e; e++)
		n++;
	if ((v = calloc(n + 2, sizeof *v)) == NULL)
		return NULL;
	for (e = environ; *e; e++) {
		eq = strchr(*e, '=');
		if (eq == NULL)
			continue;
		if (bare && (is_db_password(c, eq + 1) || name_is(*e, "PGPASSWORD") ||
		    name_is(*e, "AWS_SECRET_ACCESS_KEY") || name_is(*e, "AWS_SESSION_TOKEN")))
			continue;
		if (!bare && name_is(*e, "PGPASSWORD") && !is_db_password(c, eq + 1))
			continue;
		v[k++] = *e;
	}
	return v;
}

int
job_env(struct run_ctx *x)
{
	x->env = env_filter(x->c, 0);
	x->env_bare = env_filter(x->c, 1);
	return x->env && x->env_bare ? 0 : -1;
}

void
job_env_free(struct run_ctx *x)
{
	free(x->env);
	free(x->env_bare);
	x->env = x->env_bare = NULL;
}

static void
dump_release(struct dump *d)
{
	if (d->pw) {
		OPENSSL_cleanse(d->pw, strlen(d->pw));
		free(d->pw);
	}
	free(d->env);
	free(d->age_argv);
	memset(d, 0, sizeof *d);
}

/* age -r R1 -r R2 ...: recipients are public keys, so argv may show them. */
static int
age_prepare(const struct run_ctx *x, struct dump *d)
{
	char **r = x->c->encrypt.age_recipients;
	size_t n = 0, k = 0;

	if (!x->c->encrypt.present)
		return 0;
	while (r && r[n])
		n++;
	if ((d->age_argv = calloc(2 * n + 2, sizeof *d->age_argv)) == NULL)
		return -1;
	d->age_argv[k++] = x->t->age;
	for (n = 0; r && r[n]; n++) {
		d->age_argv[k++] = (char *)"-r";
		d->age_argv[k++] = r[n];
	}
	return 0;
}

/* pg_dump -h HOST -p PORT -U USER -d DATABASE --no-password, what is unset
 * left to libpq; the password in its environment alone.  For the globals:
 * pg_dumpall -h HOST -p PORT -U USER -l DATABASE --globals-only --no-password. */
static int
dump_prepare(const struct run_ctx *x, const struct conf_db *db, int globals, struct dump *d)
{
	char *inherited = NULL, **ev;	/* PGPASSWORD=... of our environment */
	size_t n = 0, k;

	memset(d, 0, sizeof *d);
	for (ev = environ; *ev; ev++)
		if (name_is(*ev, "PGPASSWORD"))
			inherited = *ev;
	d->name = globals ? "pg_dumpall" : "pg_dump";
	d->argv[n++] = globals ? x->t->pg_dumpall : x->t->pg_dump;
	if (db->host)
		d->argv[n++] = (char *)"-h", d->argv[n++] = db->host;
	if (db->port > 0) {
		snprintf(d->port, sizeof d->port, "%d", db->port);
		d->argv[n++] = (char *)"-p", d->argv[n++] = d->port;
	}
	if (db->user)
		d->argv[n++] = (char *)"-U", d->argv[n++] = db->user;
	d->argv[n++] = (char *)(globals ? "-l" : "-d"), d->argv[n++] = db->database;
	if (globals)
		d->argv[n++] = (char *)"--globals-only";
	d->argv[n++] = (char *)"--no-password";
	d->argv[n] = NULL;
	d->gz_argv[0] = x->t->gzip;
	if (x->c->gzip_level > 0) {
		snprintf(d->level, sizeof d->level, "-%d", x->c->gzip_level);
		d->gz_argv[1] = d->level;
	}
	if (age_prepare(x, d) < 0)
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

/* The stages that make the object's bytes, pg_dump | pgbak-gzip [| age],
 * into st; returns how many. */
static size_t
make_stages(const struct run_ctx *x, struct dump *d, struct spawn_stage *st)
{
	size_t n = 0;

	stage(&st[n++], d->name, d->argv, d->env);
	stage(&st[n++], "pgbak-gzip", d->gz_argv, x->env_bare);
	if (d->age_argv)
		stage(&st[n++], "age", d->age_argv, x->env_bare);
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
	size_t i;

	if (has_pw)
		fputs("PGPASSWORD=*** ", f);
	for (i = 0; argv[i]; i++) {
		if (i)
			fputc(' ', f);
		report_quote(f, argv[i]);
	}
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
		show(f, i == DUMP && d && p->st[i].argv == d->argv && d->has_pw, p->st[i].argv);
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
	tell_stderr(r->key, p, 0);
}

/* 1: today's object is there; 0: it is not; -1: cannot tell (reason set). */
static int
exists_s3(const struct run_ctx *x, struct run_result *r, double deadline, long timeout)
{
	char *argv[] = { x->t->exists, (char *)"-c", (char *)x->o->settings, (char *)"--",
		r->key, NULL };
	struct spawn_stage st;
	struct spawn_pipe p;
	struct log_err e;

	stage(&st, "pgbak-exists", argv, x->env);
	pipe_init(x, &p, &st, 1, deadline);
	show_line(r->key, &p, NULL, "");
	if (spawn_run(&p, &e) == 0)
		return 1;
	if (st.status == EXIT_NO && !p.timed_out && !p.cancelled)
		return 0;
	fail_pipe(x, r, &p, &e, timeout);
	return -1;
}

/* pgbak-put --abort-stale=TIMEOUT --any-date KEY, for abort_stale and --dry-run */
static void
stale_argv(const struct run_ctx *x, const char *key, long timeout, char age[48],
    char *argv[8])
{
	snprintf(age, 48, "--abort-stale=%ld", timeout);
	argv[0] = x->t->put, argv[1] = (char *)"-c", argv[2] = (char *)x->o->settings;
	argv[3] = age, argv[4] = (char *)"--any-date", argv[5] = (char *)"--";
	argv[6] = (char *)key, argv[7] = NULL;
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
	char age[48], why[512], last[512], *argv[8];
	struct spawn_stage st;
	struct spawn_pipe p;
	struct log_err e;

	stale_argv(x, r->key, timeout, age, argv);
	stage(&st, "pgbak-put", argv, x->env);
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
	char age[48], *argv[8];

	stale_argv(x, key, timeout_of(x->c, db), age, argv);
	fputs("  ", f);
	show(f, 0, argv);
	fputs(" (after a success)\n", f);
}

/* pgbak-put -c SETTINGS -C 3 [--if-absent] [--expected-size SIZE] -- KEY: for
 * stream, temp_file and --dry-run.  Without -f an object that another run
 * stored meanwhile (another host, other settings naming the same bucket) is
 * never replaced: pgbak-put exits 1 instead (stored_by_other). */
static void
put_argv(const struct run_ctx *x, const char *key, const char *size, char *argv[11])
{
	size_t n = 0;

	argv[n++] = x->t->put, argv[n++] = (char *)"-c", argv[n++] = (char *)x->o->settings;
	argv[n++] = (char *)"-C", argv[n++] = (char *)"3";
	if (!x->o->force)
		argv[n++] = (char *)"--if-absent";
	if (size)
		argv[n++] = (char *)"--expected-size", argv[n++] = (char *)size;
	argv[n++] = (char *)"--", argv[n++] = (char *)key;
	argv[n] = NULL;
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
	char *argv[11];
	struct spawn_stage st[4];
	struct spawn_pipe p;
	struct log_err e;
	size_t put = make_stages(x, d, st);
	int rc;

	put_argv(x, r->key, NULL, argv);
	stage(&st[put], "pgbak-put", argv, x->env);
	st[put].commit_fd = 3;	/* committed after pg_dump, pgbak-gzip and age */
	pipe_init(x, &p, st, put + 1, deadline);
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
	char size[32], *path = NULL, *argv[11];
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
	snprintf(path, n, "%s/%s.XXXXXX", dir, r->local);
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
	put_argv(x, r->key, size, argv);
	stage(&st, "pgbak-put", argv, x->env);
	st.commit_fd = 3;	/* nothing before it: the commit goes at once */
	pipe_init(x, &p, &st, 1, deadline);
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

/* Open (creating) the directories of key under dirfd, one component at a
 * time and never through a symbolic link, so the key stays below local_dir. */
static int
open_key_dir(int dirfd, const char *key, const char **base)
{
	char *k = strdup(key), *s, *comp;
	int fd = dup(dirfd), next;

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
		if (*comp && strcmp(comp, ".") != 0) {
			if (strcmp(comp, "..") == 0) {
				errno = EINVAL;
				goto fail;
			}
			if (mkdirat(fd, comp, 0755) < 0 && errno != EEXIST)
				goto fail;
			next = openat(fd, comp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			if (next < 0)
				goto fail;
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

static void
local(const struct run_ctx *x, struct run_result *r, struct dump *d, double deadline,
    long timeout)
{
	const char *dir = x->c->local_dir ? x->c->local_dir : "./backups", *base;
	static unsigned serial;
	char tmp[512], *dest = local_path(x, r->key);
	int top = -1, dfd = -1, fd = -1, i;
	uint64_t stored;

	if (dest == NULL) {
		set_reason(r, RUN_FAILED, "out of memory");
		return;
	}
	if (mkdirs(dir) < 0 || (top = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
		set_reason(r, RUN_FAILED, "unable to create %s: %s", dir, strerror(errno));
		goto out;
	}
	if ((dfd = open_key_dir(top, r->key, &base)) < 0) {
		set_reason(r, RUN_FAILED, "unable to create the directory of %s: %s", dest,
		    strerror(errno));
		goto out;
	}
	for (i = 0; i < 100 && fd < 0; i++) {
		snprintf(tmp, sizeof tmp, ".%.400s.%ld.%u.tmp", base, (long)getpid(),
		    __atomic_fetch_add(&serial, 1, __ATOMIC_RELAXED));
		fd = openat(dfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
		if (fd < 0 && errno != EEXIST)
			break;
	}
	if (fd < 0) {
		set_reason(r, RUN_FAILED, "unable to create a temporary file for %s: %s", dest,
		    strerror(errno));
		goto out;
	}
	if (dump_to(x, r, d, fd, dest, deadline, timeout, &stored) < 0)
		goto drop;
	if (fsync(fd) < 0 || renameat(dfd, tmp, dfd, base) < 0) {
		set_reason(r, RUN_FAILED, "unable to store %s: %s", dest, strerror(errno));
		goto drop;
	}
	if (fsync(dfd) < 0)
		warn_sys("unable to sync the directory of %s", dest);
	r->state = RUN_OK;
	goto out;
drop:
	if (unlinkat(dfd, tmp, 0) < 0)
		warn_sys("unable to remove the temporary file of %s", dest);
out:
	if (fd >= 0)
		close(fd);
	if (dfd >= 0)
		close(dfd);
	if (top >= 0)
		close(top);
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
	char *argv[] = { x->t->prune, (char *)"-c", (char *)x->o->settings, (char *)"--today",
		(char *)ymd, (char *)"--", r->key, NULL, NULL };
	struct keep_policy pol;
	struct spawn_stage st;
	struct spawn_pipe p;
	struct log_err e;
	char why[sizeof r->reason];

	if (x->t->prune == NULL || !x->c->s3.enable || !keep_conf(x->c, r->db, &pol))
		return;
	if (log_verbose) {
		/* -v: its "kept N, deleted M" on stderr */
		argv[7] = argv[6], argv[6] = argv[5], argv[5] = (char *)"-v";
	}
	stage(&st, "pgbak-prune", argv, x->env);
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
	char *s3argv[] = { x->t->verify, (char *)"-c", (char *)x->o->settings, (char *)"--",
		r->key, NULL };
	char *fargv[] = { x->t->verify, (char *)"-f", file, NULL };
	char last[sizeof r->reason], why[sizeof r->reason];
	struct spawn_stage st;
	struct spawn_pipe p;
	struct log_err e;

	if (!x->c->s3.enable && file == NULL) {
		set_reason(r, RUN_FAILED, "verify: out of memory");
		return;
	}
	stage(&st, "pgbak-verify", file ? fargv : s3argv, file ? x->env_bare : x->env);
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
	struct stat sb;
	struct dump d;
	char ymd[9], *dest;
	int have;

	name_today(ymd);
	if (job_name(c, db, r->globals, ymd, &r->key, &r->local, &e) < 0) {
		set_reason(r, RUN_FAILED, "%s", e.msg);
		return;
	}
	if (!x->o->force) {
		if (c->s3.enable) {
			have = exists_s3(x, r, deadline, timeout);
		} else {
			dest = local_path(x, r->key);
			have = dest && stat(dest, &sb) == 0;
			free(dest);
		}
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
	char ymd[9], *argv[] = { x->t->prune, (char *)"-c", (char *)x->o->settings,
		(char *)"--today", ymd, (char *)"--", (char *)key, NULL };
	struct keep_policy pol;

	if (x->t->prune == NULL || !x->c->s3.enable || !keep_conf(x->c, db, &pol))
		return;
	name_today(ymd);
	fputs("  ", f);
	show(f, 0, argv);
	fputs(" (once the backup is stored or found)\n", f);
}

/* --dry-run: what job_run would execute, nothing run. */
void
job_dry_run(const struct run_ctx *x, const struct conf_db *db, int globals,
    const char *key, const char *local, FILE *f)
{
	const struct conf *c = x->c;
	char *ex[] = { x->t->exists, (char *)"-c", (char *)x->o->settings, (char *)"--",
		(char *)key, NULL };
	char *put[11];
	char *verify[] = { x->t->verify, (char *)"-c", (char *)x->o->settings, (char *)"--",
		(char *)key, NULL };
	char *fverify[] = { x->t->verify, (char *)"-f", NULL };
	const char *tdir = c->temp_dir ? c->temp_dir : getenv("TMPDIR");
	struct dump d;
	char *dest;

	if (dump_prepare(x, db, globals, &d) < 0) {
		dump_release(&d);
		return;
	}
	fprintf(f, "%s:\n", key);
	if (!x->o->force && c->s3.enable) {
		fputs("  ", f);
		show(f, 0, ex);
		fputs("\n", f);
	}
	fputs("  ", f);
	show(f, d.has_pw, d.argv);
	fputs(" | ", f);
	show(f, 0, d.gz_argv);
	if (d.age_argv) {
		fputs(" | ", f);
		show(f, 0, d.age_argv);
	}
	if (!c->s3.enable) {
		dest = local_path(x, key);
		fprintf(f, " > %s (through a temporary name, then renamed)\n", dest ? dest : key);
		free(dest);
	} else if (c->use_temp_file) {
		fprintf(f, " > %s/%s.XXXXXX\n  ", tdir && *tdir ? tdir : "/tmp", local);
		put_argv(x, key, "SIZE", put);
		show(f, 0, put);
		fputs(" < the temporary file, then removed\n", f);
		dry_stale(x, db, key, f);
	} else {
		fputs(" | ", f);
		put_argv(x, key, NULL, put);
		show(f, 0, put);
		fputs("\n", f);
		dry_stale(x, db, key, f);
	}
	if (x->o->verify || c->verify) {
		dest = c->s3.enable ? NULL : local_path(x, key);
		fputs("  ", f);
		show(f, 0, dest ? fverify : verify);
		if (dest) {
			fputc(' ', f);
			report_quote(f, dest);
		}
		fputs("\n", f);
		free(dest);
	}
	dry_prune(x, db, key, f);
	dump_release(&d);
}
