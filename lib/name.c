/*
 * name: object keys and local file names (see name.h and pgbak-name(1)).
 *
 * The prefix is normalized segment by segment, so that whatever a settings
 * file holds, the key has no empty, "." or climbing segments: S3 treats
 * "a//b" and "a/./b" as distinct keys that no file browser can reach, and a
 * ".." would make a restore script write outside its directory.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "name.h"

#define NAME_FALLBACK "pg-backup"
#define NAME_KEY_MAX 1024	/* S3's limit on an object key, in bytes */

static int
is_digits(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return 0;
	return 1;
}

static int
num(const char *s, size_t n)
{
	int v = 0;
	size_t i;

	for (i = 0; i < n; i++)
		v = v * 10 + (s[i] - '0');
	return v;
}

static int
days_in_month(int year, int month)
{
	static const int days[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	int leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;

	if (month < 1 || month > 12)
		return 0;
	return days[month - 1] + (month == 2 && leap);
}

/* At most n - 1 bytes of s for a message, control characters as "?": a
 * date or a key comes from the command line and the message must stay one
 * line. */
static const char *
visible(const char *s, char *out, size_t n)
{
	size_t i;

	for (i = 0; s && s[i] && i + 1 < n; i++)
		out[i] = (unsigned char)s[i] < 0x20 || s[i] == 0x7f ? '?' : s[i];
	out[i] = '\0';
	return out;
}

static const char *
shown(const char *s, char out[33])
{
	return visible(s, out, 33);
}

int
name_date(const char *s, char ymd[9], struct log_err *e)
{
	char d[9], vis[33];
	size_t n = s ? strlen(s) : 0;
	int y, m, dd;

	if (n == 8 && is_digits(s, 8)) {
		memcpy(d, s, 8);
	} else if (n == 10 && s[4] == '-' && s[7] == '-' && is_digits(s, 4) &&
	    is_digits(s + 5, 2) && is_digits(s + 8, 2)) {
		memcpy(d, s, 4);
		memcpy(d + 4, s + 5, 2);
		memcpy(d + 6, s + 8, 2);
	} else {
		return log_fail(e, EXIT_USAGE,
		    "invalid date \"%s\": expected YYYYMMDD or YYYY-MM-DD", shown(s, vis));
	}
	d[8] = '\0';
	y = num(d, 4);
	m = num(d + 4, 2);
	dd = num(d + 6, 2);
	if (y < 1 || dd < 1 || dd > days_in_month(y, m))
		return log_fail(e, EXIT_USAGE, "invalid date \"%s\": no such day", s);
	memcpy(ymd, d, 9);
	return 0;
}

void
name_today(char ymd[9])
{
	time_t now = time(NULL);
	struct tm tm;

	tzset();
	if (localtime_r(&now, &tm) == NULL || strftime(ymd, 9, "%Y%m%d", &tm) != 8)
		memcpy(ymd, "19700101", 9);
}

static int
has_control(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return 1;
	return 0;
}

/* Whether s is UTF-8 as S3 wants a key: no overlong forms, no surrogates,
 * nothing past U+10FFFF. */
static int
is_utf8(const char *str)
{
	const unsigned char *s = (const unsigned char *)str;
	unsigned long cp;
	int n, i;

	while (*s) {
		if (*s < 0x80) {
			s++;
			continue;
		}
		if (*s >= 0xc2 && *s <= 0xdf)
			n = 1, cp = *s & 0x1f;
		else if ((*s & 0xf0) == 0xe0)
			n = 2, cp = *s & 0x0f;
		else if (*s >= 0xf0 && *s <= 0xf4)
			n = 3, cp = *s & 0x07;
		else
			return 0;
		for (i = 1; i <= n; i++) {
			if ((s[i] & 0xc0) != 0x80)
				return 0;	/* also stops at the NUL */
			cp = cp << 6 | (s[i] & 0x3f);
		}
		if ((n == 2 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
		    (n == 3 && (cp < 0x10000 || cp > 0x10ffff)))
			return 0;
		s += n + 1;
	}
	return 1;
}

int
name_key_ok(const char *s)
{
	return is_utf8(s) && !has_control(s);
}

int
name_local_ok(const char *key)
{
	const char *s;

	while ((s = strchr(key, '/')) != NULL) {
		if ((size_t)(s - key) > NAME_LOCAL_MAX)
			return 0;
		key = s + 1;
	}
	return strlen(key) <= NAME_LOCAL_MAX;
}

/*
 * Normalize prefix into out (at least strlen(prefix) + 1 bytes): segments
 * joined by single slashes, no leading or trailing slash.  *dirlike tells
 * whether the prefix names a directory (ends with "/" or a "." segment).
 */
static int
normalize(const char *prefix, char *out, int *dirlike, struct log_err *e)
{
	const char *p = prefix, *seg;
	size_t n, o = 0;

	*dirlike = 0;
	while (*p) {
		seg = p;
		while (*p && *p != '/' && *p != '\\')
			p++;
		n = (size_t)(p - seg);
		if (*p)
			p++;
		if (n == 2 && seg[0] == '.' && seg[1] == '.')
			return log_fail(e, EXIT_USAGE, "backup_file_prefix \"%.200s\" has a "
			    "\"..\" segment: a backup key must never climb", prefix);
		if (n == 0 || (n == 1 && seg[0] == '.')) {
			*dirlike = 1;
			continue;
		}
		*dirlike = 0;
		if (o)
			out[o++] = '/';
		memcpy(out + o, seg, n);
		o += n;
	}
	if (p > prefix && (p[-1] == '/' || p[-1] == '\\'))
		*dirlike = 1;
	out[o] = '\0';
	return 0;
}

/*
 * A custom archive or a directory's tar keeps its format's word before the
 * compression's (".dump.zst", ".tar.gz"): `file`, tar and pg_restore users
 * know them, and a plain dump keeps the seed's ".gz".  Uncompressed, the
 * format's word alone: ".dump", ".tar" (".sql" for plain).
 */
const char *
name_suffix(int flags)
{
	static const char *const sfx[3][3] = {
		{ ".gz", ".zst", ".sql" },
		{ ".dump.gz", ".dump.zst", ".dump" },
		{ ".tar.gz", ".tar.zst", ".tar" },
	};
	int f = flags & NAME_CUSTOM ? 1 : flags & NAME_DIR ? 2 : 0;

	return sfx[f][flags & NAME_ZSTD ? 1 : flags & NAME_RAW ? 2 : 0];
}

int
name_make(const char *prefix, const char *database, const char *ymd,
    char **key, char **local, struct log_err *e)
{
	return name_object(prefix, database, ymd, 0, key, local, e);
}

int
name_object(const char *prefix, const char *database, const char *ymd, int flags,
    char **key, char **local, struct log_err *e)
{
	const char *sfx = flags & NAME_AGE ? NAME_AGE_SUFFIX : "", *comp = name_suffix(flags);
	char *norm, *base, *k, *l, vis[33];
	const char *dir;
	int dirlike;
	size_t dn, bn, tail;

	*key = *local = NULL;
	if (prefix == NULL)
		prefix = "";
	if (database == NULL)
		database = "";
	if (ymd == NULL || strlen(ymd) != 8 || !is_digits(ymd, 8))
		return log_fail(e, EXIT_USAGE, "invalid date \"%s\": expected YYYYMMDD",
		    shown(ymd, vis));
	if (has_control(prefix))
		return log_fail(e, EXIT_USAGE, "backup_file_prefix has a control character");
	if (has_control(database))
		return log_fail(e, EXIT_USAGE, "database name has a control character");
	if (!is_utf8(prefix))
		return log_fail(e, EXIT_USAGE, "backup_file_prefix is not valid UTF-8");
	if (!is_utf8(database))
		return log_fail(e, EXIT_USAGE, "database name is not valid UTF-8");
	if ((norm = malloc(strlen(prefix) + 1)) == NULL)
		return log_fail_sys(e, EXIT_TEMP, "unable to name the backup");
	if (normalize(prefix, norm, &dirlike, e) == -1) {
		free(norm);
		return -1;
	}
	/* Split into dir and base; the database names directory-like prefixes. */
	if (dirlike || *norm == '\0') {
		dir = norm;
		base = NULL;
	} else if ((base = strrchr(norm, '/')) != NULL) {
		*base++ = '\0';
		dir = norm;
	} else {
		base = norm;
		dir = "";
	}
	if (base == NULL) {
		if (strchr(database, '/') || strchr(database, '\\')) {
			log_fail(e, EXIT_USAGE, "database name \"%.200s\" has a slash: set a "
			    "file-like backup_file_prefix to name its backups", database);
			free(norm);
			return -1;
		}
		base = *database ? (char *)database : NAME_FALLBACK;
	}
	/* The globals of the cluster: the same directory, its own basename, so
	 * that both spellings of a prefix that name one dump name one globals. */
	if (flags & NAME_GLOBALS)
		base = (char *)NAME_GLOBALS_BASE;
	dn = strlen(dir);
	bn = strlen(base);
	tail = sizeof "-YYYYMMDD" - 1 + strlen(comp) + strlen(sfx);
	if (bn + tail > NAME_LOCAL_MAX || dn + 1 + bn + tail > NAME_KEY_MAX) {
		log_fail(e, EXIT_USAGE, "backup name for \"%.64s\" is too long: keys are limited "
		    "to %d bytes, file names to %d", *prefix ? prefix : database,
		    NAME_KEY_MAX, NAME_LOCAL_MAX);
		free(norm);
		return -1;
	}
	k = malloc(dn + bn + tail + 2);
	l = malloc(bn + tail + 1);
	if (k == NULL || l == NULL) {
		free(k);
		free(l);
		free(norm);
		return log_fail_sys(e, EXIT_TEMP, "unable to name the backup");
	}
	snprintf(l, bn + tail + 1, "%s-%s%s%s", base, ymd, comp, sfx);
	snprintf(k, dn + bn + tail + 2, "%s%s%s", dir, dn ? "/" : "", l);
	free(norm);
	*key = k;
	*local = l;
	return 0;
}

/* Where "-YYYYMMDD" and a suffix name_object writes (name_suffix's, each
 * perhaps followed by ".age") start the date in key, and its flags; 0 when
 * key does not end so.  The date must come right before the suffix, so no
 * two suffixes match one key (".gz" needs a digit where ".dump.gz" has "p"). */
static size_t
dated_tail(const char *key, int *flags)
{
	static const int comps[] = { 0, NAME_ZSTD, NAME_RAW };
	static const int formats[] = { 0, NAME_CUSTOM, NAME_DIR };
	size_t n = strlen(key), k, i, j, a;
	char end[32];
	int f;

	for (j = 0; j < sizeof formats / sizeof formats[0]; j++) {
		for (i = 0; i < sizeof comps / sizeof comps[0]; i++) {
			for (a = 0; a < 2; a++) {
				f = formats[j] | comps[i];
				snprintf(end, sizeof end, "%s%s", name_suffix(f),
				    a ? NAME_AGE_SUFFIX : "");
				k = strlen(end);
				if (n >= k + 9 && strcmp(key + n - k, end) == 0 &&
				    key[n - k - 9] == '-' && is_digits(key + n - k - 8, 8)) {
					*flags = f | (a ? NAME_AGE : 0);
					return n - k - 8;
				}
			}
		}
	}
	return 0;
}

/* Whether the n bytes at s are "." or "..": a base name only a database
 * gives, as a file-like prefix would take it for a directory. */
static int
is_dots(const char *s, size_t n)
{
	return (n == 1 && s[0] == '.') || (n == 2 && s[0] == '.' && s[1] == '.');
}

int
name_parse(const char *key, struct name_parts *p, struct log_err *e)
{
	char vis[NAME_KEY_MAX + 1], *prefix, *db = NULL, *k, *l;
	const char *base, *s;
	struct log_err ne;
	size_t bn;
	int rc, dots;

	memset(p, 0, sizeof *p);
	if ((p->stem = dated_tail(key, &p->flags)) == 0)
		return log_fail(e, EXIT_USAGE, "%s does not end with -YYYYMMDD.gz, .zst or .sql "
		    "(or .dump, .tar with or without .gz, .zst; each perhaps followed by "
		    NAME_AGE_SUFFIX ")", visible(key, vis, sizeof vis));
	p->suffix = p->stem + 8;
	memcpy(p->ymd, key + p->stem, 8);
	for (s = key; s < key + p->stem - 1; s++)
		if (*s == '/')
			p->dir = (size_t)(s - key) + 1;
	base = key + p->dir;
	bn = p->stem - 1 - p->dir;
	if (bn == strlen(NAME_GLOBALS_BASE) && strncmp(base, NAME_GLOBALS_BASE, bn) == 0)
		p->flags |= NAME_GLOBALS;
	/* The inverse by construction: name_object again, from the file-like
	 * prefix DIR/BASE, or from DIR/ and the database BASE. */
	if ((dots = is_dots(base, bn))) {
		prefix = strndup(key, p->dir);
		db = strndup(base, bn);
	} else {
		prefix = strndup(key, p->stem - 1);
	}
	if (prefix == NULL || (dots && db == NULL)) {
		free(prefix);
		free(db);
		return log_fail_sys(e, EXIT_TEMP, "unable to read the key %s",
		    visible(key, vis, sizeof vis));
	}
	rc = name_object(prefix, db, p->ymd, p->flags & (NAME_AGE | NAME_KINDS), &k, &l, &ne);
	free(prefix);
	free(db);
	if (rc < 0)
		return log_fail(e, ne.status, "%s is not a key pgbak names backups with: %s",
		    visible(key, vis, sizeof vis), ne.msg);
	free(l);
	if (strcmp(k, key) != 0)
		rc = log_fail(e, EXIT_USAGE, "%s is not a key pgbak names backups with "
		    "(it would be %s)", visible(key, vis, sizeof vis), k);
	free(k);
	return rc;
}

int
name_stem(const char *prefix, const char *database, int flags, char **stem,
    struct log_err *e)
{
	char *key, *local;

	/* any date does: only what comes before it is kept */
	if (name_object(prefix, database, "20000101", flags, &key, &local, e) < 0)
		return -1;
	free(local);
	key[strlen(key) - strlen("20000101") - strlen(name_suffix(flags)) -
	    (flags & NAME_AGE ? strlen(NAME_AGE_SUFFIX) : 0)] = '\0';
	*stem = key;
	return 0;
}
