/* s3cfg: flags, then the settings file, then the environment (see s3cfg.h). */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "conf.h"
#include "creds.h"
#include "hdrval.h"
#include "name.h"
#include "s3cfg.h"

/* The first of a, b, c that is set and not empty. */
static const char *
first(const char *a, const char *b, const char *c)
{
	if (a && *a)
		return a;
	if (b && *b)
		return b;
	return c && *c ? c : NULL;
}

static int
dup_to(char **dst, const char *s, struct log_err *e)
{
	if (s == NULL) {
		*dst = NULL;
		return 0;
	}
	if ((*dst = strdup(s)) == NULL)
		return log_fail_sys(e, EXIT_TEMP, "unable to read the s3 settings");
	return 0;
}

/* "where to set it" for messages: "the s3 section of FILE or " or "". */
static const char *
in_file(const struct s3_cfg *c)
{
	static char buf[512];

	if (c->file == NULL)
		return "";
	snprintf(buf, sizeof buf, "the s3 section of %s or ", c->file);
	return buf;
}

/* Split "[scheme://]authority[/]" into c->endpoint; *auth_at is where the
 * authority starts in it. */
static int
parse_endpoint(struct s3_cfg *c, const char *s, const char *origin, size_t *auth_at,
    struct log_err *e)
{
	const char *scheme = "https", *auth = s, *end, *p;
	size_t n;

	if (hdrval_unfit(s))
		return log_fail(e, EXIT_USAGE, "endpoint from %s has a space or control "
		    "character", origin);
	if ((p = strstr(s, "://")) != NULL) {
		if ((size_t)(p - s) == 4 && strncasecmp(s, "http", 4) == 0)
			scheme = "http";
		else if (!((size_t)(p - s) == 5 && strncasecmp(s, "https", 5) == 0))
			return log_fail(e, EXIT_USAGE, "endpoint %s from %s: only http:// and "
			    "https:// are supported", s, origin);
		auth = p + 3;
	}
	end = auth + strcspn(auth, "/?#");
	if (end == auth || memchr(auth, '@', (size_t)(end - auth)) != NULL)
		return log_fail(e, EXIT_USAGE, "endpoint %s from %s: want [https://]HOST[:PORT]",
		    s, origin);
	if (*end != '\0' && strcmp(end, "/") != 0)
		return log_fail(e, EXIT_USAGE, "endpoint %s from %s: a path, query or fragment "
		    "is not supported", s, origin);
	n = strlen(scheme) + 3 + (size_t)(end - auth) + 1;
	if ((c->endpoint = malloc(n)) == NULL)
		return log_fail_sys(e, EXIT_TEMP, "unable to read the s3 settings");
	snprintf(c->endpoint, n, "%s://%.*s", scheme, (int)(end - auth), auth);
	*auth_at = strlen(scheme) + 3;
	return 0;
}

/* The host name of an authority "host[:port]" or "[v6]:port": its length. */
static size_t
host_len(const char *auth)
{
	const char *p;

	if (auth[0] == '[')
		return (p = strchr(auth, ']')) ? (size_t)(p - auth) + 1 : strlen(auth);
	return strcspn(auth, ":");
}

static int
ends_with_ci(const char *s, size_t n, const char *suffix)
{
	size_t m = strlen(suffix);

	return n >= m && strncasecmp(s + n - m, suffix, m) == 0;
}

/* A bucket name that can be a DNS label under TLS: lowercase, digits, '-'. */
static int
dns_bucket(const char *b)
{
	for (; *b; b++)
		if (!(islower((unsigned char)*b) || isdigit((unsigned char)*b) || *b == '-'))
			return 0;
	return 1;
}

