/*
 * target: the database a restore writes into, and the statements about it,
 * each one psql -c run through lib/spawn like the restore's own stages
 * (argv.c, the same environment).  Names go into SQL quoted (sql.c).
 * Without --into the target is the source database: refused when it
 * exists, unless --force; created when it does not (the day it is lost).
 * --into NEWDB: created, or refused when it exists and holds relations.
 * CREATE DATABASE takes the server's default template, as a DBA's would.
 */
#define _GNU_SOURCE 1		/* memfd_create */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "restore.h"
#include "spawn.h"

#define MAINTENANCE_DB "postgres"

/* psql -At [-c SQL] against db, stdin from in_fd (-1: none), its output
 * into out_fd.  On failure e says "WHAT: psql exited 2: its error line"
 * (EXIT_TEMP). */
int
psql_run(const struct ctx *x, const char *db, const char *sql, int in_fd, int out_fd,
    const char *what, struct log_err *e)
{
	struct argv a ARGV_AUTO = { 0 };
	struct spawn_stage st;
	struct spawn_pipe p;
	char why[sizeof e->msg];

	if (argv_psql(&a, x, db, 1, sql) < 0)
		return log_fail(e, EXIT_TEMP, "out of memory");
	memset(&st, 0, sizeof st);
	st.name = "psql";
	st.argv = a.v;
	st.envp = x->env_pg;
	st.capture = 1;
	memset(&p, 0, sizeof p);
	p.st = &st;
	p.n = 1;
	p.in_fd = in_fd;
	p.out_fd = out_fd;
	p.cancel_fd = x->cancel_fd;
	if (spawn_run(&p, e) == 0)
		return 0;
	if (p.failed == 0)
		stage_why(&st, why, sizeof why);
	else
		snprintf(why, sizeof why, "%s", e->msg);
	return log_fail(e, EXIT_TEMP, "%s: %s", what, why);
}

/* psql -At -c SQL against db: its first line of output into out; on
 * failure e as psql_run's. */
int
psql_query(const struct ctx *x, const char *db, const char *sql, char *out, size_t n,
    const char *what, struct log_err *e)
{
	ssize_t got;
	int fd, rc;

	out[0] = '\0';
	if ((fd = memfd_create("pgbak-restore-psql", MFD_CLOEXEC)) < 0)
		return log_fail_sys(e, EXIT_TEMP, "memfd_create");
	if ((rc = psql_run(x, db, sql, -1, fd, what, e)) == 0) {
		if ((got = pread(fd, out, n - 1, 0)) < 0) {
			rc = log_fail_sys(e, EXIT_TEMP, "unable to read psql's answer");
		} else {
			out[got] = '\0';
			out[strcspn(out, "\n")] = '\0';
		}
	}
	close(fd);
	return rc;
}

/* VERB "db" into sql; -1 when the name does not fit. */
static int
statement_sql(char *sql, size_t n, const char *verb, const char *db)
{
	char id[300];

	if (sql_ident(id, sizeof id, db) < 0)
		return -1;
	snprintf(sql, n, "%s %s", verb, id);
	return 0;
}

/* VERB DATABASE "db" (CREATE, DROP ... IF EXISTS) on the maintenance database. */
static int
statement(const struct ctx *x, const char *verb, const char *what, const char *db,
    struct log_err *e)
{
	char sql[600], out[64], why[400];

	if (statement_sql(sql, sizeof sql, verb, db) < 0)
		return log_fail(e, EXIT_USAGE, "database name too long: %s", db);
	snprintf(why, sizeof why, "unable to %s database %s", what, db);
	return psql_query(x, MAINTENANCE_DB, sql, out, sizeof out, why, e);
}

/* -n: the psql that would run VERB "db", as it would run. */
static void
statement_show(FILE *f, const struct ctx *x, const char *verb, const char *db)
{
	struct argv a ARGV_AUTO = { 0 };
	char sql[600];

	if (statement_sql(sql, sizeof sql, verb, db) < 0 ||
	    argv_psql(&a, x, MAINTENANCE_DB, 1, sql) < 0)
		die(EXIT_TEMP, "out of memory");
	psql_show(f, x, a.v);
	fputc('\n', f);
}

void
target_show(FILE *f, const struct ctx *x, const char *db, int create)
{
	statement_show(f, x, create ? "CREATE DATABASE" : "DROP DATABASE IF EXISTS", db);
}

int
target_create(const struct ctx *x, const char *db, struct log_err *e)
{
	return statement(x, "CREATE DATABASE", "create", db, e);
}

int
target_drop(const struct ctx *x, const char *db, struct log_err *e)
{
	return statement(x, "DROP DATABASE IF EXISTS", "drop", db, e);
}

/* 0 ready to restore into (created if it was not there), -1 refused
 * (EXIT_USAGE) or could not tell (EXIT_TEMP). */
int
target_prepare(const struct ctx *x, const char *db, int source, struct log_err *e)
{
	char sql[600], lit[300], out[64], what[400];

	if (sql_literal(lit, sizeof lit, db) < 0)
		return log_fail(e, EXIT_USAGE, "database name too long: %s", db);
	snprintf(sql, sizeof sql, "SELECT count(*) FROM pg_catalog.pg_database WHERE datname = %s",
	    lit);
	snprintf(what, sizeof what, "unable to look for database %s", db);
	if (psql_query(x, MAINTENANCE_DB, sql, out, sizeof out, what, e) < 0)
		return -1;
	if (strcmp(out, "0") == 0)
		return target_create(x, db, e);
	if (x->o->force)
		return 0;
	if (source)
		return log_fail(e, EXIT_USAGE, "refusing to restore over the source database %s, "
		    "which exists: --into NEWDB restores into a new one, --force over it", db);
	snprintf(what, sizeof what, "unable to look into database %s", db);
	if (psql_query(x, db, "SELECT count(*) FROM pg_catalog.pg_class c "
	    "JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
	    "WHERE n.nspname <> 'information_schema' AND n.nspname !~ '^pg_'",
	    out, sizeof out, what, e) < 0)
		return -1;
	if (strcmp(out, "0") != 0)
		return log_fail(e, EXIT_USAGE, "refusing to restore into database %s: it exists "
		    "and holds %s relations (--force restores into it all the same)", db, out);
	return 0;
}
