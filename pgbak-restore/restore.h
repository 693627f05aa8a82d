/*
 * pgbak-restore's parts, one concern a file:
 *   main.c     the command line, the signals, the exit status
 *   plan.c     which object to restore: the entry, its key, the newest one
 *   argv.c     every child's argv, built once to run it and to print it (-n)
 *   pipe.c     pgbak-get | [age -d] | [gzip -d or zstd -d] | relay | psql, and its
 *              outcome
 *   archive.c  a custom or directory backup: fetched to temp_dir, pg_restore -j
 *   target.c   the target database: refused, created, dropped; psql -c
 *   check.c    --check: a scratch database, the counts compared
 *   relay.c    the relay stage (pgbak-restore --relay): counts, roles, progress
 *   sql.c      quoting, and the names a dump's COPY and setval lines carry
 * Shared with pgbak-run: its environment policy (pgbak-run/env.c), the
 * pipeline engine and culprit rule (lib/spawn, lib/culprit), keys (lib/name).
 */
#ifndef PGBAK_RESTORE_H
#define PGBAK_RESTORE_H

#include <stdint.h>
#include <stdio.h>

#include "argv.h"
#include "conf.h"
#include "log.h"
#include "spawn.h"
#include "../pgbak-run/env.h"

#define OPT_TABLES_MAX 64	/* -t TABLE given at most this often */

struct opts {
	const char *settings;	/* -c; NULL: /etc/pgbak/pgbak.yaml */
	const char *date;	/* -D YYYYMMDD; NULL: the newest */
	const char *into;	/* --into NEWDB */
	const char *identity;	/* -i: age identity file */
	const char *host, *port, *user;	/* -h -p -U: on top of PG* and the entry */
	const char *database;	/* the entry's database */
	int force, globals, dry_run, check, keep;
	const char *tables[OPT_TABLES_MAX + 1];	/* -t: pg_restore -t, NULL-terminated */
	size_t ntables;
	int jobs;		/* -j: pg_restore -j; 0: the entry's jobs */
};

/* The programs a restore runs, resolved once. */
struct tools {
	char *get, *age, *gunzip, *psql, *self;
	char *unzstd;		/* zstd, for a .zst backup */
	char *pg_restore;	/* a custom or directory backup (archive.c) */
	char *tar;		/* a directory backup, stored as a tar */
};

/* Where psql connects: NULL fields are libpq's defaults. */
struct conn {
	const char *host, *port, *user;
	const char *password;	/* NULL: the environment's PGPASSWORD, .pgpass */
};

struct ctx {
	const struct opts *o;
	const struct conf *c;
	const struct conf_db *db;
	struct tools t;
	char **env_s3;		/* pgbak-get's: no database secret */
	char **env_bare;	/* age, gzip, the relay: no secret at all */
	char **env_pg;		/* psql's: env_bare plus PGPASSWORD */
	char *pw;		/* "PGPASSWORD=..." in env_pg, wiped at the end */
	int settings_fd;	/* the s3 section as loaded (conf_s3_fd) */
	int cancel_fd;		/* readable once a stopping signal arrived */
	struct conn conn;	/* the target server */
};

/* The S3 child's descriptor for the settings, as pgbak-run's. */
#define SETTINGS_FD 4
/* The relay's descriptor for its counts (--count-fd). */
#define COUNT_FD 3

/* argv.c: each child's argv (lib/argv) */
int argv_get(struct argv *a, const struct ctx *x, const char *key);
int argv_age(struct argv *a, const struct ctx *x);
int argv_gunzip(struct argv *a, const struct ctx *x);
int argv_unzstd(struct argv *a, const struct ctx *x);
int argv_relay(struct argv *a, const struct ctx *x, int count, int globals, int progress);
int argv_psql(struct argv *a, const struct ctx *x, const char *db, int tuples, const char *sql);
int argv_untar(struct argv *a, const struct ctx *x, const char *dir);
int argv_pg_restore(struct argv *a, const struct ctx *x, const char *db, const char *path);
int argv_pg_list(struct argv *a, const struct ctx *x, const char *path);

