/* pgbak-run's parts: one database's backup (job.c), its report (report.c). */
#ifndef PGBAK_RUN_H
#define PGBAK_RUN_H

#include <stdint.h>
#include <stdio.h>
#include <time.h>

#include "conf.h"

struct run_opts {
	const char *settings;	/* the settings file, also passed to pgbak-put -c */
	int force;		/* back up even when today's object exists */
	int dry_run;
	int json;
	int jobs;		/* databases at once */
	int daemon;
	int verify;		/* --verify: check each object after its upload */
};

/* The programs a run executes, resolved once. */
struct run_tools {
	char *pg_dump, *gzip, *put, *exists, *verify;
	char *prune;		/* pgbak-prune; NULL: no database has a retention policy */
	char *pg_dumpall;	/* when a database has globals: true */
	char *age;		/* when the settings have encrypt */
};

enum run_state { RUN_NOTRUN, RUN_OK, RUN_SKIPPED, RUN_FAILED };

struct run_result {
	const struct conf_db *db;
	int globals;		/* the cluster's globals (pg_dumpall), not the dump */
	char *key, *local;
	enum run_state state;
	int verified;		/* pgbak-verify found the stored backup whole */
	char reason[1024];	/* why skipped or failed, one line */
	uint64_t dump_bytes, gzip_bytes;
	double seconds;
};

/* Everything the jobs of one run share, read-only while they run. */
struct run_ctx {
	const struct run_opts *o;
	const struct conf *c;
	const struct run_tools *t;
	char **env;		/* pgbak-put, pgbak-exists: environ without PGPASSWORD */
	char **env_bare;	/* pgbak-gzip, pg_dump: also no password, no S3 secret */
	int cancel_fd;		/* readable once SIGTERM/SIGINT arrived */
};

/* job.c */
int job_env(struct run_ctx *x);
void job_env_free(struct run_ctx *x);
int job_name(const struct conf *c, const struct conf_db *db, int globals, const char *ymd,
    char **key, char **local, struct log_err *e);
void job_run(const struct run_ctx *x, struct run_result *r);
void job_dry_run(const struct run_ctx *x, const struct conf_db *db, int globals,
    const char *key, const char *local, FILE *f);

/* report.c */
void report(FILE *f, const struct run_result *r, int json);
void report_duration(long s, char *buf, size_t n);
void report_quote(FILE *f, const char *s);

/* notify.c: metrics_file, on_success/on_failure, ping_url after each run */
int notify_check(const struct conf *c, struct log_err *e);
void notify_run(const struct run_ctx *x, const struct run_result *res, size_t n,
    const struct timespec *t0);
void notify_dry_run(const struct run_ctx *x, FILE *f);

/* lock.c: one run of a settings file at a time on this host.  0 when held
 * until the process ends (or, warned, when the file cannot be locked at
 * all), -1 with e (EXIT_NO) when another process holds it. */
int lock_settings(const char *path, struct log_err *e);

#endif
