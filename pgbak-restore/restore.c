/*
 * restore: one restore of a database from its backup, the way main chose
 * it: --globals first (plain SQL, through psql), then the database, plain
 * through pipe.c's pipeline or custom and directory through archive.c's
 * pg_restore; the summary line.  A failure names its stage and leaves the
 * target as it is, for inspection: the operator looks before anything is
 * dropped.
 */
#include <stdio.h>

#include "log.h"
#include "name.h"
#include "restore.h"

/* --globals, when asked: 0, or -1 said (the target left as it is). */
static int
globals(const struct ctx *x, const struct plan *p, const char *db)
{
	struct outcome out;

	if (p->globals_key == NULL || pipe_restore(x, p->globals_key, db, 1, -1, &out) == 0)
		return 0;
	warn("restore of %s failed: %s; the database %s is left as it is, for inspection",
	    p->globals_key, out.why, db);
	return -1;
}

static void
failed(const char *key, const char *db, const struct outcome *out)
{
	warn("restore of %s into %s failed: %s; the database is left as it is, for inspection",
	    key, db, out->why);
}

/* A custom or directory backup (archive.c): pg_restore -j. */
static int
archive(const struct ctx *x, const struct plan *p, const char *db)
{
	char b[32], tm[32];
	struct outcome out;

	if (archive_restore(x, p->key, db, &out) < 0) {
		failed(p->key, db, &out);
		return EXIT_TEMP;
	}
	human_bytes(out.got, b, sizeof b);
	human_time(out.seconds, tm, sizeof tm);
	printf("restored %s into %s: %s in %s (pg_restore -j %d%s)\n", p->key, db, b, tm,
	    x->o->jobs ? x->o->jobs : conf_jobs(x->c, x->db),
	    x->o->ntables ? ", selected tables" : "");
	return log_stdout_done(EXIT_OK);
}

/* A plain backup (pipe.c): pgbak-get | [age] | gunzip | relay | psql. */
static int
plain(const struct ctx *x, const struct plan *p, const char *db)
{
	char b[32], sql[32], tm[32], rate[32];
	struct outcome out;

	if (pipe_restore(x, p->key, db, 0, -1, &out) < 0) {
		failed(p->key, db, &out);
		return EXIT_TEMP;
	}
	human_bytes(out.got, b, sizeof b);
	human_bytes(out.sql, sql, sizeof sql);
	human_time(out.seconds, tm, sizeof tm);
	human_bytes(out.seconds > 0 ? (uint64_t)((double)out.got / out.seconds) : 0, rate,
	    sizeof rate);
	printf("restored %s into %s: %s (%s of SQL) in %s, %s/s\n", p->key, db, b, sql, tm, rate);
	return log_stdout_done(EXIT_OK);
}

int
restore_run(struct ctx *x, const struct plan *p)
{
	const char *db = x->o->into ? x->o->into : x->db->database;
	struct log_err e;

	if (x->o->dry_run) {
		if (p->globals_key)
			pipe_show(stdout, x, p->globals_key, db, 1, 0);
		if (p->comp & NAME_FORMATS)
			archive_show(stdout, x, p->key, db);
		else
			pipe_show(stdout, x, p->key, db, 0, 0);
		return log_stdout_done(EXIT_OK);
	}
	if (target_prepare(x, db, x->o->into == NULL, &e) < 0)
		die_err(&e);
	if (globals(x, p, db) < 0)
		return EXIT_TEMP;
	return p->comp & NAME_FORMATS ? archive(x, p, db) : plain(x, p, db);
}