static int
check_bucket(const char *b, struct log_err *e)
{
	const char *p;

	if (strlen(b) > 255)
		return log_fail(e, EXIT_USAGE, "bucket name is longer than 255 bytes");
	for (p = b; *p; p++)
		if (!(isalnum((unsigned char)*p) || *p == '.' || *p == '-' || *p == '_'))
			return log_fail(e, EXIT_USAGE, "bucket %s: a bucket name has only "
			    "letters, digits, '.', '-' and '_'", b);
	return 0;
}

/* Split "s3://BUCKET/KEY" or take "KEY" as it is. */
static int
parse_key(const char *arg, char **bucket, char **key, struct log_err *e)
{
	const char *k = arg, *slash;

	*bucket = NULL;
	if (strncmp(arg, "s3://", 5) == 0) {
		slash = strchr(arg + 5, '/');
		if (slash == NULL || slash == arg + 5 || slash[1] == '\0')
			return log_fail(e, EXIT_USAGE, "%s: want s3://BUCKET/KEY", arg);
		if ((*bucket = strndup(arg + 5, (size_t)(slash - arg - 5))) == NULL)
			return log_fail_sys(e, EXIT_TEMP, "unable to read the key");
		k = slash + 1;
	}
	if (*k == '\0' || strlen(k) > 1024) {
		free(*bucket);
		*bucket = NULL;
		return log_fail(e, EXIT_USAGE, "the key must be 1 to 1024 bytes long");
	}
	if (!name_key_ok(k)) {
		free(*bucket);
		*bucket = NULL;
		return log_fail(e, EXIT_USAGE,
		    "the key must be UTF-8 without control characters");
	}
	if ((*key = strdup(k)) == NULL) {
		free(*bucket);
		*bucket = NULL;
		return log_fail_sys(e, EXIT_TEMP, "unable to read the key");
	}
	return 0;
}

/* An integer from the environment in [min, max], or def when unset. */
static int
env_int(const char *name, long min, long max, long def, long *out, struct log_err *e)
{
	const char *s = getenv(name);
	char *end;
	long v;

	*out = def;
	if (s == NULL || *s == '\0')
		return 0;
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || *end != '\0' || v < min || v > max)
		return log_fail(e, EXIT_USAGE, "%s=%s: want a number from %ld to %ld", name, s,
		    min, max);
	*out = v;
	return 0;
}

/* Host header and the path before the key, from endpoint, bucket and style. */
static int
address(struct s3_cfg *c, size_t auth_at, struct log_err *e)
{
	const char *auth = c->endpoint + auth_at;
	size_t n = strlen(c->endpoint) + strlen(c->bucket) + 2;

	c->host = malloc(n);
	c->base_path = malloc(n);
	if (c->host == NULL || c->base_path == NULL)
		return log_fail_sys(e, EXIT_TEMP, "unable to read the s3 settings");
	if (c->path_style) {
		snprintf(c->host, n, "%s", auth);
		snprintf(c->base_path, n, "/%s", c->bucket);
	} else {
		snprintf(c->host, n, "%s.%s", c->bucket, auth);
		c->base_path[0] = '\0';
	}
	return 0;
}

/* Where a setting comes from, for messages: "--FLAG" or "NAME in the s3 section of FILE". */
static const char *
origin_of(const struct s3_cfg *c, const char *flag, const char *name, char buf[600])
{
	if (flag)
		snprintf(buf, 600, "--%s", flag);
	else
		snprintf(buf, 600, "%s in the s3 section of %s", name, c->file ? c->file :
		    "the settings");
	return buf;
}

#define SSE_C_KEY_TEXT_MAX 256	/* bytes of a key file: base64 of 32 bytes and blanks */

/* The SSE-C key's base64 from --sse-customer-key-file FILE: malloc'd, blanks
 * around it cut; the file's bytes are wiped. */
