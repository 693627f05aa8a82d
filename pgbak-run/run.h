/*
 * pgbak-run's parts, one concern a file:
 *   main.c     the command line and the signals
 *   load.c     the settings checks, and the programs a run needs
 *   pass.c     running the passes: one run, -n's, and --daemon's loop
 *   discover.c a pass's entries, database "*" listed by its server
 *   dumpopts.c pg_dump_options, against the list of what may be passed
 *   job.c      one database's backup: its pipeline, what the ways to store share
 *   store.c    the three ways to store it (stream, temp file, local), and the
 *              check whether it is already there
 *   after.c    what follows a stored backup: verify, stale uploads, prune
 *   dryrun.c   --dry-run's lines for a database
 *   dirfmt.c   format: directory: pg_dump -Fd into temp_dir, then tar in its place
 *   argv.c     every child's argv, built once to run it and to print it (-n, -v)
 *   env.c      which variables each kind of child gets
 *   report.c   a database's line of the summary, or its --json object
 *   notify.c   what follows each run: the summary of it, the ping_url
 *   hooks.c    on_success / on_failure
 *   metrics.c  metrics_file
 *   rcheck.c   restore_check.every: pgbak-restore --check after a backup
 * Shared with the other programs, in lib/: name (keys), spawn (pipelines),
 * atomic (local mode's and metrics_file's temp, fsync, rename), ping, keep.
 */
#ifndef PGBAK_RUN_H
#define PGBAK_RUN_H

#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

#include "argv.h"
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
	char *zstd;		/* when a database has compression: zstd */
	char *psql;		/* when a database is "*" (discover.c) */
	char *tar;		/* when a database has format: directory (dirfmt.c) */
};

enum run_state { RUN_NOTRUN, RUN_OK, RUN_SKIPPED, RUN_FAILED };

struct run_result {
	const struct conf_db *db;
	int globals;		/* the cluster's globals (pg_dumpall), not the dump */
	char *key, *local;
	enum run_state state;
	int verified;		/* pgbak-verify found the stored backup whole */
	int config;		/* failed for the settings (no pg_dump fits): exit 100 */
	char reason[1024];	/* why skipped or failed, one line */
	uint64_t dump_bytes, gzip_bytes;
	double seconds;
	/* rcheck.c: the restore check after this backup, when one was due */
	int checked;		/* 1 ran and passed, -1 ran and failed, 0 did not run */
	uint64_t check_rows;	/* rows the check counted, when it passed */
	double check_seconds;
	time_t check_end;	/* Unix time it ended */
};

/* Everything the jobs of one run share, read-only while they run. */
struct run_ctx {
	const struct run_opts *o;
	const struct conf *c;
	const struct run_tools *t;
	char **env;		/* the S3 children's: env_for(ENV_S3) */
	char **env_bare;	/* pgbak-gzip, age, pg_dump's: env_for(ENV_BARE) */
	int settings_fd;	/* the s3 section as loaded (conf_s3_fd); -1: none */
	int cancel_fd;		/* readable once SIGTERM/SIGINT arrived */
};

/* The S3 children's descriptor for the settings (3 is pgbak-put's commit). */
#define SETTINGS_FD 4

/* argv.c: a child's argv (lib/argv), v NULL-terminated; builders take a
 * zeroed one and return 0, or -1 out of memory (released) */
struct keep_policy;
int argv_dump(struct argv *a, const struct run_ctx *x, const struct conf_db *db, int globals);
int argv_gzip(struct argv *a, const struct run_ctx *x, int level);
int argv_zstd(struct argv *a, const struct run_ctx *x, int level);
int argv_compress(struct argv *a, const struct run_ctx *x, const struct conf_db *db,
    const char **name);
int argv_psql(struct argv *a, const struct run_ctx *x, const struct conf_db *db,
    const char *dbname, const char *sql);
int argv_age(struct argv *a, const struct run_ctx *x);
int argv_tar(struct argv *a, const struct run_ctx *x, const char *dir);
int argv_exists(struct argv *a, const struct run_ctx *x, const char *key);
int argv_put(struct argv *a, const struct run_ctx *x, const char *key, const char *size);
int argv_stale(struct argv *a, const struct run_ctx *x, const char *key, long timeout);
int argv_verify(struct argv *a, const struct run_ctx *x, const char *key, const char *file);
int argv_prune(struct argv *a, const struct run_ctx *x, const struct keep_policy *pol,
    const char *ymd, const char *key);
