/*
 * dirfmt: format: directory.  pg_dump -Fd -j JOBS writes one file per
 * table, several tables at once, into a directory of its own under
 * temp_dir (a directory format dump cannot go to a pipe).  Once pg_dump
 * exited 0, tar takes pg_dump's place as the first stage of the backup's
 * pipeline, tar | zstd | [age] | pgbak-put, so the commit rule (committed
 * only when every stage exited 0), the three ways to store and the culprit
 * rule are those of every other backup.  The directory is removed in all
 * cases: dump_release, which every path of job_run ends with, removes it
 * after a success, a failed or killed pg_dump or tar, a full disk, a
 * timeout or a SIGTERM (spawn stops the stages first).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "log.h"
#include "rmtree.h"
#include "run.h"
#include "spawn.h"

/* pg_dump's directory inside the temporary one: pg_dump -Fd wants to make
 * it itself (or find it empty). */
#define DIR_DUMP "/dump"

static const char *
temp_root(const struct run_ctx *x)
{
	return conf_temp_dir(x->c);
}

void
dir_remove(struct dump *d)
{
	struct log_err e;

	if (rmtree(d->dir, &e) < 0)
		warn("%s", e.msg);
	free(d->dir);
	d->dir = NULL;
}

/* tar in pg_dump's place: its argv, and pg_dump's environment without the
 * password (tar needs none; it is wiped now, not at the end). */
static int
to_tar(const struct run_ctx *x, struct dump *d, const char *dir)
{
	size_t i;

	argv_free(&d->argv);
	for (i = 0; d->env[i]; i++)
		if (env_name_is(d->env[i], "PGPASSWORD"))
			d->env[i] = NULL;	/* the last: dump_prepare appended it */
	if (d->pw) {
		OPENSSL_cleanse(d->pw, strlen(d->pw));
		free(d->pw);
		d->pw = NULL;
	}
	d->has_pw = 0;
	d->name = "tar";
	return argv_tar(&d->argv, x, dir);
}

int
dir_dump(const struct run_ctx *x, struct run_result *r, struct dump *d, double deadline,
    long timeout)
{
	const char *root = temp_root(x);
	size_t n = strlen(root) + strlen(r->local) + sizeof "/.XXXXXX" DIR_DUMP;
	struct spawn_stage st;
	struct spawn_pipe p;
	struct log_err e;
	char *out;

	if ((out = malloc(n)) == NULL || (d->dir = malloc(n)) == NULL) {
		set_reason(r, RUN_FAILED, "out of memory");
		free(out);
		return -1;
	}
	snprintf(d->dir, n, "%s/%.*s.XXXXXX", root, TEMP_STEM_MAX, r->local);
	if (mkdtemp(d->dir) == NULL) {	/* mode 0700 */
		set_reason(r, RUN_FAILED, "unable to create a temporary directory in %s: %s",
		    root, strerror(errno));
		free(d->dir);
		free(out);
		d->dir = NULL;
		return -1;
	}
	snprintf(out, n, "%s" DIR_DUMP, d->dir);
	argv_add(&d->argv, "-f"), argv_add(&d->argv, out);
	if (argv_done(&d->argv) < 0) {
		set_reason(r, RUN_FAILED, "out of memory");
		free(out);
		return -1;
	}
	job_stage(&st, d->name, d->argv.v, d->env);
	pipe_init(x, &p, &st, 1, deadline);
	show_line(r->key, &p, d, "");
	if (spawn_run(&p, &e) < 0) {
		fail_pipe(x, r, &p, &e, timeout);
		free(out);
		return -1;
	}
	if (log_verbose)
		tell_stderr(r->key, &p, 1);
	if (to_tar(x, d, out) < 0) {
		set_reason(r, RUN_FAILED, "out of memory");
		free(out);
		return -1;
	}
	free(out);
	return 0;
}

int
dir_dry_run(const struct run_ctx *x, struct dump *d, const char *local, FILE *f)
{
	size_t n = strlen(temp_root(x)) + strlen(local) + sizeof "/.XXXXXX" DIR_DUMP;
	char *out = malloc(n);
	int rc;

	if (out == NULL)
		return -1;
	snprintf(out, n, "%s/%.*s.XXXXXX" DIR_DUMP, temp_root(x), TEMP_STEM_MAX, local);
	argv_add(&d->argv, "-f"), argv_add(&d->argv, out);
	if (argv_done(&d->argv) < 0) {
		free(out);
		return -1;
	}
	fputs("  ", f);
	job_show(f, d->has_pw, d->argv.v);
	fputs(" (a temporary directory, removed at the end)\n", f);
	rc = to_tar(x, d, out);
	free(out);
	return rc;
}
