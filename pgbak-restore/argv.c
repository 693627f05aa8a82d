/*
 * argv: every child's command line, built in one place (lib/argv), as
 * pgbak-run's argv.c: the restore hands these to spawn and -n prints the
 * very same arrays.  No secret goes here: psql's password is in its environment.
 */
#include <stdio.h>

#include "argv.h"
#include "restore.h"

/* pgbak-get --settings-fd 4 -- KEY */
int
argv_get(struct argv *a, const struct ctx *x, const char *key)
{
	argv_add(a, x->t.get);
	argv_add(a, "--settings-fd"), argv_addf(a, "%d", SETTINGS_FD);
	argv_add(a, "--"), argv_add(a, key);
	return argv_done(a);
}

/* age -d -i IDENTITY: a path, not the key itself */
int
argv_age(struct argv *a, const struct ctx *x)
{
	argv_add(a, x->t.age);
	argv_add(a, "-d"), argv_add(a, "-i"), argv_add(a, x->o->identity);
	return argv_done(a);
}

/* gzip -d -c: its exit status says whether every member's CRC and length
 * matched and nothing trailed (exit 2 for trailing garbage). */
int
argv_gunzip(struct argv *a, const struct ctx *x)
{
	argv_add(a, x->t.gunzip);
	argv_add(a, "-d"), argv_add(a, "-c");
	return argv_done(a);
}

/* zstd -d -c -q, for a .zst backup: its exit status says whether every
 * frame was whole and its checksum matched (pgbak-run writes them). */
int
argv_unzstd(struct argv *a, const struct ctx *x)
{
	argv_add(a, x->t.unzstd);
	argv_add(a, "-d"), argv_add(a, "-c"), argv_add(a, "-q");
	return argv_done(a);
}

/* pgbak-restore --relay [--count-fd 3] [--globals] [--progress] */
int
argv_relay(struct argv *a, const struct ctx *x, int count, int globals, int progress)
{
	argv_add(a, x->t.self);
	argv_add(a, "--relay");
	if (count)
		argv_add(a, "--count-fd"), argv_addf(a, "%d", COUNT_FD);
	if (globals)
		argv_add(a, "--globals");
	if (progress)
		argv_add(a, "--progress");
	return argv_done(a);
}

/* -h HOST -p PORT -U USER -d DB --no-password, what is unset left to libpq:
 * psql's and pg_restore's */
static void
argv_conn(struct argv *a, const struct ctx *x, const char *db)
{
	if (x->conn.host)
		argv_add(a, "-h"), argv_add(a, x->conn.host);
	if (x->conn.port)
		argv_add(a, "-p"), argv_add(a, x->conn.port);
	if (x->conn.user)
		argv_add(a, "-U"), argv_add(a, x->conn.user);
	argv_add(a, "-d"), argv_add(a, db);
	argv_add(a, "--no-password");
}

/*
 * psql -X -q -v ON_ERROR_STOP=1 [-At [-c SQL]] -h HOST -p PORT -U USER
 * -d DB --no-password: the restore (the SQL on stdin), or queries whose
 * answers are read (tuples), from stdin or one statement.  ON_ERROR_STOP
 * always: even the globals run with it (the relay makes an existing role
 * no error).  What is unset is left to libpq.
 */
int
argv_psql(struct argv *a, const struct ctx *x, const char *db, int tuples, const char *sql)
{
	argv_add(a, x->t.psql);
	argv_add(a, "-X"), argv_add(a, "-q");
	argv_add(a, "-v"), argv_add(a, "ON_ERROR_STOP=1");
	if (tuples)
		argv_add(a, "-At");
	if (sql)
		argv_add(a, "-c"), argv_add(a, sql);
	argv_conn(a, x, db);
	return argv_done(a);
}

/* tar -x -f - -C DIR --no-same-owner: a directory backup unpacked for
 * pg_restore.  GNU tar drops a leading "/" and refuses members with "..",
 * so nothing lands outside DIR; the files are ours, whoever wrote them. */
int
argv_untar(struct argv *a, const struct ctx *x, const char *dir)
{
	argv_add(a, x->t.tar);
	argv_add(a, "-x"), argv_add(a, "-f"), argv_add(a, "-");
	argv_add(a, "-C"), argv_add(a, dir);
	argv_add(a, "--no-same-owner");
	return argv_done(a);
}

/*
 * pg_restore -j JOBS -e [-h HOST] [-p PORT] [-U USER] -d DB --no-password
 * [-t TABLE...] PATH: a custom archive file or a directory.  -e: stop at
 * the first error and exit non-zero, as psql's ON_ERROR_STOP does for a
 * plain backup; without it pg_restore goes on and the restore would look
 * whole.  JOBS: -j, else the entry's jobs key.
 */
int
argv_pg_restore(struct argv *a, const struct ctx *x, const char *db, const char *path)
{
	size_t i;

	argv_add(a, x->t.pg_restore);
	argv_add(a, "-j"), argv_addf(a, "%d", x->o->jobs ? x->o->jobs : conf_jobs(x->c, x->db));
	argv_add(a, "-e");
	argv_conn(a, x, db);
	for (i = 0; i < x->o->ntables; i++)
		argv_add(a, "-t"), argv_add(a, x->o->tables[i]);
	argv_add(a, path);
	return argv_done(a);
}

/* pg_restore -l PATH: the archive's table of contents, one entry a line */
int
argv_pg_list(struct argv *a, const struct ctx *x, const char *path)
{
	argv_add(a, x->t.pg_restore);
	argv_add(a, "-l"), argv_add(a, path);
	return argv_done(a);
}