int argv_restore_check(struct argv *a, const struct run_ctx *x, const char *restore,
    const struct conf_db *db, const char *ymd);

/* env.c: which variables each kind of child gets (env.h: pgbak-restore's too) */
#include "env.h"

/*
 * A temporary name holds at most this many bytes of the backup's name:
 * lib/name lets a name reach NAME_MAX (255), and the unique tail a
 * temporary name adds (".PID.N.tmp", ".XXXXXX") must still fit, else a name
 * that pgbak-name accepts could not be written.  The tail, not the stem,
 * makes it unique.
 */
#define TEMP_STEM_MAX 200

/* The dump's stages in its pipeline (GZIP: its compression stage, when
 * it has one: gz_argv.v not NULL). */
enum { DUMP, GZIP };

/* One database's pg_dump (or pg_dumpall), its compression stage (pgbak-gzip
 * or zstd, none for compression: none) and age, ready to run. */
struct dump {
	const char *name;	/* "pg_dump" or "pg_dumpall" */
	const char *gz_name;	/* "pgbak-gzip" or "zstd"; NULL: no compression stage */
	struct argv argv, gz_argv;	/* argv.c's; gz_argv.v NULL: none */
	struct argv age_argv;	/* v NULL: no encryption */
	char **env;		/* pg_dump's: env_bare plus PGPASSWORD */
	char *pw;		/* "PGPASSWORD=...", wiped when done */
	int has_pw;		/* show PGPASSWORD=*** */
	int dir_format;		/* format: directory: pg_dump -Fd first (dirfmt.c) */
	char *dir;		/* its temporary directory, removed by dump_release */
};

struct spawn_stage;
struct spawn_pipe;

/* job.c */
int job_env(struct run_ctx *x, struct log_err *e);
void job_env_free(struct run_ctx *x);
int job_name(const struct conf *c, const struct conf_db *db, int globals, const char *ymd,
    char **key, char **local, struct log_err *e);
void job_run(const struct run_ctx *x, struct run_result *r);
double now_s(void);
long timeout_of(const struct conf *c, const struct conf_db *db);
int dump_prepare(const struct run_ctx *x, const struct conf_db *db, int globals,
    struct dump *d);
void dump_release(struct dump *d);
void job_stage(struct spawn_stage *s, const char *name, char *const *argv, char **env);
void s3_stage(const struct run_ctx *x, struct spawn_stage *s, const char *name,
    char *const *argv);
size_t make_stages(const struct run_ctx *x, struct dump *d, struct spawn_stage *st);
void stage_bytes(struct run_result *r, const struct dump *d, const struct spawn_stage *st);
void pipe_init(const struct run_ctx *x, struct spawn_pipe *p, struct spawn_stage *st,
    size_t n, double deadline);
void job_show(FILE *f, int has_pw, char *const *argv);
void show_line(const char *key, const struct spawn_pipe *p, const struct dump *d,
    const char *tail);
