/*
 * job: one database's backup, from "does today's object exist" to the last
 * byte stored: which way to store it (store.c), then what follows
 * (after.c).  Here too what the ways share: the dump's pipeline, prepared
 * once, and how a failed pipeline becomes the database's reason.
 * In every way pg_dump's and pgbak-gzip's exit statuses decide: the upload
 * is committed (or the file renamed into place) only when both exited 0.
 * With encrypt, an age stage follows pgbak-gzip and its status decides too.
 * A database with globals: true has a second job, the same with
 * pg_dumpall --globals-only in place of pg_dump, into its own object.
 * With verify on, pgbak-verify then reads the stored backup back.
 */
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "log.h"
#include "name.h"
#include "run.h"
#include "s3cfg.h"
#include "s3.h"
#include "spawn.h"

extern char **environ;

double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

long
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

void
dump_release(struct dump *d)
{
	if (d->dir)
		dir_remove(d);
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

/* pg_dump (or pg_dumpall) [| pgbak-gzip or zstd] [| age], their argv from argv.c;
 * the password in pg_dump's environment alone. */
int
dump_prepare(const struct run_ctx *x, const struct conf_db *db, int globals, struct dump *d)
{
	char *inherited = NULL, **ev;	/* PGPASSWORD=... of our environment */
	size_t n = 0, k;

	memset(d, 0, sizeof *d);
	for (ev = environ; *ev; ev++)
		if (env_name_is(*ev, "PGPASSWORD"))
			inherited = *ev;
	d->name = globals ? "pg_dumpall" : "pg_dump";
	d->dir_format = !globals && conf_format(x->c, db) == CONF_DIRECTORY;
	if (argv_dump(&d->argv, x, db, globals) < 0 ||
	    argv_compress(&d->gz_argv, x, db, &d->gz_name) < 0 ||
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

void
job_stage(struct spawn_stage *s, const char *name, char *const *argv, char **env)
{
	memset(s, 0, sizeof *s);
	s->name = name;
	s->argv = argv;
	s->envp = env;
	s->capture = 1;
}

/* A stage of an S3 program: its environment and the settings pgbak-run loaded. */
void
s3_stage(const struct run_ctx *x, struct spawn_stage *s, const char *name,
    char *const *argv)
{
	job_stage(s, name, argv, x->env);
	s->pass_as = SETTINGS_FD;
	s->pass_fd = x->settings_fd;
}

/* The stages that make the object's bytes, pg_dump [| pgbak-gzip or zstd]
 * [| age], into st; returns how many. */
size_t
make_stages(const struct run_ctx *x, struct dump *d, struct spawn_stage *st)
{
	size_t n = 0;

	job_stage(&st[n++], d->name, d->argv.v, d->env);
	if (d->gz_argv.v)
		job_stage(&st[n++], d->gz_name, d->gz_argv.v, x->env_bare);
	if (d->age_argv.v)
		job_stage(&st[n++], "age", d->age_argv.v, x->env_bare);
	return n;
}

/* The sizes the summary shows: the dump's, and the compressed (with
 * compression: none, the dump's again). */
void
stage_bytes(struct run_result *r, const struct dump *d, const struct spawn_stage *st)
{
	r->dump_bytes = st[DUMP].bytes_out;
	r->gzip_bytes = d->gz_argv.v ? st[GZIP].bytes_out : st[DUMP].bytes_out;
}

void
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
void
job_show(FILE *f, int has_pw, char *const *argv)
{
	if (has_pw)
		fputs("PGPASSWORD=*** ", f);
	argv_show(f, argv);
}

void
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
		job_show(f, i == DUMP && d && p->st[i].argv == d->argv.v && d->has_pw,
		    p->st[i].argv);
	}
	fputs(tail, f);
	fclose(f);
	info("%s: running %s", key, buf);
	free(buf);
}

/* Print the stages' stderr lines that explain a failure: pg_dump's always,
 * the others' when they failed. */
void
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

void
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
void
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

/* The key and local name of a job: the dump's or the globals', ".zst" or
 * ".sql" by its compression, ".dump.*" or ".tar.*" by its format (the
 * globals are plain SQL whatever the format), ".age" added when
 * encrypting.  The one place that decides. */
int
job_name(const struct conf *c, const struct conf_db *db, int globals, const char *ymd,
    char **key, char **local, struct log_err *e)
{
	int flags = (globals ? NAME_GLOBALS : 0) | (c->encrypt.present ? NAME_AGE : 0) |
	    conf_name_flags(c, db);

	if (globals)
		flags &= ~NAME_FORMATS;
	return name_object(db->backup_file_prefix, db->database, ymd, flags, key, local, e);
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
	} else if (d.dir_format && dir_dump(x, r, &d, deadline, timeout) < 0) {
		;	/* pg_dump -Fd failed: its reason is set, nothing stored */
	} else if (!c->s3.enable) {
		store_local(x, r, &d, deadline, timeout);
	} else if (c->use_temp_file) {
		store_temp_file(x, r, &d, deadline, timeout);
	} else {
		store_stream(x, r, &d, deadline, timeout);
	}
	dump_release(&d);
	if (r->state == RUN_OK && (x->o->verify || c->verify))
		verify_stored(x, r, timeout);
done:
	r->seconds = now_s() - t0;
	rcheck_after(x, r, ymd, timeout);
	if (r->state == RUN_OK || r->state == RUN_SKIPPED)
		prune_after(x, r, ymd, timeout);
}