static int
key_file(const char *path, char **out, struct log_err *e)
{
	char buf[SSE_C_KEY_TEXT_MAX + 1];
	size_t n, a = 0;
	FILE *fp;

	if ((fp = fopen(path, "re")) == NULL)
		return log_fail_sys(e, EXIT_USAGE, "--sse-customer-key-file %s", path);
	n = fread(buf, 1, sizeof buf, fp);
	fclose(fp);
	if (n > SSE_C_KEY_TEXT_MAX) {
		OPENSSL_cleanse(buf, sizeof buf);
		return log_fail(e, EXIT_USAGE, "--sse-customer-key-file %s: longer than the "
		    "base64 of a 32-byte key", path);
	}
	while (n > 0 && isspace((unsigned char)buf[n - 1]))
		n--;
	while (a < n && isspace((unsigned char)buf[a]))
		a++;
	*out = strndup(buf + a, n - a);
	OPENSSL_cleanse(buf, sizeof buf);
	if (*out == NULL)
		return log_fail_sys(e, EXIT_TEMP, "unable to read the s3 settings");
	return 0;
}

/* The SSE-C key (base64 of exactly 32 bytes) checked, and its MD5 into c. */
static int
sse_c_key(struct s3_cfg *c, const char *origin, struct log_err *e)
{
	static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	unsigned char raw[36], md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	size_t i, n = strlen(c->sse_c_key);
	int ok = n == 44 && c->sse_c_key[43] == '=' && c->sse_c_key[42] != '=';

	for (i = 0; ok && i < 43; i++)
		ok = strchr(b64, c->sse_c_key[i]) != NULL && c->sse_c_key[i] != '\0';
	if (!ok || EVP_DecodeBlock(raw, (const unsigned char *)c->sse_c_key, 44) != 33)
		return log_fail(e, EXIT_USAGE, "%s: want the base64 of exactly 32 bytes, as "
		    "\"openssl rand -base64 32\" prints", origin);
	EVP_Digest(raw, 32, md, &mdlen, EVP_md5(), NULL);
	OPENSSL_cleanse(raw, sizeof raw);
	EVP_EncodeBlock((unsigned char *)c->sse_c_key_md5, md, (int)mdlen);
	return 0;
}

/* Server-side encryption and Object Lock, from flags and the settings. */
static int
protection(struct s3_cfg *c, const struct s3_flags *f, const struct conf_s3 *fs,
    struct log_err *e)
{
	const char *s, *env;
	char o[600], o2[600], *end;
	long days;

	if (dup_to(&c->sse, first(f->sse, fs->sse, NULL), e) < 0 ||
	    dup_to(&c->sse_kms_key_id, first(f->sse_kms_key_id, fs->sse_kms_key_id, NULL),
	    e) < 0 || dup_to(&c->lock_mode, first(f->lock_mode, fs->object_lock.mode, NULL),
	    e) < 0)
		return -1;
	if (c->sse && strcmp(c->sse, "aws:kms") != 0 && strcmp(c->sse, "AES256") != 0)
		return log_fail(e, EXIT_USAGE, "%s: want aws:kms or AES256",
		    origin_of(c, f->sse ? "sse" : NULL, "sse", o));
	s = c->sse_kms_key_id;
	if (s && (c->sse == NULL || strcmp(c->sse, "aws:kms") != 0))
		return log_fail(e, EXIT_USAGE, "%s goes with sse aws:kms: set that too (--sse "
		    "aws:kms)", origin_of(c, f->sse_kms_key_id ? "sse-kms-key-id" : NULL,
		    "sse_kms_key_id", o));
	if (s && (strlen(s) > 2048 || hdrval_unfit(s)))
		return log_fail(e, EXIT_USAGE, "%s: want a key id, alias or ARN without spaces, "
		    "at most 2048 bytes", origin_of(c, f->sse_kms_key_id ? "sse-kms-key-id" :
		    NULL, "sse_kms_key_id", o));

