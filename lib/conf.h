/*
 * conf: the settings file (pgbak.yaml(5)), the tasks.postgres section of a
 * YAML document, loaded with libyaml into plain structs.
 *
 * Inside tasks.postgres every key is known or an error naming the key and
 * its line; keys outside it belong to other tasks of the same file and are
 * ignored.  Errors are EXIT_USAGE with "FILE:LINE:COLUMN: problem".
 */
#ifndef PGBAK_CONF_H
#define PGBAK_CONF_H

#include <stddef.h>
#include <stdint.h>

#include "log.h"

/* retention: which of a database's backups pgbak-prune keeps; 0: that rule unused. */
struct conf_retention {
	int keep_days;		/* every backup of the last N days (today is day 1) */
	int keep_daily;		/* the newest of each of the last N days with a backup */
	int keep_weekly;	/* ... of each of the last N ISO weeks with one */
	int keep_monthly;	/* ... of each of the last N months with one */
	int present;		/* the mapping was given (a database's overrides the task's) */
};

/* encrypt: an age(1) stage between pgbak-gzip and pgbak-put. */
struct conf_encrypt {
	char **age_recipients;	/* NULL-terminated, at least one when present */
	char *age;		/* the program; NULL: "age" from PATH */
	int present;
};

/* Where a value is written in the file, counted from 1; 0: not written. */
struct conf_at {
	int line, col;
};

/* restore_check: where pgbak-restore --check makes its scratch database;
 * unset fields are the database entry's. */
struct conf_restore_check {
	char *host;
	int port;
	char *user;
	char *password;		/* ${NAME} expanded */
	long every;		/* seconds between pgbak-run's checks (pgbak-run/rcheck.c); 0: none */
	int present;
};

/* compression: the stage between pg_dump and pgbak-put (pgbak.yaml(5)). */
enum conf_compression {
	CONF_COMP_UNSET,	/* a database's: the task's; the task's: gzip */
	CONF_GZIP,		/* pgbak-gzip, key .gz */
	CONF_ZSTD,		/* zstd(1), key .zst */
	CONF_NONE		/* no stage, key .sql */
};

/* format: what pg_dump writes (pgbak.yaml(5)). */
enum conf_format {
	CONF_FMT_UNSET,		/* a database's: the task's; the task's: plain */
	CONF_PLAIN,		/* SQL, restored by psql; key .gz, .zst, .sql */
	CONF_CUSTOM,		/* pg_dump -Fc, restored by pg_restore -j; key .dump.* */
	CONF_DIRECTORY		/* pg_dump -Fd -j into temp_dir, stored as a tar; .tar.* */
};

/* jobs: pg_dump's and pg_restore's -j, at most this many */
#define CONF_JOBS_MAX 64

struct conf_db {
	char *host;		/* NULL: libpq's default (PGHOST) */
	int port;		/* 0: libpq's default (PGPORT) */
	char *user;		/* NULL: libpq's default (PGUSER) */
	char *password;		/* ${NAME} expanded; NULL: .pgpass, PGPASSFILE */
	char *database;		/* required */
	char *backup_file_prefix; /* NULL: see name_make() */
	struct conf_at database_at, backup_file_prefix_at; /* for naming errors */
	long timeout;		/* seconds; 0: the task's timeout */
	int globals;		/* also pg_dumpall --globals-only into its own object */
	struct conf_retention retention; /* present: instead of the task's */
	int compression;	/* enum conf_compression; unset: the task's */
	int compression_level;	/* 0: the task's when the compression is the task's */
	struct conf_at compression_level_at;
	int format;		/* enum conf_format; unset: the task's */
	int jobs;		/* pg_dump -j (directory), pg_restore -j; 0: the task's */
	int line;		/* line of the entry, for messages */
	char **exclude;		/* database "*": names or fnmatch(3) globs left out */
	int globals_passwords;	/* default 1; 0: --no-role-passwords (globals:
				 * {passwords: false}, no superuser needed) */
	char **pg_dump_options;	/* extra pg_dump flags (pgbak-run's dumpopts.c
				 * checks them); NULL: the task's */
	/* not read from the file: set by pgbak-run on its pass's copy of an
	 * entry (pg_dump: auto, discover.c), which frees them; NULL: the
	 * programs of the settings or PATH */
	char *bin_dump, *bin_dumpall;
};