void tell_stderr(const char *key, const struct spawn_pipe *p, int all);
void set_reason(struct run_result *r, enum run_state st, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void fail_pipe(const struct run_ctx *x, struct run_result *r, const struct spawn_pipe *p,
    const struct log_err *e, long timeout);

/* dirfmt.c: format: directory.  dir_dump runs pg_dump -Fd into a new
 * temporary directory and, once it exited 0, puts tar in pg_dump's place in
 * d (0); -1 with r's reason set.  dir_remove removes it (dump_release calls
 * it).  dir_dry_run shows pg_dump's line and puts tar in its place. */
int dir_dump(const struct run_ctx *x, struct run_result *r, struct dump *d, double deadline,
    long timeout);
void dir_remove(struct dump *d);
int dir_dry_run(const struct run_ctx *x, struct dump *d, const char *local, FILE *f);

/* store.c: whether today's backup is there (1, 0, -1 reason set), and the
 * three ways to store it, each setting r's state */
int exists_s3(const struct run_ctx *x, struct run_result *r, double deadline, long timeout);
int exists_local(const struct run_ctx *x, struct run_result *r);
void store_stream(const struct run_ctx *x, struct run_result *r, struct dump *d, double deadline,
    long timeout);
void store_temp_file(const struct run_ctx *x, struct run_result *r, struct dump *d,
    double deadline, long timeout);
void store_local(const struct run_ctx *x, struct run_result *r, struct dump *d, double deadline,
    long timeout);
char *local_path(const struct run_ctx *x, const char *key);

/* after.c */
void abort_stale(const struct run_ctx *x, struct run_result *r, double deadline,
    long timeout);
void verify_stored(const struct run_ctx *x, struct run_result *r, long timeout);
void prune_after(const struct run_ctx *x, struct run_result *r, const char *ymd,
    long timeout);

/* rcheck.c: pgbak-restore --check after a backup stored, when restore_check.every
 * says one is due; a failed check fails the database ("restore check: ...") */
void rcheck_after(const struct run_ctx *x, struct run_result *r, const char *ymd,
    long timeout);
void rcheck_dry_run(const struct run_ctx *x, const struct conf_db *db, FILE *f);

/* dryrun.c */
void job_dry_run(const struct run_ctx *x, const struct conf_db *db, int globals,
    const char *key, const char *local, FILE *f);

/* report.c */
void report(FILE *f, const struct run_result *r, int json);
void report_duration(long s, char *buf, size_t n);

/* notify.c: metrics_file, on_success/on_failure, ping_url after each run */
int notify_check(const struct conf *c, struct log_err *e);
void notify_run(const struct run_ctx *x, const struct run_result *res, size_t n,
    const struct timespec *t0);
void notify_dry_run(const struct run_ctx *x, FILE *f);

/* One run, as the hooks and the metrics see it (notify.c sums it up). */
struct summary {
	size_t n, ok, skipped, failed;
	uint64_t bytes;		/* compressed bytes stored by the databases ok */
	double seconds;
	time_t end;
};

/* hooks.c: on_success or on_failure, by the run's outcome */
void hooks_run(const struct run_ctx *x, const struct run_result *res, const struct summary *s);
void hooks_dry_run(const struct run_ctx *x, FILE *f);

/* metrics.c: metrics_file; 0, 1 written but e warns, -1 not written */
int metrics_write(const struct run_ctx *x, const struct run_result *res,
    const struct summary *s, struct log_err *e);
void metrics_dry_run(const struct run_ctx *x, FILE *f);
/* When db's last restore check passed, by metrics_file (1, *when set), or
 * 0: none recorded, or it failed */
int metrics_last_check(const struct run_ctx *x, const struct conf_db *db, time_t *when);

/* main.c: what its signal handler sets: got_stop the signal that stops
 * the run, got_hup a reload asked; each also writes to its pipe, to wake a
 * poll (cancel_pipe[0] is run_ctx's cancel_fd) */
extern volatile sig_atomic_t got_stop, got_hup;
extern int cancel_pipe[2], hup_pipe[2];

/* load.c: read and check the settings and find the programs; -1 with e,
 * c then freed */
int run_load(const char *path, struct conf *c, struct run_tools *t, int dry, int verify,
    struct log_err *e);
void tools_free(struct run_tools *t);
/* dumpopts.c: every pg_dump_options allowed; -1 with e (EXIT_USAGE) */
int dumpopts_check(const struct conf *c, struct log_err *e);
/* no two objects of a run under one key; -1 with e (EXIT_USAGE).  ix:
 * the file's index of each of c's dbs, for messages (NULL: the same) */
int run_check_names(const struct conf *c, const size_t *ix, struct log_err *e);

/* discover.c: the entries of a pass, database "*" expanded by asking its
 * server; an entry whose reason is set failed to list its databases. */
struct run_entry {
	struct conf_db db;	/* the file's, or a copy naming one database */
	const struct conf_db *from;	/* the file's entry */
	int own;		/* db.database and db.backup_file_prefix are ours */
	char reason[1024];	/* not "": the list could not be had, or no pg_dump fits */
	int config;		/* the reason is the settings' (exit 100): pg_dump too old */
};
struct run_plan {
	struct run_entry *v;
	size_t n, cap;
	int path_major;		/* pg_dump: auto: PATH's pg_dump's major; 0 not asked yet */
};
int plan_make(const struct run_ctx *x, struct run_plan *p, struct log_err *e);
void plan_free(struct run_plan *p);

/* pass.c: run_once returns EXIT_OK or EXIT_TEMP */
int run_once(const struct run_ctx *x);
void dry_run(const struct run_ctx *x);
void daemon_loop(struct run_ctx *x, struct conf *c, struct run_tools *t);

/* lock.c: one run of a settings file at a time on this host.  0 when held
 * until the process ends (or, warned, when the file cannot be locked at
 * all), -1 with e (EXIT_NO) when another process holds it. */
int lock_settings(const char *path, struct log_err *e);

#endif
