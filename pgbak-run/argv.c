/*
 * argv: every child's command line, built in one place.  The run hands
 * these to spawn and -n/-v print the very same arrays, so what the dry run
 * shows cannot drift from what runs.  Each builder fills a zeroed struct
 * argv (lib/argv; argv_free releases it); a flag more is one argv_add line.  No
 * secret goes here: the password reaches pg_dump through its environment.
 */
#include <stdio.h>

#include "argv.h"
#include "keep.h"
#include "log.h"
#include "run.h"

/* The S3 children read the settings pgbak-run loaded from SETTINGS_FD. */
static void
argv_settings(struct argv *a)
{
	argv_add(a, "--settings-fd");
	argv_addf(a, "%d", SETTINGS_FD);
}

/* -h HOST -p PORT -U USER, what is unset left to libpq */
static void
argv_conn(struct argv *a, const struct conf_db *db)
{
	if (db->host)
		argv_add(a, "-h"), argv_add(a, db->host);
	if (db->port > 0)
		argv_add(a, "-p"), argv_addf(a, "%d", db->port);
	if (db->user)
		argv_add(a, "-U"), argv_add(a, db->user);
}

/*
 * format: custom adds -Fc -Z0, format: directory -Fd -Z0 -j JOBS (its -f
 * DIR comes from dirfmt.c, once the directory is made).  -Z0: the
 * pipeline's own stage compresses, as for a plain dump; on the bench
 * database (bench/README.md, case 14, two runs) pg_dump -Fc -Z0 | zstd -3
 * -T2 took 0.69-0.78x the wall and 0.71-0.81x the CPU of pg_dump's own -Z6
 * for 0.90x the bytes, and | pgbak-gzip -6 0.62-0.90x the wall for the same
 * bytes at 1.06-1.16x the CPU: pg_dump compresses in the process that also
 * waits on the server, on one core, zlib only (PostgreSQL 15).
 * The directory also gets --no-sync: tar reads it once from the page cache
 * and it is removed, so pg_dump's closing fsync of every file (its
 * default) would only make the database host's disk write the whole dump.
 */
static void
argv_format(struct argv *a, const struct run_ctx *x, const struct conf_db *db)
{
	switch (conf_format(x->c, db)) {
	case CONF_CUSTOM:
		argv_add(a, "-Fc"), argv_add(a, "-Z0");
		break;
	case CONF_DIRECTORY:
		argv_add(a, "-Fd"), argv_add(a, "-Z0"), argv_add(a, "--no-sync");
		argv_add(a, "-j"), argv_addf(a, "%d", conf_jobs(x->c, db));
		break;
	default:
		break;
	}
}

/* pg_dump -h HOST -p PORT -U USER -d DATABASE --no-password [OPTIONS...],
 * what is unset left to libpq, OPTIONS pg_dump_options (dumpopts.c checked
 * them), the entry's or else the task's.  For the globals:
 * pg_dumpall -h HOST -p PORT -U USER -l DATABASE --globals-only
 * [--no-role-passwords] --no-password; without the passwords it reads
 * pg_roles, not pg_authid, and needs no superuser (managed services).
 * The globals are plain SQL whatever the format: pg_dumpall has no other. */
int
argv_dump(struct argv *a, const struct run_ctx *x, const struct conf_db *db, int globals)
{
	char **o = db->pg_dump_options ? db->pg_dump_options : x->c->pg_dump_options;

	if (globals)
		argv_add(a, db->bin_dumpall ? db->bin_dumpall : x->t->pg_dumpall);
	else
		argv_add(a, db->bin_dump ? db->bin_dump : x->t->pg_dump);
	argv_conn(a, db);
	argv_add(a, globals ? "-l" : "-d"), argv_add(a, db->database);
	if (globals)
		argv_add(a, "--globals-only");
	if (globals && !db->globals_passwords)
		argv_add(a, "--no-role-passwords");
	argv_add(a, "--no-password");
	for (; !globals && o && *o; o++)
		argv_add(a, *o);
	if (!globals)
		argv_format(a, x, db);
	return argv_done(a);
}