/* database: "*", every database of the server (pgbak-run's discover.c) */
#define CONF_DB_ALL "*"


/* s3.object_lock: every object written is locked until its upload time + days. */
struct conf_lock {
	char *mode;		/* GOVERNANCE or COMPLIANCE (checked by lib/s3cfg) */
	int days;		/* 1 to 36500 */
	int present;		/* the s3 section has object_lock */
};

struct conf_s3 {
	int enable;		/* default 1; 0: write to conf.local_dir */
	char *endpoint;		/* "host[:port]" means https://; http:// allowed */
	char *bucket;		/* required when enabled, unless PGBAK_BUCKET is set */
	char *access_key;	/* ${NAME} expanded */
	char *access_secret;	/* ${NAME} expanded */
	char *session_token;	/* ${NAME} expanded; with access_key and access_secret */
	char *region;		/* NULL: environment, then us-east-1 */
	char *ca_file;		/* extra CA bundle; NULL: system store */
	char *storage_class;	/* NULL: the bucket's default */
	int path_style;		/* -1 automatic, 0 virtual-hosted, 1 path-style */
	uint64_t part_size;	/* bytes; 0: the growing schedule */
	int max_parts;		/* 0: 10000 */
	int parallel;		/* parts in flight; 0: the default */
	char *sse;		/* aws:kms or AES256 (checked by lib/s3cfg); NULL: none */
	char *sse_kms_key_id;	/* with sse aws:kms; NULL: the account's default key */
	char *sse_customer_key;	/* SSE-C, base64 of 32 bytes, ${NAME} expanded */
	struct conf_lock object_lock;
	uint64_t max_rate;	/* bytes/s over all transfers (conf_rate); 0: no cap */
	int present;		/* the file has an s3 section */
};

struct conf {
	char *path;		/* the file it was read from */
	int enable;		/* tasks.postgres.enable, default 1 */
	long interval;		/* seconds between runs under --daemon, default 86400 */
	long timeout;		/* per-database timeout, seconds, default 1800 */
	int use_temp_file;	/* default 0: stream */
	char *temp_dir;		/* NULL: $TMPDIR or /tmp */
	char *local_dir;	/* s3.enable false: default "./backups" */
	char *pg_dump;		/* NULL or "auto": by the server's version (pg_bin_root),
				 * else "pg_dump" from PATH */
	char *pg_bin_root;	/* NULL: /usr/lib/postgresql (MAJOR/bin/pg_dump) */
	char *pg_dumpall;	/* NULL: "pg_dumpall" from PATH (globals) */
	char *psql;		/* NULL: "psql" from PATH (database "*") */
	char **pg_dump_options;	/* every database's, unless it has its own */
	int gzip_level;		/* 1-9; 0: pgbak-gzip's default, 6 (compression_level for gzip) */
	int compression;	/* enum conf_compression; unset: gzip */
	int compression_level;	/* gzip 1-9, zstd 1-19; 0: the program's default */
	struct conf_at compression_level_at, gzip_level_at;
	int format;		/* enum conf_format; unset: plain */
	int jobs;		/* 0: 1 */
	struct conf_retention retention;
	struct conf_encrypt encrypt;
	char **on_success;	/* argv run after a run with no failure; NULL: none */
	char **on_failure;	/* argv run after a run with a failure; NULL: none */
	char *ping_url;		/* ${NAME} expanded; holds a token: never shown */
	struct conf_at ping_url_at;
	char *metrics_file;	/* Prometheus text file, written atomically; NULL: none */
	int verify;		/* pgbak-verify each object after its upload, default 0 */
	struct conf_restore_check restore_check;
	struct conf_s3 s3;
	struct conf_db *dbs;
	size_t ndbs;
	int has_secret;		/* a password or secret is written in the file */
	int others_can_read;	/* ...and the file is readable by group or others */
	int others_can_write;	/* the file is writable by group or others */
};