	if (f->sse_c_key_file && f->sse_c_key_env)
		return log_fail(e, EXIT_USAGE, "--sse-customer-key-file and --sse-customer-key-env "
		    "both give the SSE-C key: give one");
	if (f->sse_c_key_file) {
		if (key_file(f->sse_c_key_file, &c->sse_c_key, e) < 0)
			return -1;
		snprintf(o, sizeof o, "--sse-customer-key-file %s", f->sse_c_key_file);
	} else if (f->sse_c_key_env) {
		if ((env = getenv(f->sse_c_key_env)) == NULL || *env == '\0')
			return log_fail(e, EXIT_USAGE, "--sse-customer-key-env %s: the variable "
			    "is not set", f->sse_c_key_env);
		if (dup_to(&c->sse_c_key, env, e) < 0)
			return -1;
		snprintf(o, sizeof o, "--sse-customer-key-env %s", f->sse_c_key_env);
	} else {
		if (dup_to(&c->sse_c_key, first(fs->sse_customer_key, NULL, NULL), e) < 0)
			return -1;
		origin_of(c, NULL, "sse_customer_key", o);
	}
	if (c->sse_c_key && sse_c_key(c, o, e) < 0)
		return -1;
	if (c->sse_c_key && c->sse)
		return log_fail(e, EXIT_USAGE, "%s and %s: an object is encrypted with a "
		    "customer key (SSE-C) or by S3 (sse), not both: drop one", o,
		    origin_of(c, f->sse ? "sse" : NULL, "sse", o2));

	if (c->lock_mode && strcmp(c->lock_mode, "GOVERNANCE") != 0 &&
	    strcmp(c->lock_mode, "COMPLIANCE") != 0)
		return log_fail(e, EXIT_USAGE, "%s: want GOVERNANCE or COMPLIANCE",
		    origin_of(c, f->lock_mode ? "object-lock-mode" : NULL, "object_lock.mode", o));
	c->lock_days = fs->object_lock.days;
	if (f->lock_days) {
		errno = 0;
		days = strtol(f->lock_days, &end, 10);
		if (errno || end == f->lock_days || *end || days < 1 || days > 36500)
			return log_fail(e, EXIT_USAGE, "--object-lock-days %s: want a number of "
			    "days from 1 to 36500", f->lock_days);
		c->lock_days = (int)days;
	}
	if (c->lock_mode && c->lock_days == 0)
		return log_fail(e, EXIT_USAGE, "%s wants a number of days too: set "
		    "object_lock.days (--object-lock-days N)", origin_of(c, f->lock_mode ?
		    "object-lock-mode" : NULL, "object_lock.mode", o));
	if (c->lock_mode == NULL && (c->lock_days || fs->object_lock.present))
		return log_fail(e, EXIT_USAGE, "%s wants a mode too: set object_lock.mode "
		    "(--object-lock-mode) to GOVERNANCE or COMPLIANCE", origin_of(c,
		    f->lock_days ? "object-lock-days" : NULL, "object_lock", o));
	c->content_md5 = c->lock_mode != NULL;
	return 0;
}