/* psql -X -A -t -0 -v ON_ERROR_STOP=1 [-h H] [-p P] [-U U] -d DBNAME
 * --no-password -c SQL: for discover.c, the databases of db's server
 * (database "*", DBNAME postgres, pg_dumpall's first choice) one a row, each
 * ended by a NUL, and its version (pg_dump: auto) */
int
argv_psql(struct argv *a, const struct run_ctx *x, const struct conf_db *db, const char *dbname,
    const char *sql)
{
	argv_add(a, x->t->psql);
	argv_add(a, "-X"), argv_add(a, "-A"), argv_add(a, "-t"), argv_add(a, "-0");
	argv_add(a, "-v"), argv_add(a, "ON_ERROR_STOP=1");
	argv_conn(a, db);
	argv_add(a, "-d"), argv_add(a, dbname);
	argv_add(a, "--no-password");
	argv_add(a, "-c"), argv_add(a, sql);
	return argv_done(a);
}

/* pgbak-gzip [-LEVEL] */
int
argv_gzip(struct argv *a, const struct run_ctx *x, int level)
{
	argv_add(a, x->t->gzip);
	if (level > 0)
		argv_addf(a, "-%d", level);
	return argv_done(a);
}

/*
 * zstd -q -c -LEVEL -T2 [--zstd=minMatch=6] --check: the zstd program as
 * a stage, as pgbak-gzip is one, rather than libzstd in pgbak-gzip: no new
 * library to build against, zstd's own worker threads, and a process of its
 * own, so the pipeline's rules (its exit status decides the commit; a failure
 * names it, "zstd exited 1") hold unchanged.  -T2: two workers at most,
 * a bound a database host can plan for, where -T0 would take every core
 * from the server being dumped.  --check (zstd's default, written out
 * because pgbak-verify relies on it): each frame carries its checksum.
 * Level 3, zstd's own default, when none is set.
 *
 * minMatch 6 at levels 3 to 15, as levels 1 and 2 have it: there zstd's
 * match finders (dfast, greedy, lazy, btlazy2) take a match of 5 bytes
 * whenever they find one, and a dump's COPY text (numbers, timestamps, the
 * hex of md5s, uuids, bytea) is full of 5-byte repeats that cost more as
 * matches than as literals.  On dumps it stores 1 to 6 % fewer bytes
 * (bench case 13b, level 3: 0.871 -> 0.840 of gzip -6's, for no more
 * CPU); on general text (/usr/include) it loses 0.5 %.  Levels 16 to 19
 * weigh each match's cost (the optimal parsers): no gain there, so zstd's
 * own.  The frames are plain zstd: any zstd -d reads them.
 */
#define ZSTD_MML_LOW 3		/* the levels that get minMatch 6 */
#define ZSTD_MML_HIGH 15

int
argv_zstd(struct argv *a, const struct run_ctx *x, int level)
{
	if (level <= 0)
		level = 3;
	argv_add(a, x->t->zstd);
	argv_add(a, "-q"), argv_add(a, "-c");
	argv_addf(a, "-%d", level);
	argv_add(a, "-T2");
	if (level >= ZSTD_MML_LOW && level <= ZSTD_MML_HIGH)
		argv_add(a, "--zstd=minMatch=6");
	argv_add(a, "--check");
	return argv_done(a);
}

/* The compression stage of db's dump into a (left empty, v NULL, for
 * compression: none) and its name for the pipeline's messages. */
int
argv_compress(struct argv *a, const struct run_ctx *x, const struct conf_db *db,
    const char **name)
{
	int level = conf_level(x->c, db);

	switch (conf_compression(x->c, db)) {
	case CONF_NONE:
		*name = NULL;
		return 0;
	case CONF_ZSTD:
		*name = "zstd";
		return argv_zstd(a, x, level);
	default:
		*name = "pgbak-gzip";
		return argv_gzip(a, x, level);
	}
}

/* tar -C DIR -cf - .: format: directory's files as one stream, in place
 * of pg_dump in the pipeline (dirfmt.c); members ./toc.dat, ./NNNN.dat. */
int
argv_tar(struct argv *a, const struct run_ctx *x, const char *dir)
{
	argv_add(a, x->t->tar);
	argv_add(a, "-C"), argv_add(a, dir);
	argv_add(a, "-cf"), argv_add(a, "-");
	argv_add(a, ".");
	return argv_done(a);
}

