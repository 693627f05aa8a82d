/*
 * s3cfg: where the S3 programs (and pgbak-run) find the endpoint, bucket,
 * credentials and tuning: command-line flags, then the s3 section of a
 * settings file (pgbak.yaml(5)), then the environment.  Secrets come only
 * from the file or the environment, never from the command line; which
 * credentials sign is lib/creds' chain, of which the settings' keys kept
 * here are the first source.
 */
#ifndef PGBAK_S3CFG_H
#define PGBAK_S3CFG_H

#include <stdint.h>

#include "log.h"

#define S3_PART_MIN	(5ULL << 20)	/* S3's smallest part but the last */
#define S3_PART_MAX	(5ULL << 30)	/* S3's largest part and single PUT */
#define S3_OBJECT_MAX	(5ULL << 40)	/* S3's largest object */
#define S3_PARTS_MAX	10000		/* S3's most parts */
#define S3_PART_FIRST	(8ULL << 20)	/* first part of the growing schedule */
#define S3_PARALLEL	4		/* parts in flight by default */
#define S3_TRIES	5		/* attempts per request by default */
#define S3_STALL	60		/* seconds under 1 KiB/s before a transfer is dropped */
/* pgbak-get's ranges: 24 in flight of 6 MiB, at most 7 of them held.  At
 * 50 ms round trip (bench case 8c) a range waits longer for its first byte
 * than it takes to come, so more in flight than buffers pays: 16 sharing 7
 * beat 8 by a fifth (1.6-1.8 s against 2.2-2.3 s for 1 GiB), and on an idle
 * machine 24 beat 16 again (1.24 s against 1.34 s, 0.45x awscli's time), in
 * 60-61 MiB of RSS.  32 were 1.21 s but 62-66 MiB, over case 8d's 64 (each
 * slot's curl handle has its own receive buffer); so were 8 buffers (65),
 * and 10-12 buffers of 3-4 MiB ranges were slower (1.30-1.40 s). */
#define S3_GET_RANGE	(6L << 20)	/* bytes of one ranged GET (pgbak-get -p) */
#define S3_GET_PARALLEL	24		/* ranged GETs in flight by default */
#define S3_GET_BUFFERS	7		/* ranges held at the most, whatever -p */
/* pgbak-get opens its other ranges only when the first byte took this long
 * (a round trip that bounds one stream), or the first range came slower
 * than this many MiB/s (a server that serves each stream slowly, as S3
 * does).  Else (loopback, a LAN, a fast server) one stream is as fast and
 * costs the server less (bench case 8a).  Loopback's first byte took 5-15
 * ms under load, now and then over 20; across 50 ms of round trip 114 ms. */
#define S3_GET_LATENCY_MS 50L
#define S3_GET_STREAM_MIBS 100L

/* What the command line said; NULL: not given. */
struct s3_flags {
	const char *file;	/* -c FILE: tasks.postgres.s3 of a settings file */
	const char *bucket;	/* -b BUCKET */
	const char *endpoint;	/* -e URL */
	const char *region;	/* -r REGION */
	const char *settings_fd; /* --settings-fd N: the s3 section as pgbak-run loaded it */
	long timeout;		/* --timeout SECONDS (lib/s3open); 0: none */
	const char *sse;	/* --sse aws:kms|AES256 */
	const char *sse_kms_key_id; /* --sse-kms-key-id ID */
	const char *sse_c_key_file; /* --sse-customer-key-file FILE: the SSE-C key's base64 */
	const char *sse_c_key_env; /* --sse-customer-key-env NAME: ...in variable NAME */
	const char *lock_mode;	/* --object-lock-mode GOVERNANCE|COMPLIANCE */
	const char *lock_days;	/* --object-lock-days N */
};

struct s3_cfg {
	char *endpoint;		/* "scheme://host[:port]", no trailing slash */
	char *host;		/* the Host header (with the bucket when virtual-hosted) */
	char *base_path;	/* the path before the key: "/bucket" or "" (virtual-hosted) */
	char *bucket;
	char *key;		/* the KEY argument (without s3://BUCKET/), or NULL */
	char *region;
	char *access_key;	/* the settings' (lib/creds has the chain), or NULL */
	char *secret;		/* wiped by s3_cfg_free */
	char *token;		/* session_token, or NULL */
	char *ca_file;		/* NULL: the system's CA store */
	char *storage_class;	/* NULL: the bucket's default */
	int path_style;		/* 1 path-style, 0 virtual-hosted (resolved) */
	uint64_t part_size;	/* 0: the growing schedule */
	int max_parts;		/* default S3_PARTS_MAX */
	int parallel;		/* parts in flight, default S3_PARALLEL */
	int tries;		/* attempts per request: PGBAK_S3_TRIES, default S3_TRIES */
	long stall;		/* PGBAK_S3_STALL seconds, default S3_STALL */
	long get_range;		/* PGBAK_GET_RANGE bytes (tests), default S3_GET_RANGE */
	long get_latency;	/* PGBAK_GET_LATENCY_MS (tests), default S3_GET_LATENCY_MS */
	long get_stream_mibs;	/* PGBAK_GET_STREAM_MIBS (tests), default S3_GET_STREAM_MIBS */
	uint64_t max_rate;	/* bytes/s over all transfers of a program; 0: no cap */
	const char *file;	/* the settings file read, or NULL (for messages) */
	char *sse;		/* "aws:kms" or "AES256"; NULL: the bucket's default */
	char *sse_kms_key_id;	/* with sse aws:kms; NULL: the account's default key */
	char *sse_c_key;	/* SSE-C: base64 of the 32-byte key, or NULL; wiped */
	char sse_c_key_md5[25];	/* ...and base64 of its MD5, by which S3 checks it */
	char *lock_mode;	/* Object Lock "GOVERNANCE" or "COMPLIANCE"; NULL: none */
	int lock_days;		/* ...until the upload time + lock_days */
	/*
	 * 1: every request with a body must carry Content-MD5, whatever other
	 * proof of the bytes it has (the signed SHA-256).  AWS refuses PutObject
	 * and UploadPart of an object with an Object Lock retention unless they
	 * carry Content-MD5 or an x-amz-checksum-* (x-amz-sdk-checksum-algorithm),
	 * so this is 1 with lock_mode; 0: the MD5 may be dropped where the
	 * payload hash already proves the body.
	 */
	int content_md5;
};

