/*
 * conf: the tasks.postgres section of the settings file (see conf.h and
 * pgbak.yaml(5)), read with libyaml's event parser.
 *
 * Events rather than libyaml's document API: an alias is then one event
 * that we refuse (inside tasks.postgres) or skip (elsewhere), never a graph
 * to expand, so a "billion laughs" file costs nothing.  The file itself is
 * read whole because it is small by contract (CONF_FILE_MAX), which also
 * lets a reader error's byte offset be turned into a line and column.
 */
#define _GNU_SOURCE 1		/* memfd_create, F_ADD_SEALS */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <yaml.h>

#include "conf.h"
#include "name.h"

#define CONF_FILE_MAX (1024 * 1024)	/* bytes in the settings file */
#define CONF_DBS_MAX 10000		/* entries in tasks.postgres.dbs */
#define CONF_DEPTH_MAX 64		/* nested mappings and lists */
#define CONF_VALUE_MAX 4096		/* bytes in one string value */
#define CONF_LIST_MAX 256		/* items in a list of strings */
#define CONF_DURATION_MAX 2147483647L	/* seconds: fits an int */
#define CONF_FIFO_WAIT 2		/* seconds for a writer to open a FIFO */
#define MiB (1024ULL * 1024)

enum kind {
	K_BOOL,		/* int: true/false/yes/no/on/off */
	K_INT,		/* int in [min, max] */
	K_DURATION,	/* long seconds, conf_duration */
	K_SIZE,		/* uint64_t bytes, conf_size, in [min, max] MiB */
	K_RATE,		/* uint64_t bytes per second, conf_rate */
	K_STR,		/* char * */
	K_SECRET,	/* char *, ${NAME} expanded, counts as a written secret */
	K_KEY,		/* char *, ${NAME} expanded (an access key id) */
	K_PATH_STYLE,	/* int: -1 for "auto", else a boolean */
	K_COMPRESSION,	/* int: enum conf_compression, gzip zstd none */
	K_FORMAT,	/* int: enum conf_format, plain custom directory */
	K_LIST,		/* char **, NULL-terminated: a list of strings (argv) */
	K_GLOBALS,	/* int: a boolean, or a mapping of globals_fields (on) */
	K_MAP,		/* a nested mapping of known keys (sub) */
	K_DBS		/* the list of databases */
};

struct field {
	const char *name;
	enum kind kind;
	size_t off;
	long min, max;
	const struct field *sub;	/* K_MAP: its keys */
	size_t nsub;
	size_t present;			/* K_MAP: offset of its "present" int */
	size_t at;			/* 1 + offset of where it is written; 0: not kept */
};

#define NFIELDS(a) (sizeof a / sizeof a[0])
#define F(st, name, kind) { #name, kind, offsetof(struct st, name), 0, 0, NULL, 0, 0, 0 }
#define R(st, name, kind, min, max) \
	{ #name, kind, offsetof(struct st, name), min, max, NULL, 0, 0, 0 }
#define M(st, name, subst, sub) { #name, K_MAP, offsetof(struct st, name), 0, 0, sub, \
	NFIELDS(sub), offsetof(struct subst, present), 0 }