/* plan.c: the keys to restore */
struct plan {
	char ymd[9];
	char *key;		/* the database's dump */
	char *globals_key;	/* with --globals */
	int age;		/* the dump is .gz.age */
	int comp;		/* its lib/name NAME_KINDS: compression (NAME_ZSTD, NAME_RAW,
				 * 0) and format (NAME_CUSTOM, NAME_DIR, 0 plain) */
};
int plan_make(const struct ctx *x, struct plan *p, struct log_err *e);
void plan_free(struct plan *p);
int ctx_open(struct ctx *x, const struct opts *o, struct conf *c, struct log_err *e);
void ctx_close(struct ctx *x);
void ctx_server(struct ctx *x, const struct conn *base, const struct conf_restore_check *pin);
int ctx_age(struct ctx *x, struct log_err *e);
int ctx_zstd(struct ctx *x, struct log_err *e);
int ctx_archive(struct ctx *x, int flags, struct log_err *e);

/* pipe.c: one object into one database */
struct outcome {
	uint64_t got;		/* bytes fetched */
	uint64_t sql;		/* bytes of SQL */
	double seconds;
	int stage;		/* the culprit's index, -1 none */
	const char *stage_name;	/* the culprit's name */
	int could_not_run;	/* the culprit is pgbak-get or age, or spawn itself */
	char why[1024];		/* the culprit's line */
};
enum { ST_GET, ST_AGE, ST_GUNZIP, ST_RELAY, ST_PSQL };
/* A pipeline's stages and their argv (pipe.c). */
#define STAGES_MAX 5
struct stages {
	struct argv a[STAGES_MAX];
	struct spawn_stage st[STAGES_MAX];
	const char *label[STAGES_MAX];
	size_t n;
	int psql;		/* index of psql */
};
int stages_fetch(struct stages *s, const struct ctx *x, const char *key);
void stage(struct stages *s, const char *name, char **env);
void stages_free(struct stages *s);
int pipe_restore(const struct ctx *x, const char *key, const char *db, int globals,
    int count_fd, struct outcome *out);
void pipe_show(FILE *f, const struct ctx *x, const char *key, const char *db, int globals,
    int count);
struct spawn_stage;
void stage_why(const struct spawn_stage *s, char *buf, size_t n);
void psql_show(FILE *f, const struct ctx *x, char *const *argv);
double now_s(void);
void human_bytes(uint64_t n, char *buf, size_t len);
void human_count(uint64_t n, char *buf, size_t len);
void human_time(double s, char *buf, size_t len);

/* archive.c: a custom or directory backup (lib/name's NAME_CUSTOM,
 * NAME_DIR) through a temporary file or directory and pg_restore -j */
int archive_restore(const struct ctx *x, const char *key, const char *db,
    struct outcome *out);
void archive_show(FILE *f, const struct ctx *x, const char *key, const char *db);

/* target.c */
int psql_run(const struct ctx *x, const char *db, const char *sql, int in_fd, int out_fd,
    const char *what, struct log_err *e);
int psql_query(const struct ctx *x, const char *db, const char *sql, char *out, size_t n,
    const char *what, struct log_err *e);
int target_prepare(const struct ctx *x, const char *db, int source, struct log_err *e);
int target_create(const struct ctx *x, const char *db, struct log_err *e);
int target_drop(const struct ctx *x, const char *db, struct log_err *e);
void target_show(FILE *f, const struct ctx *x, const char *db, int create);

/* restore.c: --globals, then the database, into the target; the summary */
int restore_run(struct ctx *x, const struct plan *p);

/* check.c */
int check_run(struct ctx *x, const struct plan *p);

/* relay.c: pgbak-restore --relay */
int relay_main(int argc, char **argv);

/* sql.c */
int sql_ident(char *out, size_t n, const char *s);
int sql_literal(char *out, size_t n, const char *s);
size_t sql_name(const char *s, size_t n);
size_t sql_literal_len(const char *s, size_t n);

#endif
