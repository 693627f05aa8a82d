/* pgbak-run's parts: one database's backup (job.c), its report (report.c). */
#ifndef PGBAK_RUN_H
#define PGBAK_RUN_H

#include <stdint.h>
#include <stdio.h>

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
};

enum run_state { RUN_NOTRUN, RUN_OK, RUN_SKIPPED, RUN_FAILED };

struct run_result {
	const struct conf_db *db;
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
void job_run(const struct run_ctx *x, struct run_result *r);
void job_dry_run(const struct run_ctx *x, const struct conf_db *db, const char *key,
    const char *local, FILE *f);

/* report.c */
void report(FILE *f, const struct run_result *r, int json);
void report_duration(long s, char *buf, size_t n);
void report_quote(FILE *f, const char *s);

#endif