/* age -r R1 -r R2 ...: recipients are public keys, so argv may show them. */
int
argv_age(struct argv *a, const struct run_ctx *x)
{
	char **r = x->c->encrypt.age_recipients;
	size_t i;

	argv_add(a, x->t->age);
	for (i = 0; r && r[i]; i++)
		argv_add(a, "-r"), argv_add(a, r[i]);
	return argv_done(a);
}

/* pgbak-exists --settings-fd 4 -- KEY */
int
argv_exists(struct argv *a, const struct run_ctx *x, const char *key)
{
	argv_add(a, x->t->exists);
	argv_settings(a);
	argv_add(a, "--"), argv_add(a, key);
	return argv_done(a);
}

/* pgbak-put --settings-fd 4 -C 3 [--if-absent] [--expected-size SIZE] -- KEY:
 * the commit on descriptor 3; size NULL when streaming.  Without -f an
 * object that another run stored meanwhile (another host, other settings
 * naming the same bucket) is never replaced: pgbak-put exits 1 instead
 * (job.c, stored_by_other). */
int
argv_put(struct argv *a, const struct run_ctx *x, const char *key, const char *size)
{
	argv_add(a, x->t->put);
	argv_settings(a);
	argv_add(a, "-C"), argv_add(a, "3");
	if (!x->o->force)
		argv_add(a, "--if-absent");
	if (size)
		argv_add(a, "--expected-size"), argv_add(a, size);
	argv_add(a, "--"), argv_add(a, key);
	return argv_done(a);
}

/* pgbak-put --settings-fd 4 --abort-stale=TIMEOUT --any-date -- KEY */
int
argv_stale(struct argv *a, const struct run_ctx *x, const char *key, long timeout)
{
	argv_add(a, x->t->put);
	argv_settings(a);
	argv_addf(a, "--abort-stale=%ld", timeout);
	argv_add(a, "--any-date");
	argv_add(a, "--"), argv_add(a, key);
	return argv_done(a);
}

/* pgbak-verify --settings-fd 4 -- KEY, or for a local file pgbak-verify -f FILE */
int
argv_verify(struct argv *a, const struct run_ctx *x, const char *key, const char *file)
{
	argv_add(a, x->t->verify);
	if (file) {
		argv_add(a, "-f"), argv_add(a, file);
	} else {
		argv_settings(a);
		argv_add(a, "--"), argv_add(a, key);
	}
	return argv_done(a);
}

/*
 * pgbak-prune --settings-fd 4 --today YMD --keep-RULE=N... [-v] -- KEY.
 * The database's policy goes as flags, so pgbak-prune needs nothing of
 * the settings but the s3 section, and KEY alone names the series.
 */
int
argv_prune(struct argv *a, const struct run_ctx *x, const struct keep_policy *pol,
    const char *ymd, const char *key)
{
	const char *rule[] = { "days", "daily", "weekly", "monthly" };
	int n[] = { pol->days, pol->daily, pol->weekly, pol->monthly };
	size_t i;

	argv_add(a, x->t->prune);
	argv_settings(a);
	argv_add(a, "--today"), argv_add(a, ymd);
	for (i = 0; i < 4; i++)
		if (n[i])
			argv_addf(a, "--keep-%s=%d", rule[i], n[i]);
	if (log_verbose)
		argv_add(a, "-v");	/* its "kept N, deleted M" on stderr */
	argv_add(a, "--"), argv_add(a, key);
	return argv_done(a);
}

/*
 * pgbak-restore --check -c SETTINGS -D YMD -- DATABASE: the backup just
 * stored, by its date.  pgbak-restore reads the settings file itself (it
 * takes no --settings-fd: it needs the database's entry, its password and
 * the restore_check server, not only the s3 section).
 */
int
argv_restore_check(struct argv *a, const struct run_ctx *x, const char *restore,
    const struct conf_db *db, const char *ymd)
{
	argv_add(a, restore);
	argv_add(a, "--check");
	argv_add(a, "-c"), argv_add(a, x->o->settings);
	argv_add(a, "-D"), argv_add(a, ymd);
	argv_add(a, "--"), argv_add(a, db->database);
	return argv_done(a);
}