static int
resolve(struct s3_cfg *c, const struct s3_flags *f, const struct conf_s3 *fs,
    const char *url_bucket, struct log_err *e)
{
	struct creds_settings st;
	const char *s, *origin;
	char dflt[128];
	size_t auth_at = 0;
	long v;

	if (url_bucket && f->bucket && strcmp(url_bucket, f->bucket) != 0)
		return log_fail(e, EXIT_USAGE, "-b %s and s3://%s/ name different buckets",
		    f->bucket, url_bucket);
	s = first(url_bucket, f->bucket, fs->bucket);
	if (dup_to(&c->bucket, first(s, getenv("PGBAK_BUCKET"), NULL), e) < 0)
		return -1;
	if (c->bucket == NULL)
		return log_fail(e, EXIT_USAGE, "no bucket: give -b BUCKET or s3://BUCKET/KEY, "
		    "or set bucket in %sPGBAK_BUCKET", in_file(c));
	if (check_bucket(c->bucket, e) < 0)
		return -1;

	if (dup_to(&c->region, first(f->region, fs->region, first(getenv("AWS_REGION"),
	    getenv("AWS_DEFAULT_REGION"), NULL)), e) < 0)
		return -1;
	if (c->region == NULL && creds_profile_region(first(getenv("AWS_PROFILE"), NULL,
	    "default"), &c->region, e) < 0)
		return -1;
	if (c->region == NULL && dup_to(&c->region, "us-east-1", e) < 0)
		return -1;
	if (hdrval_unfit(c->region) || strchr(c->region, '/'))
		return log_fail(e, EXIT_USAGE, "region %s: not a region name", c->region);

	/* The settings' own credentials, the chain's first source (lib/creds):
	 * the environment and the others are its business. */
	st = (struct creds_settings){ fs->access_key, fs->access_secret, fs->session_token,
	    c->file };
	if (creds_settings_check(&st, e) < 0)
		return -1;
	if (dup_to(&c->access_key, first(fs->access_key, NULL, NULL), e) < 0 ||
	    dup_to(&c->secret, first(fs->access_secret, NULL, NULL), e) < 0 ||
	    dup_to(&c->token, first(fs->session_token, NULL, NULL), e) < 0)
		return -1;
	if (dup_to(&c->ca_file, first(fs->ca_file, getenv("AWS_CA_BUNDLE"), NULL), e) < 0 ||
	    dup_to(&c->storage_class, first(fs->storage_class, NULL, NULL), e) < 0)
		return -1;

	origin = f->endpoint ? "-e" : fs->endpoint && *fs->endpoint ? "the settings file" :
	    "the environment";
	snprintf(dflt, sizeof dflt, "https://s3.%s.amazonaws.com", c->region);
	s = first(f->endpoint, fs->endpoint, first(getenv("AWS_ENDPOINT_URL_S3"),
	    getenv("AWS_ENDPOINT_URL"), dflt));
	if (parse_endpoint(c, s, origin, &auth_at, e) < 0)
		return -1;
	c->path_style = fs->path_style;
	if (c->path_style < 0)
		c->path_style = !(ends_with_ci(c->endpoint + auth_at,
		    host_len(c->endpoint + auth_at), ".amazonaws.com") && dns_bucket(c->bucket));
	if (address(c, auth_at, e) < 0)
		return -1;

	c->part_size = fs->part_size;
	c->max_parts = fs->max_parts ? fs->max_parts : S3_PARTS_MAX;
	c->parallel = fs->parallel ? fs->parallel : S3_PARALLEL;
	c->max_rate = fs->max_rate;
	if (env_int("PGBAK_S3_TRIES", 1, 100, S3_TRIES, &v, e) < 0)
		return -1;
	c->tries = (int)v;
	/* small ranges make a multi-range object of a test's few MiB */
	if (env_int("PGBAK_GET_RANGE", 1024, 1L << 30, S3_GET_RANGE, &c->get_range, e) < 0)
		return -1;
	/* 0: always the ranges in flight; a large one: always one stream */
	if (env_int("PGBAK_GET_LATENCY_MS", 0, 86400000, S3_GET_LATENCY_MS, &c->get_latency,
	    e) < 0)
		return -1;
	/* 0: never the ranges for a slow first range */
	if (env_int("PGBAK_GET_STREAM_MIBS", 0, 1000000, S3_GET_STREAM_MIBS,
	    &c->get_stream_mibs, e) < 0)
		return -1;
	if (env_int("PGBAK_S3_STALL", 1, 86400, S3_STALL, &c->stall, e) < 0)
		return -1;
	return protection(c, f, fs, e);
}