/* Read path into c (zeroed first).  On error c holds nothing to free. */
int conf_load(struct conf *c, const char *path, struct log_err *e);

/* A problem with a value of c's file found after loading, as the loader
 * reports its own: "FILE:LINE:COLUMN: problem" (EXIT_USAGE); without the
 * column, or the line, when a has none. */
int conf_fail_at(const struct conf *c, struct conf_at a, struct log_err *e, const char *fmt,
    ...) __attribute__((format(printf, 4, 5)));

/*
 * What a program takes from the file (conf_load_for's flags).  The whole
 * tasks.postgres section is checked either way, with the same messages.
 * CONF_S3_ONLY: an S3 program's view.  ${NAME} is expanded in the s3
 * section alone, and no password or other secret outside it is kept, so
 * the S3 programs need (and get from pgbak-run) no database's variables.
 * CONF_LITERAL: values are taken as written, ${NAME} too: a document that
 * pgbak-run wrote with the values it had already expanded (conf_s3_fd).
 */
#define CONF_S3_ONLY	1
#define CONF_LITERAL	2
int conf_load_for(struct conf *c, const char *path, int flags, struct log_err *e);

/*
 * The s3 section of c as loaded (values expanded), as a settings document
 * in a sealed, read-only memfd: pgbak-run hands it to its S3 children
 * (--settings-fd), which read it with CONF_S3_ONLY | CONF_LITERAL.  Returns
 * the descriptor (close-on-exec) or -1.
 */
int conf_s3_fd(const struct conf *c, struct log_err *e);

/* A database's compression (enum conf_compression, never unset) and its
 * level (0: the program's default, pgbak-gzip's 6 or zstd's 3): the
 * entry's, else the task's; gzip_level is the task's compression_level
 * for gzip.  A level goes with its compression: an entry that names
 * another compression than the task's does not inherit the task's level. */
int conf_compression(const struct conf *c, const struct conf_db *db);
int conf_level(const struct conf *c, const struct conf_db *db);
/* The lib/name flags of a database's compression (NAME_ZSTD, NAME_RAW or
 * 0 for gzip) and format (NAME_CUSTOM, NAME_DIR or 0 for plain); the key's
 * suffix is lib/name's to spell. */
int conf_name_flags(const struct conf *c, const struct conf_db *db);

/* A database's format (enum conf_format, never unset) and jobs (1 when
 * unset): the entry's, else the task's. */
int conf_format(const struct conf *c, const struct conf_db *db);
int conf_jobs(const struct conf *c, const struct conf_db *db);

/* Where temporary files go: temp_dir, else $TMPDIR, else /tmp. */
const char *conf_temp_dir(const struct conf *c);

/* Free everything, wiping passwords and secrets first. */
void conf_free(struct conf *c);

/* "90", "90s", "30m", "2h", "1d" -> seconds (> 0). */
int conf_duration(const char *s, long *seconds);

/* "8388608", "8M", "8MiB", "1G", "1GiB" -> bytes (> 0, binary units). */
int conf_size(const char *s, uint64_t *bytes);

/* A transfer rate: bytes per second, written 40MB, 500kB, 1GB (powers of
 * 1000, as link speeds are sold) or 40MiB, 512KiB (powers of 1024), or a
 * bare number of bytes; from CONF_RATE_MIN to CONF_RATE_MAX.  0, or -1. */
#define CONF_RATE_MIN 100000ULL		/* 100kB: far above curl's 1 KiB/s stall */
#define CONF_RATE_MAX 100000000000ULL	/* 100GB */
#define CONF_RATE_HELP "bytes per second, as in 40MB or 500kB (powers of 1000) or " \
	"40MiB (powers of 1024), from 100kB to 100GB"
int conf_rate(const char *s, uint64_t *bytes_per_s);

#endif