/* The flags every S3 program takes, for getopt_long (which the user includes).
 * --settings-fd has no letter; its code is above any program's own. */
#define S3_FLAGS_SHORT "c:b:e:r:"
#define S3_OPT_SETTINGS_FD 0x5300
#define S3_OPT_SSE 0x5301
#define S3_OPT_SSE_KMS_KEY_ID 0x5302
#define S3_OPT_SSE_C_KEY_FILE 0x5303
#define S3_OPT_SSE_C_KEY_ENV 0x5304
#define S3_OPT_LOCK_MODE 0x5305
#define S3_OPT_LOCK_DAYS 0x5306
#define S3_FLAGS_LONG \
	{ "config", required_argument, NULL, 'c' }, \
	{ "bucket", required_argument, NULL, 'b' }, \
	{ "endpoint", required_argument, NULL, 'e' }, \
	{ "region", required_argument, NULL, 'r' }, \
	{ "settings-fd", required_argument, NULL, S3_OPT_SETTINGS_FD }, \
	{ "sse", required_argument, NULL, S3_OPT_SSE }, \
	{ "sse-kms-key-id", required_argument, NULL, S3_OPT_SSE_KMS_KEY_ID }, \
	{ "sse-customer-key-file", required_argument, NULL, S3_OPT_SSE_C_KEY_FILE }, \
	{ "sse-customer-key-env", required_argument, NULL, S3_OPT_SSE_C_KEY_ENV }, \
	{ "object-lock-mode", required_argument, NULL, S3_OPT_LOCK_MODE }, \
	{ "object-lock-days", required_argument, NULL, S3_OPT_LOCK_DAYS }
/* ...and their lines in --help. */
#define S3_FLAGS_HELP \
	"  -c, --config FILE         read the s3 section of tasks.postgres in FILE\n" \
	"      --settings-fd N       read it from descriptor N, values as written (pgbak-run)\n" \
	"  -b, --bucket NAME         the bucket (also s3://BUCKET/KEY, PGBAK_BUCKET)\n" \
	"  -e, --endpoint URL        the S3 endpoint, e.g. https://minio.example:9000\n" \
	"  -r, --region NAME         the signing region (default: AWS_REGION, the profile's,\n" \
	"                            us-east-1)\n" \
	"      --sse-customer-key-file FILE  SSE-C: the key's base64 is in FILE\n" \
	"      --sse-customer-key-env NAME   SSE-C: ...in environment variable NAME\n"
/* ...and those only a program that writes objects uses (the others accept
 * and ignore them, as they ignore the settings). */
#define S3_WRITE_FLAGS_HELP \
	"      --sse aws:kms|AES256  server-side encryption of the objects written\n" \
	"      --sse-kms-key-id ID   the KMS key of --sse aws:kms\n" \
	"      --object-lock-mode GOVERNANCE|COMPLIANCE  lock the objects written\n" \
	"      --object-lock-days N  ...for N days from their upload\n"

/* Keep option c's argument in f when c is one of those: 1, else 0. */
int s3_flags_set(struct s3_flags *f, int c, const char *arg);

/* Resolve c from flags f, the settings file f->file (or f->settings_fd) and
 * the environment; of the file only its s3 section (CONF_S3_ONLY).
 * keyarg (NULL: none) is "KEY" or "s3://BUCKET/KEY".  Errors are
 * EXIT_USAGE and name the flag, setting or variable to fix. */
int s3_cfg_load(struct s3_cfg *c, const struct s3_flags *f, const char *keyarg,
    struct log_err *e);

/* Whether the S3 programs can work with the s3 section of settings c as
 * loaded and this environment: what s3_cfg_load would say, with messages
 * naming c's file.  pgbak-run checks before it runs (or reloads) anything. */
struct conf;
int s3_cfg_check(const struct conf *c, struct log_err *e);

/* Free c, wiping the secret. */
void s3_cfg_free(struct s3_cfg *c);

/* The object as people write it: "s3://bucket/key" (static buffer). */
const char *s3_cfg_url(const struct s3_cfg *c);

#endif