int
s3_flags_set(struct s3_flags *f, int c, const char *arg)
{
	switch (c) {
	case 'c': f->file = arg; return 1;
	case 'b': f->bucket = arg; return 1;
	case 'e': f->endpoint = arg; return 1;
	case 'r': f->region = arg; return 1;
	case S3_OPT_SETTINGS_FD: f->settings_fd = arg; return 1;
	case S3_OPT_SSE: f->sse = arg; return 1;
	case S3_OPT_SSE_KMS_KEY_ID: f->sse_kms_key_id = arg; return 1;
	case S3_OPT_SSE_C_KEY_FILE: f->sse_c_key_file = arg; return 1;
	case S3_OPT_SSE_C_KEY_ENV: f->sse_c_key_env = arg; return 1;
	case S3_OPT_LOCK_MODE: f->lock_mode = arg; return 1;
	case S3_OPT_LOCK_DAYS: f->lock_days = arg; return 1;
	default: return 0;
	}
}

/* --settings-fd N as the path that opens it anew, at offset 0 (a memfd's
 * offset is shared by every child given the same descriptor). */
static int
fd_path(const char *arg, char path[32], struct log_err *e)
{
	char *end;
	long n;

	errno = 0;
	n = strtol(arg, &end, 10);
	if (errno || end == arg || *end || n < 3 || n > 1 << 20)
		return log_fail(e, EXIT_USAGE, "--settings-fd %s: want a descriptor number "
		    "above 2", arg);
	snprintf(path, 32, "/dev/fd/%ld", n);
	return 0;
}

int
s3_cfg_load(struct s3_cfg *c, const struct s3_flags *f, const char *keyarg,
    struct log_err *e)
{
	static char path[32];
	struct conf conf;
	struct conf_s3 none;
	char *url_bucket = NULL;
	int r, flags = CONF_S3_ONLY;

	memset(c, 0, sizeof *c);
	memset(&none, 0, sizeof none);
	none.path_style = -1;
	c->file = f->file;
	if (f->file && f->settings_fd)
		return log_fail(e, EXIT_USAGE, "-c and --settings-fd both name the settings: "
		    "give one");
	if (f->settings_fd) {
		if (fd_path(f->settings_fd, path, e) < 0)
			return -1;
		c->file = path;
		flags |= CONF_LITERAL;
	}
	if (keyarg && parse_key(keyarg, &url_bucket, &c->key, e) < 0)
		return -1;
	if (c->file) {
		if (conf_load_for(&conf, c->file, flags, e) < 0) {
			free(url_bucket);
			s3_cfg_free(c);
			return -1;
		}
		r = resolve(c, f, &conf.s3, url_bucket, e);
		conf_free(&conf);
	} else {
		r = resolve(c, f, &none, url_bucket, e);
	}
	free(url_bucket);
	if (r < 0)
		s3_cfg_free(c);
	return r;
}

int
s3_cfg_check(const struct conf *conf, struct log_err *e)
{
	struct s3_flags f = { .file = conf->path };
	struct s3_cfg c;
	int r;

	memset(&c, 0, sizeof c);
	c.file = conf->path;
	r = resolve(&c, &f, &conf->s3, NULL, e);
	s3_cfg_free(&c);
	return r;
}

void
s3_cfg_free(struct s3_cfg *c)
{
	if (c->secret) {
		OPENSSL_cleanse(c->secret, strlen(c->secret));
		free(c->secret);
	}
	if (c->token) {
		OPENSSL_cleanse(c->token, strlen(c->token));
		free(c->token);
	}
	free(c->endpoint);
	free(c->host);
	free(c->base_path);
	free(c->bucket);
	free(c->key);
	free(c->region);
	free(c->access_key);
	free(c->ca_file);
	free(c->storage_class);
	free(c->sse);
	free(c->sse_kms_key_id);
	if (c->sse_c_key) {
		OPENSSL_cleanse(c->sse_c_key, strlen(c->sse_c_key));
		free(c->sse_c_key);
	}
	free(c->lock_mode);
	memset(c, 0, sizeof *c);
}

const char *
s3_cfg_url(const struct s3_cfg *c)
{
	static char buf[1400];

	snprintf(buf, sizeof buf, "s3://%s/%s", c->bucket ? c->bucket : "",
	    c->key ? c->key : "");
	return buf;
}