/* F, and where the value is written kept in name##_at for later messages */
#define FA(st, name, kind) { #name, kind, offsetof(struct st, name), 0, 0, NULL, 0, 0, \
	offsetof(struct st, name##_at) + 1 }

static const struct field retention_fields[] = {
	R(conf_retention, keep_days, K_INT, 1, 100000),
	R(conf_retention, keep_daily, K_INT, 1, 100000),
	R(conf_retention, keep_weekly, K_INT, 1, 100000),
	R(conf_retention, keep_monthly, K_INT, 1, 100000),
};

static const struct field encrypt_fields[] = {
	F(conf_encrypt, age_recipients, K_LIST),
	F(conf_encrypt, age, K_STR),
};

static const struct field lock_fields[] = {
	F(conf_lock, mode, K_STR),
	R(conf_lock, days, K_INT, 1, 36500),
};

static const struct field s3_fields[] = {
	F(conf_s3, enable, K_BOOL),
	F(conf_s3, endpoint, K_STR),
	F(conf_s3, bucket, K_STR),
	F(conf_s3, access_key, K_KEY),
	F(conf_s3, access_secret, K_SECRET),
	F(conf_s3, session_token, K_SECRET),
	F(conf_s3, region, K_STR),
	F(conf_s3, path_style, K_PATH_STYLE),
	F(conf_s3, ca_file, K_STR),
	F(conf_s3, storage_class, K_STR),
	R(conf_s3, part_size, K_SIZE, 5, 5 * 1024),
	R(conf_s3, max_parts, K_INT, 1, 10000),
	R(conf_s3, parallel, K_INT, 1, 64),
	F(conf_s3, sse, K_STR),
	F(conf_s3, sse_kms_key_id, K_STR),
	F(conf_s3, sse_customer_key, K_SECRET),
	M(conf_s3, object_lock, conf_lock, lock_fields),
	F(conf_s3, max_rate, K_RATE),
};

static const struct field restore_check_fields[] = {
	F(conf_restore_check, host, K_STR),
	R(conf_restore_check, port, K_INT, 1, 65535),
	F(conf_restore_check, user, K_STR),
	F(conf_restore_check, password, K_SECRET),
	F(conf_restore_check, every, K_DURATION),
};

static const struct field task_fields[] = {
	F(conf, enable, K_BOOL),
	F(conf, interval, K_DURATION),
	F(conf, timeout, K_DURATION),
	{ "dbs", K_DBS, 0, 0, 0, NULL, 0, 0, 0 },
	M(conf, s3, conf_s3, s3_fields),
	F(conf, use_temp_file, K_BOOL),
	F(conf, temp_dir, K_STR),
	F(conf, local_dir, K_STR),
	F(conf, pg_dump, K_STR),
	F(conf, pg_dumpall, K_STR),
	{ "gzip_level", K_INT, offsetof(struct conf, gzip_level), 1, 9, NULL, 0, 0,
	    offsetof(struct conf, gzip_level_at) + 1 },
	F(conf, compression, K_COMPRESSION),
	{ "compression_level", K_INT, offsetof(struct conf, compression_level), 1, 19, NULL,
	    0, 0, offsetof(struct conf, compression_level_at) + 1 },
	F(conf, format, K_FORMAT),
	R(conf, jobs, K_INT, 1, CONF_JOBS_MAX),
	F(conf, psql, K_STR),
	F(conf, pg_bin_root, K_STR),
	F(conf, pg_dump_options, K_LIST),
	M(conf, retention, conf_retention, retention_fields),
	M(conf, encrypt, conf_encrypt, encrypt_fields),
	F(conf, on_success, K_LIST),
	F(conf, on_failure, K_LIST),
	FA(conf, ping_url, K_SECRET),
	F(conf, metrics_file, K_STR),
	F(conf, verify, K_BOOL),
	M(conf, restore_check, conf_restore_check, restore_check_fields),
};

static const struct field db_fields[] = {
	F(conf_db, host, K_STR),
	R(conf_db, port, K_INT, 1, 65535),
	F(conf_db, user, K_STR),
	F(conf_db, password, K_SECRET),
	FA(conf_db, database, K_STR),
	FA(conf_db, backup_file_prefix, K_STR),
	F(conf_db, timeout, K_DURATION),
	F(conf_db, globals, K_GLOBALS),
	M(conf_db, retention, conf_retention, retention_fields),
	F(conf_db, compression, K_COMPRESSION),
	{ "compression_level", K_INT, offsetof(struct conf_db, compression_level), 1, 19, NULL,
	    0, 0, offsetof(struct conf_db, compression_level_at) + 1 },
	F(conf_db, format, K_FORMAT),
	R(conf_db, jobs, K_INT, 1, CONF_JOBS_MAX),
	F(conf_db, exclude, K_LIST),
	F(conf_db, pg_dump_options, K_LIST),
};

/* globals: {passwords: false}: keys of the database entry itself */
static const struct field globals_fields[] = {
	{ "passwords", K_BOOL, offsetof(struct conf_db, globals_passwords), 0, 0, NULL, 0, 0, 0 },
};

#define SECTION_FIELDS_MAX 32

/* One mapping of known keys being read into base. */
struct section {
	const struct field *fields;
	size_t nfields;
	void *base;
	char where[64];			/* "tasks.postgres.dbs[3]" */
	size_t seen[SECTION_FIELDS_MAX]; /* line of each key's first use, 0: not yet */
};

/* The state of one conf_load. */
struct ld {
	yaml_parser_t yp;
	const char *path;
	const unsigned char *buf;
	size_t len;
	int depth;
	struct conf *c;
	struct log_err *e;
	int flags;		/* CONF_S3_ONLY, CONF_LITERAL */
	int found;		/* tasks.postgres seen */
	yaml_mark_t task_mark;	/* the key "postgres" */
	yaml_mark_t s3_mark;	/* the key "s3" */
};

/* A node's path for messages ("tasks.postgres.dbs[3].port"); short by construction. */
static void
name_node(char *buf, size_t n, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void
name_node(char *buf, size_t n, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, n, fmt, ap);
	va_end(ap);
}

typedef int key_fn(struct ld *l, const char *key, yaml_mark_t km, void *ctx);

/* "FILE:LINE:COLUMN: problem", 1-based, as compilers print it. */
static int
at(struct ld *l, yaml_mark_t m, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int
at(struct ld *l, yaml_mark_t m, const char *fmt, ...)
{
	char msg[900];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	return log_fail(l->e, EXIT_USAGE, "%s:%zu:%zu: %s", l->path, m.line + 1, m.column + 1,
	    msg);
}

/* A value from the file, quoted for a message: printable, at most 48 bytes. */
static const char *
show(char out[64], const char *s)
{
	size_t o = 0;

	out[o++] = '"';
	for (; *s && o < 48; s++)
		out[o++] = (unsigned char)*s < 0x20 || *s == 0x7f ? '?' : *s;
	if (*s) {
		memcpy(out + o, "...", 3);
		o += 3;
	}
	out[o++] = '"';
	out[o] = '\0';
	return out;
}

/* Start of line n (0-based) in the buffer, or NULL. */
static const unsigned char *
line_start(struct ld *l, size_t n)
{
	const unsigned char *p = l->buf, *end = l->buf + l->len;

	while (n > 0 && p < end) {
		p = memchr(p, '\n', (size_t)(end - p));
		if (p == NULL)
			return NULL;
		p++;
		n--;
	}
	return p < end ? p : NULL;
}

/* Whether line n is indented with a tab, the commonest YAML mistake. */
static int
tab_indented(struct ld *l, size_t n)
{
	const unsigned char *p = line_start(l, n), *end = l->buf + l->len;

	for (; p && p < end && (*p == ' ' || *p == '\t'); p++)
		if (*p == '\t')
			return 1;
	return 0;
}

/* Report libyaml's error at libyaml's position, with a hint for tabs. */
static int
syntax(struct ld *l)
{
	yaml_parser_t *p = &l->yp;
	yaml_mark_t m = p->problem_mark;
	const unsigned char *s;
	char ctx[128] = "";
	const char *hint = "";

	if (p->error == YAML_MEMORY_ERROR)
		return log_fail(l->e, EXIT_TEMP, "%s: out of memory", l->path);
	if (p->error == YAML_READER_ERROR) {
		/* Only a byte offset: count lines and characters up to it. */
		memset(&m, 0, sizeof m);
		for (s = l->buf; s < l->buf + l->len && (size_t)(s - l->buf) < p->problem_offset;
		    s++) {
			if (*s == '\n') {
				m.line++;
				m.column = 0;
			} else if ((*s & 0xc0) != 0x80) {
				m.column++;
			}
		}
	}
	/* libyaml's value is an octet for UTF-8 errors, else a code point. */
	if (p->error == YAML_READER_ERROR && p->problem_value != -1 &&
	    (p->problem_value < 0x80 || (p->problem && strstr(p->problem, "octet"))))
		snprintf(ctx, sizeof ctx, " (byte 0x%02X)", (unsigned)p->problem_value & 0xff);
	else if (p->error == YAML_READER_ERROR && p->problem_value != -1)
		snprintf(ctx, sizeof ctx, " (U+%04X)", (unsigned)p->problem_value);
	else if (p->context != NULL && p->context_mark.line != m.line)
		snprintf(ctx, sizeof ctx, " (%s at line %zu)", p->context,
		    p->context_mark.line + 1);
	if (tab_indented(l, m.line) ||
	    (p->context != NULL && tab_indented(l, p->context_mark.line)))
		hint = ": tabs are not allowed for indentation in YAML; use spaces";
	return at(l, m, "%s%s%s", p->problem ? p->problem : "invalid YAML", ctx, hint);
}

/* The next event, counting nesting.  On error ev needs no yaml_event_delete. */
static int
next(struct ld *l, yaml_event_t *ev)
{
	if (!yaml_parser_parse(&l->yp, ev)) {
		memset(ev, 0, sizeof *ev);
		return syntax(l);
	}
	switch (ev->type) {
	case YAML_MAPPING_START_EVENT:
	case YAML_SEQUENCE_START_EVENT:
		if (++l->depth > CONF_DEPTH_MAX) {
			at(l, ev->start_mark, "nested deeper than %d levels", CONF_DEPTH_MAX);
			yaml_event_delete(ev);
			return -1;
		}
		break;
	case YAML_MAPPING_END_EVENT:
	case YAML_SEQUENCE_END_EVENT:
		l->depth--;
		break;
	default:
		break;
	}
	return 0;
}

/* Consume (and delete) the rest of the node that ev starts. */
static int
skip(struct ld *l, yaml_event_t *ev)
{
	int depth = l->depth;
	int open = ev->type == YAML_MAPPING_START_EVENT || ev->type == YAML_SEQUENCE_START_EVENT;
	yaml_event_t x;

	yaml_event_delete(ev);
	while (open && l->depth >= depth) {
		if (next(l, &x) == -1)
			return -1;
		yaml_event_delete(&x);
	}
	return 0;
}

static const char *
kind_of(const yaml_event_t *ev)
{
	switch (ev->type) {
	case YAML_MAPPING_START_EVENT:
		return "a mapping";
	case YAML_SEQUENCE_START_EVENT:
		return "a list";
	case YAML_ALIAS_EVENT:
		return "an alias";
	default:
		return "a value";
	}
}

static int
is_null(const yaml_event_t *ev)
{
	const char *v = (const char *)ev->data.scalar.value;

	return ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE &&
	    (*v == '\0' || strcmp(v, "~") == 0 || strcmp(v, "null") == 0 ||
	    strcmp(v, "Null") == 0 || strcmp(v, "NULL") == 0);
}

/*
 * Read the pairs of a mapping whose MAPPING_START was consumed, calling fn
 * for each key with the value's events still to be read.  Only in sections
 * we own (strict) must keys be plain names.
 */
static int
each_key(struct ld *l, const char *where, int strict, key_fn *fn, void *ctx)
{
	yaml_event_t ev;
	int r;

	for (;;) {
		if (next(l, &ev) == -1)
			return -1;
		if (ev.type == YAML_MAPPING_END_EVENT) {
			yaml_event_delete(&ev);
			return 0;
		}
		if (ev.type != YAML_SCALAR_EVENT) {
			if (strict) {
				r = at(l, ev.start_mark, "%s: expected a key name, found %s",
				    where, kind_of(&ev));
				yaml_event_delete(&ev);
				return r;
			}
			if (skip(l, &ev) == -1 || next(l, &ev) == -1 || skip(l, &ev) == -1)
				return -1;
			continue;
		}
		r = fn(l, (const char *)ev.data.scalar.value, ev.start_mark, ctx);
		yaml_event_delete(&ev);
		if (r == -1)
			return -1;
	}
}

/* The start of a mapping or list value: null is an empty one. */
static int
open_node(struct ld *l, const char *where, yaml_event_type_t want, yaml_event_t *ev, int *empty)
{
	*empty = 0;
	if (next(l, ev) == -1)
		return -1;
	if (ev->type == want)
		return 0;
	if (ev->type == YAML_SCALAR_EVENT && is_null(ev)) {
		*empty = 1;
		return 0;
	}
	if (ev->type == YAML_ALIAS_EVENT)
		at(l, ev->start_mark, "%s: aliases are not supported in tasks.postgres", where);
	else
		at(l, ev->start_mark, "%s: expected %s, found %s", where,
		    want == YAML_MAPPING_START_EVENT ? "a mapping" : "a list", kind_of(ev));
	yaml_event_delete(ev);
	return -1;
}

/* open_node for a value whose start event is not needed: -1 error, 0 empty, 1 open. */
static int
open_value(struct ld *l, const char *where, yaml_event_type_t want)
{
	yaml_event_t ev;
	int empty;

	if (open_node(l, where, want, &ev, &empty) == -1)
		return -1;
	yaml_event_delete(&ev);
	return !empty;
}

static int
is_name(const char *s, size_t n)
{
	size_t i;

	if (n == 0 || (s[0] >= '0' && s[0] <= '9'))
		return 0;
	for (i = 0; i < n; i++)
		if (!(s[i] == '_' || (s[i] >= '0' && s[i] <= '9') ||
		    (s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z')))
			return 0;
	return 1;
}

/* ${NAME} as a whole value: the environment's NAME; anything else as is. */
static int
expand(struct ld *l, const char *where, const char *key, yaml_event_t *ev, char **out,
    int *literal)
{
	const char *v = (const char *)ev->data.scalar.value, *env;
	size_t n = ev->data.scalar.length;
	char name[CONF_VALUE_MAX];

	*literal = 0;
	if (n >= 3 && v[0] == '$' && v[1] == '{' && v[n - 1] == '}') {
		if (!is_name(v + 2, n - 3))
			return at(l, ev->start_mark, "%s.%s: ${...} must hold an environment "
			    "variable name (letters, digits, _)", where, key);
		memcpy(name, v + 2, n - 3);
		name[n - 3] = '\0';
		if ((env = getenv(name)) == NULL)
			return at(l, ev->start_mark, "%s.%s: environment variable %s is not set",
			    where, key, name);
		if (strlen(env) > CONF_VALUE_MAX)
			return at(l, ev->start_mark, "%s.%s: environment variable %s is longer "
			    "than %d bytes", where, key, name, CONF_VALUE_MAX);
		v = env;
	} else {
		*literal = 1;
	}
	if ((*out = strdup(v)) == NULL)
		return log_fail_sys(l->e, EXIT_TEMP, "%s", l->path);
	return 0;
}

static int
parse_bool(const char *v, int *b)
{
	static const char *const yes[] = { "true", "yes", "on" };
	static const char *const no[] = { "false", "no", "off" };
	size_t i;

	for (i = 0; i < 3; i++) {
		if (strcasecmp(v, yes[i]) == 0)
			return *b = 1, 0;
		if (strcasecmp(v, no[i]) == 0)
			return *b = 0, 0;
	}
	return -1;
}

/* What a field accepts, for "expected ..." messages. */
static const char *
expected(const struct field *f, char *buf, size_t n)
{
	switch (f->kind) {
	case K_BOOL:
		return "true or false (or yes/no, on/off)";
	case K_GLOBALS:
		return "true, false, or a mapping as in {passwords: false}";
	case K_INT:
		snprintf(buf, n, "an integer from %ld to %ld", f->min, f->max);
		return buf;
	case K_DURATION:
		return "a duration in seconds, or with a unit as in 90s, 30m, 2h, 1d";
	case K_SIZE:
		snprintf(buf, n, "a size from %ldMiB to %ldGiB, as in 8MiB or 1GiB", f->min,
		    f->max / 1024);
		return buf;
	case K_RATE:
		return CONF_RATE_HELP;
	case K_PATH_STYLE:
		return "true, false or auto";
	case K_COMPRESSION:
		return "gzip, zstd or none";
	case K_FORMAT:
		return "plain, custom or directory";
	case K_LIST:
		return "a list of strings";
	case K_DBS:
		return "a list";
	case K_MAP:
		return "a mapping";
	default:
		return "a string";
	}
}

/* Store one scalar value of field f into base. */
static int
set_scalar(struct ld *l, struct section *s, const struct field *f, yaml_event_t *ev)
{
	char *p = (char *)s->base + f->off, vis[64], exp[96], **str = (char **)p;
	const char *v = (const char *)ev->data.scalar.value;
	int secret = f->kind == K_SECRET || f->kind == K_KEY, literal, b;
	long n;
	uint64_t z;
	char *end;

	if (ev->data.scalar.length > CONF_VALUE_MAX)
		return at(l, ev->start_mark, "%s.%s: value longer than %d bytes", s->where,
		    f->name, CONF_VALUE_MAX);
	if (strlen(v) != ev->data.scalar.length)
		return at(l, ev->start_mark, "%s.%s: value has a NUL byte", s->where, f->name);
	if (is_null(ev))
		return 0;	/* the default */
	switch (f->kind) {
	case K_BOOL:
	case K_GLOBALS:
		if (parse_bool(v, &b) == -1)
			break;
		*(int *)p = b;
		return 0;
	case K_PATH_STYLE:
		if (strcasecmp(v, "auto") == 0)
			b = -1;
		else if (parse_bool(v, &b) == -1)
			break;
		*(int *)p = b;
		return 0;
	case K_COMPRESSION:
		if (strcmp(v, "gzip") == 0)
			b = CONF_GZIP;
		else if (strcmp(v, "zstd") == 0)
			b = CONF_ZSTD;
		else if (strcmp(v, "none") == 0)
			b = CONF_NONE;
		else
			break;
		*(int *)p = b;
		return 0;
	case K_FORMAT:
		if (strcmp(v, "plain") == 0)
			b = CONF_PLAIN;
		else if (strcmp(v, "custom") == 0)
			b = CONF_CUSTOM;
		else if (strcmp(v, "directory") == 0)
			b = CONF_DIRECTORY;
		else
			break;
		*(int *)p = b;
		return 0;
	case K_INT:
		errno = 0;
		n = strtol(v, &end, 10);
		if (*v < '0' || *v > '9' || *end || errno || n < f->min || n > f->max)
			break;
		*(int *)p = (int)n;
		return 0;
	case K_DURATION:
		if (conf_duration(v, (long *)p) == -1)
			break;
		return 0;
	case K_SIZE:
		if (conf_size(v, &z) == -1 || z < (uint64_t)f->min * MiB ||
		    z > (uint64_t)f->max * MiB)
			break;
		*(uint64_t *)p = z;
		return 0;
	case K_RATE:
		if (conf_rate(v, (uint64_t *)p) == -1)
			break;
		return 0;
	case K_STR:
		if (*v == '\0')
			return 0;	/* "" is the default too */
		if ((*str = strdup(v)) == NULL)
			return log_fail_sys(l->e, EXIT_TEMP, "%s", l->path);
		return 0;
	case K_SECRET:
	case K_KEY:
		if (*v == '\0')
			return 0;
		/* an S3 program neither expands nor keeps another section's secret */
		if ((l->flags & CONF_S3_ONLY) && s->fields != s3_fields)
			return 0;
		if (l->flags & CONF_LITERAL) {
			if ((*str = strdup(v)) == NULL)
				return log_fail_sys(l->e, EXIT_TEMP, "%s", l->path);
			return 0;
		}
		if (expand(l, s->where, f->name, ev, str, &literal) == -1)
			return -1;
		if (literal && f->kind == K_SECRET)
			l->c->has_secret = 1;
		return 0;
	default:
		break;
	}
	if (secret)	/* never echo what might be a secret */
		return at(l, ev->start_mark, "%s.%s: expected %s", s->where, f->name,
		    expected(f, exp, sizeof exp));
	return at(l, ev->start_mark, "%s.%s: expected %s, found %s", s->where, f->name,
	    expected(f, exp, sizeof exp), show(vis, v));
}

/* Where f's value is written, for a check made after loading (conf_fail_at). */
static void
keep_at(struct section *s, const struct field *f, yaml_mark_t m)
{
	struct conf_at *a;

	if (f->at == 0)
		return;
	a = (struct conf_at *)(void *)((char *)s->base + f->at - 1);
	a->line = (int)m.line + 1;
	a->col = (int)m.column + 1;
}

static int read_dbs(struct ld *l, const char *where);
static int read_map(struct ld *l, const struct field *f, void *base, const char *where);
static int read_list(struct ld *l, char ***out, const char *where);
static int read_section(struct ld *l, const struct field *fields, size_t n, void *base,
    const char *where);

/* One key of a section we own: known, first use, value of the right type. */
static int
section_key(struct ld *l, const char *key, yaml_mark_t km, void *ctx)
{
	struct section *s = ctx;
	const struct field *f = NULL;
	char vis[64], exp[96], where[96];
	yaml_event_t ev;
	size_t i;
	int r;

	for (i = 0; i < s->nfields; i++)
		if (strcmp(s->fields[i].name, key) == 0)
			f = &s->fields[i];
	if (f == NULL && strcmp(key, "<<") == 0)
		return at(l, km, "%s: merge keys (<<) are not supported in tasks.postgres",
		    s->where);
	if (f == NULL)
		return at(l, km, "unknown key %s in %s", show(vis, key), s->where);
	i = (size_t)(f - s->fields);
	if (s->seen[i])
		return at(l, km, "duplicate key %s in %s (first at line %zu)", key, s->where,
		    s->seen[i]);
	s->seen[i] = km.line + 1;
	name_node(where, sizeof where, "%s.%s", s->where, f->name);
	if (f->kind == K_DBS)
		return read_dbs(l, where);
	if (f->kind == K_MAP && f->sub == s3_fields)
		l->s3_mark = km;
	if (f->kind == K_MAP)
		return read_map(l, f, (char *)s->base + f->off, where);
	if (f->kind == K_LIST)
		return read_list(l, (char ***)(void *)((char *)s->base + f->off), where);
	if (next(l, &ev) == -1)
		return -1;
	if (ev.type == YAML_SCALAR_EVENT) {
		r = set_scalar(l, s, f, &ev);
		if (r == 0)
			keep_at(s, f, ev.start_mark);
		if (f->kind == K_SECRET || f->kind == K_KEY)
			OPENSSL_cleanse(ev.data.scalar.value, ev.data.scalar.length);
	} else if (ev.type == YAML_ALIAS_EVENT) {
		r = at(l, ev.start_mark, "%s: aliases are not supported in tasks.postgres", where);
	} else if (f->kind == K_GLOBALS && ev.type == YAML_MAPPING_START_EVENT) {
		/* a mapping turns it on, with its options */
		*(int *)(void *)((char *)s->base + f->off) = 1;
		r = read_section(l, globals_fields, NFIELDS(globals_fields), s->base, where);
	} else {
		r = at(l, ev.start_mark, "%s: expected %s, found %s", where,
		    expected(f, exp, sizeof exp), kind_of(&ev));
	}
	yaml_event_delete(&ev);
	return r;
}

/* Read a mapping of known keys (MAPPING_START already consumed). */
static int
read_section(struct ld *l, const struct field *fields, size_t n, void *base, const char *where)
{
	struct section s;

	memset(&s, 0, sizeof s);
	s.fields = fields;
	s.nfields = n;
	s.base = base;
	name_node(s.where, sizeof s.where, "%s", where);
	return each_key(l, where, 1, section_key, &s);
}

/* A nested mapping of known keys (s3, retention, encrypt); given even when empty. */
static int
read_map(struct ld *l, const struct field *f, void *base, const char *where)
{
	int r = open_value(l, where, YAML_MAPPING_START_EVENT);

	if (r == -1)
		return -1;
	*(int *)(void *)((char *)base + f->present) = 1;
	return r ? read_section(l, f->sub, f->nsub, base, where) : 0;
}

/* A list of plain strings (a command's argv, age recipients), NULL-ended. */
static int
read_list(struct ld *l, char ***out, const char *where)
{
	yaml_event_t ev;
	char **v = NULL, **nv;
	size_t n = 0;
	int r;

	if ((r = open_value(l, where, YAML_SEQUENCE_START_EVENT)) < 1)
		return r;
	for (;;) {
		if (next(l, &ev) == -1)
			break;
		if (ev.type == YAML_SEQUENCE_END_EVENT) {
			yaml_event_delete(&ev);
			*out = v;
			return 0;
		}
		if (ev.type == YAML_ALIAS_EVENT)
			r = at(l, ev.start_mark, "%s: aliases are not supported in tasks.postgres",
			    where);
		else if (ev.type != YAML_SCALAR_EVENT)
			r = at(l, ev.start_mark, "%s[%zu]: expected a string, found %s", where, n,
			    kind_of(&ev));
		else if (ev.data.scalar.length > CONF_VALUE_MAX)
			r = at(l, ev.start_mark, "%s[%zu]: value longer than %d bytes", where, n,
			    CONF_VALUE_MAX);
		else if (strlen((char *)ev.data.scalar.value) != ev.data.scalar.length)
			r = at(l, ev.start_mark, "%s[%zu]: value has a NUL byte", where, n);
		else if (n == CONF_LIST_MAX)
			r = at(l, ev.start_mark, "%s: more than %d items", where, CONF_LIST_MAX);
		else if ((nv = realloc(v, (n + 2) * sizeof *v)) == NULL ||
		    (v = nv, (v[n] = strdup((char *)ev.data.scalar.value)) == NULL))
			r = log_fail_sys(l->e, EXIT_TEMP, "%s", l->path);
		else
			v[++n] = NULL;
		yaml_event_delete(&ev);
		if (r == -1)
			break;
	}
	if (v) {
		v[n] = NULL;
		*out = v;	/* conf_free frees what was read */
	}
	return -1;
}

static int
read_dbs(struct ld *l, const char *where)
{
	struct conf *c = l->c;
	struct conf_db *db;
	yaml_event_t ev;
	char name[64];
	size_t cap = 0;
	yaml_mark_t m;
	int r;

	if ((r = open_value(l, where, YAML_SEQUENCE_START_EVENT)) < 1)
		return r;
	for (;;) {
		if (next(l, &ev) == -1)
			return -1;
		m = ev.start_mark;
		if (ev.type == YAML_SEQUENCE_END_EVENT) {
			yaml_event_delete(&ev);
			return 0;
		}
		name_node(name, sizeof name, "%s[%zu]", where, c->ndbs);
		if (ev.type != YAML_MAPPING_START_EVENT) {
			at(l, m, "%s: expected a mapping with database, host, port..., found %s",
			    name, kind_of(&ev));
			yaml_event_delete(&ev);
			return -1;
		}
		yaml_event_delete(&ev);
		if (c->ndbs == CONF_DBS_MAX)
			return at(l, m, "%s: more than %d databases", where, CONF_DBS_MAX);
		if (c->ndbs == cap) {
			cap = cap ? cap * 2 : 8;
			if ((db = realloc(c->dbs, cap * sizeof *db)) == NULL)
				return log_fail_sys(l->e, EXIT_TEMP, "%s", l->path);
			c->dbs = db;
		}
		db = &c->dbs[c->ndbs++];
		memset(db, 0, sizeof *db);
		db->line = (int)m.line + 1;
		db->globals_passwords = 1;
		if (read_section(l, db_fields, NFIELDS(db_fields), db, name) == -1)
			return -1;
		if (db->database == NULL)
			return at(l, m, "%s: missing database", name);
		/* a list that could exclude nothing is a mistake worth saying */
		if (db->exclude && strcmp(db->database, CONF_DB_ALL) != 0)
			return at(l, m, "%s: exclude needs database: \"*\" (every database of "
			    "the server)", name);
	}
}

/*
 * On the way down to tasks.postgres: skip the value of any key but want,
 * open want's value (met once) as a mapping.  Returns -1 on error, 0 when
 * skipped, 1 for an empty value, 2 when the mapping's pairs are next.
 */
static int
step(struct ld *l, const char *key, yaml_mark_t km, const char *want, const char *where,
    size_t *seen, yaml_mark_t *keymark)
{
	yaml_event_t ev;
	int empty;

	if (strcmp(key, want) != 0) {
		if (next(l, &ev) == -1)
			return -1;
		return skip(l, &ev);
	}
	if (*seen)
		return at(l, km, "duplicate key %s (first at line %zu)", where, *seen);
	*seen = km.line + 1;
	if (open_node(l, where, YAML_MAPPING_START_EVENT, &ev, &empty) == -1)
		return -1;
	*keymark = km;
	yaml_event_delete(&ev);
	return empty ? 1 : 2;
}

static int
task_key(struct ld *l, const char *key, yaml_mark_t km, void *ctx)
{
	int r = step(l, key, km, "postgres", "tasks.postgres", ctx, &l->task_mark);

	if (r >= 1)
		l->found = 1;
	if (r != 2)
		return r == -1 ? -1 : 0;
	return read_section(l, task_fields, NFIELDS(task_fields), l->c, "tasks.postgres");
}

static int
root_key(struct ld *l, const char *key, yaml_mark_t km, void *ctx)
{
	size_t seen = 0;
	yaml_mark_t start;
	int r = step(l, key, km, "tasks", "tasks", ctx, &start);

	if (r != 2)
		return r == -1 ? -1 : 0;
	return each_key(l, "tasks", 0, task_key, &seen);
}

/* The events of the whole file: one document whose top is a mapping. */
static int
read_stream(struct ld *l)
{
	yaml_event_t ev;
	yaml_mark_t start = { 0, 0, 0 };
	size_t seen = 0;
	int r = 0;

	while (r == 0) {
		if (next(l, &ev) == -1)
			return -1;
		switch (ev.type) {
		case YAML_STREAM_END_EVENT:
			yaml_event_delete(&ev);
			if (!l->found)
				return at(l, start, "no tasks.postgres section");
			return 0;
		case YAML_DOCUMENT_START_EVENT:
			if (seen)
				r = at(l, ev.start_mark, "more than one YAML document");
			seen = 1;
			start = ev.start_mark;
			break;
		case YAML_MAPPING_START_EVENT:
			yaml_event_delete(&ev);
			r = each_key(l, "the file", 0, root_key, &(size_t){ 0 });
			continue;
		case YAML_SCALAR_EVENT:
			if (is_null(&ev))
				break;	/* an empty document */
			/* FALLTHROUGH */
		case YAML_SEQUENCE_START_EVENT:
		case YAML_ALIAS_EVENT:
			r = at(l, ev.start_mark, "expected a mapping at the top of the file, "
			    "found %s", kind_of(&ev));
			break;
		default:
			break;
		}
		yaml_event_delete(&ev);
	}
	return -1;
}

int
conf_compression(const struct conf *c, const struct conf_db *db)
{
	if (db && db->compression)
		return db->compression;
	return c->compression ? c->compression : CONF_GZIP;
}

int
conf_level(const struct conf *c, const struct conf_db *db)
{
	int task = c->compression ? c->compression : CONF_GZIP;

	if (db && db->compression_level)
		return db->compression_level;
	if (db && db->compression && db->compression != task)
		return 0;
	if (c->compression_level)
		return c->compression_level;
	return task == CONF_GZIP ? c->gzip_level : 0;
}

int
conf_name_flags(const struct conf *c, const struct conf_db *db)
{
	int comp = conf_compression(c, db), fmt = conf_format(c, db);

	return (comp == CONF_ZSTD ? NAME_ZSTD : comp == CONF_NONE ? NAME_RAW : 0) |
	    (fmt == CONF_CUSTOM ? NAME_CUSTOM : fmt == CONF_DIRECTORY ? NAME_DIR : 0);
}

const char *
conf_temp_dir(const struct conf *c)
{
	const char *dir = c->temp_dir ? c->temp_dir : getenv("TMPDIR");

	return dir && *dir ? dir : "/tmp";
}

int
conf_format(const struct conf *c, const struct conf_db *db)
{
	if (db && db->format)
		return db->format;
	return c->format ? c->format : CONF_PLAIN;
}

int
conf_jobs(const struct conf *c, const struct conf_db *db)
{
	return db && db->jobs ? db->jobs : c->jobs ? c->jobs : 1;
}

/* Where a value kept by keep_at is written, as libyaml marks it. */
static yaml_mark_t
mark_of(struct conf_at a)
{
	yaml_mark_t m = { 0, (size_t)(a.line > 0 ? a.line - 1 : 0),
	    (size_t)(a.col > 0 ? a.col - 1 : 0) };

	return m;
}

/* A compression_level that its compression does not take (gzip's 1-9 of the
 * 1-19 the key allows), at where the level is written. */
static int
check_level(struct ld *l, const struct conf_db *db, struct conf_at a, const char *where)
{
	yaml_mark_t m = mark_of(a);
	int comp = conf_compression(l->c, db), level = conf_level(l->c, db);

	if (comp == CONF_GZIP && level > 9)
		return at(l, m, "%s.compression_level: %d is not a gzip level: gzip takes 1 to 9, "
		    "zstd 1 to 19", where, level);
	if (comp == CONF_NONE && a.line > 0 && (db == NULL || db->compression_level))
		return at(l, m, "%s.compression_level: compression is none: there is no level "
		    "to set", where);
	return 0;
}

/* Rules that span keys, checked once the whole section is read. */
static int
check(struct ld *l)
{
	struct conf *c = l->c;
	const char *env = getenv("PGBAK_BUCKET");
	char where[64];
	size_t i;

	if (c->gzip_level && c->compression_level)
		return at(l, mark_of(c->gzip_level_at), "tasks.postgres.gzip_level: set "
		    "compression_level alone (gzip_level is compression_level for gzip)");
	if (c->gzip_level && c->compression && c->compression != CONF_GZIP)
		return at(l, mark_of(c->gzip_level_at), "tasks.postgres.gzip_level: compression "
		    "is not gzip: set compression_level");
	if (check_level(l, NULL, c->compression_level_at, "tasks.postgres") < 0)
		return -1;
	for (i = 0; i < c->ndbs; i++) {
		snprintf(where, sizeof where, "tasks.postgres.dbs[%zu]", i);
		if (check_level(l, &c->dbs[i], c->dbs[i].compression_level_at.line ?
		    c->dbs[i].compression_level_at : c->compression_level_at, where) < 0)
			return -1;
		/* psql restores a plain dump and pg_dump -j needs a directory */
		if (c->dbs[i].jobs && conf_format(c, &c->dbs[i]) == CONF_PLAIN) {
			struct conf_at a = { c->dbs[i].line, 0 };

			return at(l, mark_of(a), "%s.jobs: the format is plain, dumped by one "
			    "pg_dump and restored by one psql: jobs needs format custom or "
			    "directory", where);
		}
	}

	if (c->enable && c->s3.enable && c->s3.bucket == NULL && (env == NULL || *env == '\0'))
		return at(l, c->s3.present ? l->s3_mark : l->task_mark,
		    "tasks.postgres.s3.bucket is missing (and PGBAK_BUCKET is not set)");
	if (!c->s3.enable && c->local_dir == NULL && (c->local_dir = strdup("./backups")) == NULL)
		return log_fail_sys(l->e, EXIT_TEMP, "%s", l->path);
	if (c->encrypt.present && c->encrypt.age_recipients == NULL)
		return at(l, l->task_mark, "tasks.postgres.encrypt.age_recipients is missing: give "
		    "at least one age public key (age1...)");
	return 0;
}

/*
 * A FIFO with no writer would block open(2) forever, so slurp opens it
 * O_NONBLOCK and, while no writer has shown up (a read gives 0 at once),
 * waits for one at most CONF_FIFO_WAIT seconds.  Then *waiting is 0 and
 * reads block as for any file, so <(command) works however slow it is.
 */
static int
fifo_wait(int fd, int *waiting, const char *name, struct log_err *e)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	int r = poll(&p, 1, CONF_FIFO_WAIT * 1000);

	if (r == -1 && errno == EINTR)
		return 0;
	if (r == -1)
		return log_fail_sys(e, EXIT_TEMP, "unable to read %s", name);
	if (r == 0)
		return log_fail(e, EXIT_USAGE, "%s: a FIFO that no program opened for writing "
		    "within %d seconds", name, CONF_FIFO_WAIT);
	*waiting = 0;
	return 0;
}

/* Reads on fd block again (open used O_NONBLOCK). */
static int
blocking(int fd, const char *name, struct log_err *e)
{
	int fl = fcntl(fd, F_GETFL);

	if (fl == -1 || fcntl(fd, F_SETFL, fl & ~O_NONBLOCK) == -1)
		return log_fail_sys(e, EXIT_TEMP, "unable to read %s", name);
	return 0;
}

/* Read at most CONF_FILE_MAX bytes of path (name in messages) into *buf, which the
 * caller wipes and frees. */
static int
slurp(const char *path, const char *name, unsigned char **buf, size_t *len, struct conf *c,
    struct log_err *e)
{
	unsigned char *b = NULL, *nb;
	size_t cap = 0, n = 0;
	struct stat st;
	ssize_t r;
	int fd, err, waiting;

	*buf = NULL;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK)) == -1) {
		err = errno == ENOENT || errno == EACCES || errno == ENOTDIR || errno == ELOOP ||
		    errno == ENAMETOOLONG || errno == ENXIO;
		return log_fail_sys(e, err ? EXIT_USAGE : EXIT_TEMP, "unable to open %s", name);
	}
	if (fstat(fd, &st) == -1) {
		log_fail_sys(e, EXIT_TEMP, "unable to stat %s", name);
		goto fail;
	}
	if (S_ISDIR(st.st_mode)) {
		log_fail(e, EXIT_USAGE, "%s: is a directory, not a settings file", name);
		goto fail;
	}
	c->others_can_read = (st.st_mode & 077) != 0;
	c->others_can_write = (st.st_mode & 022) != 0;
	waiting = S_ISFIFO(st.st_mode);
	if (!waiting && blocking(fd, name, e) == -1)
		goto fail;
	for (;;) {
		if (n == cap) {
			if (cap > CONF_FILE_MAX) {
				log_fail(e, EXIT_USAGE, "%s: larger than %d bytes, too large "
				    "for a settings file", name, CONF_FILE_MAX);
				goto fail;
			}
			cap = cap ? cap * 4 : 16384;
			if (cap > CONF_FILE_MAX + 1)
				cap = CONF_FILE_MAX + 1;
			if ((nb = malloc(cap)) == NULL) {
				log_fail_sys(e, EXIT_TEMP, "unable to read %s", name);
				goto fail;
			}
			if (n) {	/* not realloc: the old copy may hold secrets */
				memcpy(nb, b, n);
				OPENSSL_cleanse(b, n);
			}
			free(b);
			b = nb;
		}
		r = read(fd, b + n, cap - n);
		if (r == -1 && errno == EINTR)
			continue;
		if (waiting && (r > 0 || (r == -1 && errno == EAGAIN))) {
			waiting = 0;	/* a writer is there */
			if (blocking(fd, name, e) == -1)
				goto fail;
		}
		if (r == -1 && errno == EAGAIN)
			continue;
		if (r == -1) {
			log_fail_sys(e, errno == EISDIR ? EXIT_USAGE : EXIT_TEMP,
			    "unable to read %s", name);
			goto fail;
		}
		if (r == 0 && waiting) {
			if (fifo_wait(fd, &waiting, name, e) == -1)
				goto fail;
			if (!waiting && blocking(fd, name, e) == -1)
				goto fail;
			continue;
		}
		if (r == 0)
			break;
		n += (size_t)r;
	}
	close(fd);
	*buf = b;
	*len = n;
	return 0;
fail:
	if (b) {
		OPENSSL_cleanse(b, n);
		free(b);
	}
	close(fd);
	return -1;
}

/* libyaml keeps raw and decoded copies of the input, secrets included. */
static void
parser_wipe(yaml_parser_t *p)
{
	if (p->raw_buffer.start != NULL)
		OPENSSL_cleanse(p->raw_buffer.start,
		    (size_t)(p->raw_buffer.end - p->raw_buffer.start));
	if (p->buffer.start != NULL)
		OPENSSL_cleanse(p->buffer.start, (size_t)(p->buffer.end - p->buffer.start));
}

/* The path for messages, control characters as "?": an error stays one line. */
static char *
printable(const char *path)
{
	char *s = strdup(path), *p;

	for (p = s; p && *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = '?';
	return s;
}

int
conf_load(struct conf *c, const char *path, struct log_err *e)
{
	return conf_load_for(c, path, 0, e);
}

int
conf_load_for(struct conf *c, const char *path, int flags, struct log_err *e)
{
	struct ld l;
	unsigned char *buf;
	size_t len = 0;
	char *name;
	int r;

	memset(c, 0, sizeof *c);
	if ((name = printable(path)) == NULL)
		return log_fail_sys(e, EXIT_TEMP, "unable to read the settings file");
	if (slurp(path, name, &buf, &len, c, e) == -1) {
		free(name);
		return -1;
	}
	memset(&l, 0, sizeof l);
	l.path = name;
	l.buf = buf;
	l.len = len;
	l.c = c;
	l.e = e;
	l.flags = flags;
	c->enable = 1;
	c->interval = 86400;
	c->timeout = 1800;
	c->s3.enable = 1;
	c->s3.path_style = -1;
	if ((c->path = strdup(path)) == NULL) {
		r = log_fail_sys(e, EXIT_TEMP, "%s", name);
	} else if (!yaml_parser_initialize(&l.yp)) {
		r = log_fail(e, EXIT_TEMP, "%s: out of memory", name);
	} else {
		yaml_parser_set_input_string(&l.yp, buf, len);
		r = read_stream(&l);
		if (r == 0)
			r = check(&l);
		parser_wipe(&l.yp);
		yaml_parser_delete(&l.yp);
	}
	OPENSSL_cleanse(buf, len);
	free(buf);
	free(name);
	if (r == -1) {
		conf_free(c);
		return -1;
	}
	return 0;
}

int
conf_fail_at(const struct conf *c, struct conf_at a, struct log_err *e, const char *fmt, ...)
{
	char msg[1024], pos[32] = "", *name = printable(c->path);
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	if (a.line > 0 && a.col > 0)
		snprintf(pos, sizeof pos, ":%d:%d", a.line, a.col);
	else if (a.line > 0)
		snprintf(pos, sizeof pos, ":%d", a.line);
	log_fail(e, EXIT_USAGE, "%s%s: %s", name ? name : c->path, pos, msg);
	free(name);
	return -1;
}

static void
wipe(char **s)
{
	if (*s) {
		OPENSSL_cleanse(*s, strlen(*s));
		free(*s);
		*s = NULL;
	}
}

static void
free_list(char **v)
{
	char **p;

	for (p = v; p && *p; p++)
		free(*p);
	free(v);
}

void
conf_free(struct conf *c)
{
	size_t i;

	for (i = 0; i < c->ndbs; i++) {
		free(c->dbs[i].host);
		free(c->dbs[i].user);
		wipe(&c->dbs[i].password);
		free(c->dbs[i].database);
		free(c->dbs[i].backup_file_prefix);
		free_list(c->dbs[i].exclude);
		free_list(c->dbs[i].pg_dump_options);
	}
	free(c->dbs);
	free(c->s3.endpoint);
	free(c->s3.bucket);
	wipe(&c->s3.access_key);
	wipe(&c->s3.access_secret);
	wipe(&c->s3.session_token);
	free(c->s3.region);
	free(c->s3.ca_file);
	free(c->s3.storage_class);
	free(c->s3.sse);
	free(c->s3.sse_kms_key_id);
	wipe(&c->s3.sse_customer_key);
	free(c->s3.object_lock.mode);
	free(c->path);
	free(c->temp_dir);
	free(c->local_dir);
	free(c->pg_dump);
	free(c->pg_dumpall);
	free(c->psql);
	free(c->pg_bin_root);
	free_list(c->pg_dump_options);
	free_list(c->encrypt.age_recipients);
	free(c->encrypt.age);
	free_list(c->on_success);
	free_list(c->on_failure);
	wipe(&c->ping_url);
	free(c->metrics_file);
	free(c->restore_check.host);
	free(c->restore_check.user);
	wipe(&c->restore_check.password);
	memset(c, 0, sizeof *c);
}

/*
 * conf_s3_fd: the s3 section as pgbak-run loaded it, for its S3 children.
 * Why a descriptor and not the file: a child that re-read the file would
 * act on an edit the daemon never loaded (a bad one broke every pass, a
 * good one moved the uploads while the database list stayed old), and it
 * would have to expand every ${NAME} in it, the databases' passwords
 * included.  Why a memfd and not a pipe: one sealed copy serves every
 * child of a run, each opening /dev/fd/N at offset 0, with no writer to
 * keep alive and no pipe capacity to fit in.  Why YAML: the children read
 * it with the same loader, limits and checks as a file.  Written by hand,
 * not with libyaml's emitter, whose copies of the secret cannot be wiped.
 */

/* Room for s quoted: every byte may become \xNN. */
static size_t
quoted_max(const char *s)
{
	return s ? 4 * strlen(s) + 2 : 0;
}

/* s as a YAML double-quoted scalar; '"', '\' and control bytes escaped, and
 * the characters YAML would read as a line break or drop: C1 controls (NEL
 * among them), U+2028, U+2029, U+FEFF. */
static size_t
put_quoted(char *out, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	const unsigned char *u;
	size_t o = 0;

	out[o++] = '"';
	for (; *s; s++) {
		unsigned char b = (unsigned char)*s;

		u = (const unsigned char *)s;
		if (b == 0xc2 && u[1] >= 0x80 && u[1] <= 0x9f) {
			o += (size_t)sprintf(out + o, "\\u00%c%c", hex[u[1] >> 4], hex[u[1] & 15]);
			s++;
		} else if ((b == 0xe2 && u[1] == 0x80 && (u[2] == 0xa8 || u[2] == 0xa9)) ||
		    (b == 0xef && u[1] == 0xbb && u[2] == 0xbf)) {
			o += (size_t)sprintf(out + o, "\\u%s", b == 0xef ? "FEFF" :
			    u[2] == 0xa8 ? "2028" : "2029");
			s += 2;
		} else if (b == '"' || b == '\\') {
			out[o++] = '\\';
			out[o++] = (char)b;
		} else if (b < 0x20 || b == 0x7f) {
			out[o++] = '\\';
			out[o++] = 'x';
			out[o++] = hex[b >> 4];
			out[o++] = hex[b & 15];
		} else {
			out[o++] = (char)b;
		}
	}
	out[o++] = '"';
	return o;
}

/* Room for fields of base written by doc_fields. */
static size_t
doc_cap(const struct field *fields, size_t n, const void *base)
{
	size_t i, cap = 0;

	for (i = 0; i < n; i++) {
		const struct field *f = &fields[i];
		const void *p = (const char *)base + f->off;

		cap += 64;
		if (f->kind == K_STR || f->kind == K_SECRET || f->kind == K_KEY)
			cap += quoted_max(*(char *const *)p);
		else if (f->kind == K_MAP)
			cap += doc_cap(f->sub, f->nsub, p);
	}
	return cap;
}

/* fields of base as YAML lines indented by indent, at b + o; the new o. */
static size_t
doc_fields(char *b, size_t cap, size_t o, const struct field *fields, size_t n,
    const void *base, int indent)
{
	size_t i;

	for (i = 0; i < n; i++) {
		const struct field *f = &fields[i];
		const void *p = (const char *)base + f->off;
		char *const *str = p;
		const int v = f->kind == K_BOOL || f->kind == K_PATH_STYLE || f->kind == K_INT ?
		    *(const int *)p : 0;
		const uint64_t z = f->kind == K_SIZE || f->kind == K_RATE ?
		    *(const uint64_t *)p : 0;

		switch (f->kind) {
		case K_BOOL:
			o += (size_t)snprintf(b + o, cap - o, "%*s%s: %s\n", indent, "", f->name,
			    v ? "true" : "false");
			break;
		case K_PATH_STYLE:
			o += (size_t)snprintf(b + o, cap - o, "%*s%s: %s\n", indent, "", f->name,
			    v < 0 ? "auto" : v ? "true" : "false");
			break;
		case K_INT:
			if (v)
				o += (size_t)snprintf(b + o, cap - o, "%*s%s: %d\n", indent, "",
				    f->name, v);
			break;
		case K_SIZE:
		case K_RATE:	/* a bare number: bytes */
			if (z)
				o += (size_t)snprintf(b + o, cap - o, "%*s%s: %llu\n", indent, "",
				    f->name, (unsigned long long)z);
			break;
		case K_MAP:	/* object_lock: written when the file has it */
			if (!*(const int *)(const void *)((const char *)p + f->present))
				break;
			o += (size_t)snprintf(b + o, cap - o, "%*s%s:\n", indent, "", f->name);
			o = doc_fields(b, cap, o, f->sub, f->nsub, p, indent + 2);
			break;
		default:	/* K_STR, K_SECRET, K_KEY */
			if (*str == NULL)
				break;
			o += (size_t)snprintf(b + o, cap - o, "%*s%s: ", indent, "", f->name);
			o += put_quoted(b + o, *str);
			b[o++] = '\n';
			break;
		}
	}
	return o;
}

/* The s3 section as a document, into a malloc'd buffer (wiped by the caller). */
static char *
s3_doc(const struct conf_s3 *s3, size_t *len)
{
	const char *head = "tasks:\n  postgres:\n    s3:\n";
	size_t cap = strlen(head) + 1 + doc_cap(s3_fields, NFIELDS(s3_fields), s3), o;
	char *b;

	if ((b = malloc(cap)) == NULL)
		return NULL;
	o = (size_t)snprintf(b, cap, "%s", head);
	o = doc_fields(b, cap, o, s3_fields, NFIELDS(s3_fields), s3, 6);
	b[o] = '\0';
	*len = o;
	return b;
}

/* Whether a and b hold the same values of fields, field by field. */
static int
fields_same(const struct field *fields, size_t n, const void *a, const void *b)
{
	size_t i;

	for (i = 0; i < n; i++) {
		const struct field *f = &fields[i];
		const void *x = (const char *)a + f->off, *y = (const char *)b + f->off;
		const char *sx, *sy;

		switch (f->kind) {
		case K_BOOL:
		case K_PATH_STYLE:
		case K_INT:
			if (*(const int *)x != *(const int *)y)
				return 0;
			break;
		case K_SIZE:
		case K_RATE:
			if (*(const uint64_t *)x != *(const uint64_t *)y)
				return 0;
			break;
		case K_MAP:
			if (*(const int *)(const void *)((const char *)x + f->present) !=
			    *(const int *)(const void *)((const char *)y + f->present) ||
			    !fields_same(f->sub, f->nsub, x, y))
				return 0;
			break;
		default:
			sx = *(char *const *)x, sy = *(char *const *)y;
			if ((sx == NULL) != (sy == NULL) || (sx && strcmp(sx, sy) != 0))
				return 0;
			break;
		}
	}
	return 1;
}

/* Whether a and b hold the same s3 settings. */
static int
s3_same(const struct conf_s3 *a, const struct conf_s3 *b)
{
	return fields_same(s3_fields, NFIELDS(s3_fields), a, b);
}

int
conf_s3_fd(const struct conf *c, struct log_err *e)
{
	struct conf back;
	struct log_err be;
	char path[64], *doc;
	size_t len = 0, off = 0;
	ssize_t w;
	int fd, same;

	if ((doc = s3_doc(&c->s3, &len)) == NULL)
		return log_fail_sys(e, EXIT_TEMP, "unable to pass on the s3 settings");
	fd = memfd_create("pgbak-s3", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	while (fd >= 0 && off < len) {
		if ((w = write(fd, doc + off, len - off)) < 0 && errno != EINTR)
			break;
		off += w > 0 ? (size_t)w : 0;
	}
	OPENSSL_cleanse(doc, len);
	free(doc);
	if (fd < 0 || off < len || fchmod(fd, 0400) < 0 || fcntl(fd, F_ADD_SEALS,
	    F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL) < 0) {
		log_fail_sys(e, EXIT_TEMP, "unable to pass on the s3 settings");
		if (fd >= 0)
			close(fd);
		return -1;
	}
	/* Read back as the children will: what they get is what we loaded. */
	snprintf(path, sizeof path, "/dev/fd/%d", fd);
	if (conf_load_for(&back, path, CONF_S3_ONLY | CONF_LITERAL, &be) < 0) {
		close(fd);
		return log_fail(e, EXIT_USAGE, "%s: the s3 settings cannot be passed on: %s",
		    c->path, be.msg);
	}
	same = s3_same(&c->s3, &back.s3);
	conf_free(&back);
	if (!same) {
		close(fd);
		return log_fail(e, EXIT_USAGE, "%s: the s3 settings cannot be passed on as they "
		    "are (a value with bytes that are not UTF-8?)", c->path);
	}
	return fd;
}

/* Digits then an optional unit; *unit points past the digits. */
static int
leading_number(const char *s, uint64_t *v, const char **unit)
{
	uint64_t n = 0;

	if (s == NULL || *s < '0' || *s > '9')
		return -1;
	for (; *s >= '0' && *s <= '9'; s++) {
		if (n > UINT64_MAX / 10 || (n == UINT64_MAX / 10 && (uint64_t)(*s - '0') >
		    UINT64_MAX % 10))
			return -1;
		n = n * 10 + (uint64_t)(*s - '0');
	}
	*v = n;
	*unit = s;
	return 0;
}

struct unit { const char *u; uint64_t mul; };

/* Digits then one of the units (a table with an entry ""), scaled:
 * from 1 to max, else -1. */
static int
scaled(const char *s, const struct unit *units, size_t nunits, uint64_t max, uint64_t *v)
{
	const char *u;
	uint64_t n;
	size_t i;

	if (leading_number(s, &n, &u) == -1)
		return -1;
	for (i = 0; i < nunits; i++) {
		if (strcmp(u, units[i].u) != 0)
			continue;
		if (n == 0 || n > max / units[i].mul)
			return -1;
		*v = n * units[i].mul;
		return 0;
	}
	return -1;
}

int
conf_duration(const char *s, long *seconds)
{
	static const struct unit units[] = {
		{ "", 1 }, { "s", 1 }, { "m", 60 }, { "h", 3600 }, { "d", 86400 },
	};
	uint64_t v;

	if (scaled(s, units, NFIELDS(units), (uint64_t)CONF_DURATION_MAX, &v) == -1)
		return -1;
	*seconds = (long)v;
	return 0;
}

int
conf_size(const char *s, uint64_t *bytes)
{
	static const char shifts[] = "KMGT";
	const char *u, *p;
	uint64_t n;
	int shift = 0;

	if (leading_number(s, &n, &u) == -1)
		return -1;
	if (*u) {
		if ((p = strchr(shifts, *u & ~0x20)) == NULL || (*u & ~0x20) == 0)
			return -1;
		shift = 10 * (int)(p - shifts + 1);
		if (strcmp(u + 1, "") != 0 && strcmp(u + 1, "iB") != 0)
			return -1;
	}
	if (n == 0 || n > UINT64_MAX >> shift)
		return -1;
	*bytes = n << shift;
	return 0;
}

int
conf_rate(const char *s, uint64_t *bytes_per_s)
{
	static const struct unit units[] = {
		{ "", 1 }, { "B", 1 },
		{ "kB", 1000 }, { "KB", 1000 }, { "MB", 1000000 }, { "GB", 1000000000 },
		{ "KiB", 1ULL << 10 }, { "MiB", 1ULL << 20 }, { "GiB", 1ULL << 30 },
	};
	uint64_t v;

	if (scaled(s, units, NFIELDS(units), CONF_RATE_MAX, &v) == -1 || v < CONF_RATE_MIN)
		return -1;
	*bytes_per_s = v;
	return 0;
}
