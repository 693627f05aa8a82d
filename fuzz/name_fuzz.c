/*
 * name_fuzz: libFuzzer harness for backup naming (lib/name.c).
 *
 * The input is split at its first two NUL bytes into backup_file_prefix,
 * database and date (missing parts are empty).  The date goes through
 * name_date; prefix and database through name_make with that date, or
 * with the raw date string when name_date refused it (name_make must then
 * refuse it too, unless it is already eight digits).
 *
 * The invariants are the promises of pgbak-name(1): a key has no empty,
 * "." or ".." segment (so no leading "/", no "//", never climbs), no
 * backslash or control character, is UTF-8 (as S3 wants; checked here with
 * the C library's decoder), ends with "-YYYYMMDD.gz", ends with the
 * local name, fits S3's 1024 bytes; the local name has no slash and fits
 * 255 bytes.  Errors are one line with status 100 and leave nothing.
 * name_parse is the inverse: it takes every key name_make makes, with its
 * date and local name, and on any other input (the prefix read as a key)
 * either a key that names itself or one line with status 100.
 */
#include <locale.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>

#include "fuzz.h"
#include "name.h"

#define FAIL(...) do { fprintf(stderr, "name_fuzz: " __VA_ARGS__); \
	fputc('\n', stderr); abort(); } while (0)

/* UTF-8 by mbrtowc, which takes all of U+0000..U+10FFFF but surrogates. */
static int
utf8(const char *s)
{
	mbstate_t st;
	wchar_t wc;
	size_t r;

	memset(&st, 0, sizeof st);
	for (; *s; s += r) {
		r = mbrtowc(&wc, s, strlen(s), &st);
		if (r == (size_t)-1 || r == (size_t)-2 || r == 0 || (unsigned long)wc > 0x10ffff)
			return 0;
	}
	return 1;
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	if (setlocale(LC_CTYPE, "C.UTF-8") == NULL) {
		fprintf(stderr, "name_fuzz: no C.UTF-8 locale\n");
		abort();
	}
	return 0;
}

static int
digits8(const char *s)
{
	size_t i;

	for (i = 0; i < 8; i++)
		if (s[i] < '0' || s[i] > '9')
			return 0;
	return s[8] == '\0';
}

static void
check_error(const struct log_err *e, const char *what)
{
	if (e->status != EXIT_USAGE)
		FAIL("%s: status %d: %s", what, e->status, e->msg);
	if (e->msg[0] == '\0' || strchr(e->msg, '\n'))
		FAIL("%s: not one line: \"%s\"", what, e->msg);
}

static void
check_key(const char *key, const char *local, const char *ymd)
{
	size_t kn = strlen(key), ln = strlen(local), i, seg;
	char tail[16];

	snprintf(tail, sizeof tail, "-%s.gz", ymd);
	if (kn > 1024 || ln > 255 || ln < strlen(tail) + 1)
		FAIL("lengths %zu and %zu: %s", kn, ln, key);
	if (strcmp(local + ln - strlen(tail), tail) != 0)
		FAIL("local name %s does not end with %s", local, tail);
	if (strchr(local, '/') || strchr(local, '\\') || fuzz_has_control(local))
		FAIL("local name %s has a slash or a control character", local);
	if (kn < ln || strcmp(key + kn - ln, local) != 0 ||
	    (kn > ln && key[kn - ln - 1] != '/'))
		FAIL("key %s does not end with /%s", key, local);
	if (strchr(key, '\\') || fuzz_has_control(key) || !utf8(key))
		FAIL("key %s has a backslash, a control character or is not UTF-8", key);
	for (i = 0; i <= kn; i = i + seg + 1) {
		seg = strcspn(key + i, "/");
		if (seg == 0 || (seg == 1 && key[i] == '.') ||
		    (seg == 2 && key[i] == '.' && key[i + 1] == '.'))
			FAIL("key %s has an empty, \".\" or \"..\" segment", key);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t n)
{
	char *buf, *prefix, *db, *date, *key, *local, *key2, *local2, ymd[9], again[9];
	struct name_parts p;
	const char *use;
	struct log_err e;
	size_t len;

	if ((buf = malloc(n + 3)) == NULL)
		return 0;
	memcpy(buf, data, n);
	memset(buf + n, 0, 3);	/* so that all three parts exist */
	prefix = buf;
	db = prefix + strlen(prefix) + 1;
	date = db + strlen(db) + 1;

	memset(&e, 0, sizeof e);
	if (name_parse(prefix, &p, &e) == -1)
		check_error(&e, "name_parse");
	else if (strncmp(prefix + p.stem, p.ymd, 8) != 0 || prefix[p.stem - 1] != '-')
		FAIL("name_parse split %s at %zu", prefix, p.stem);

	memset(&e, 0, sizeof e);
	use = date;
	if (name_date(date, ymd, &e) == 0) {
		if (!digits8(ymd))
			FAIL("name_date gave \"%.9s\"", ymd);
		len = strlen(date);
		if (len != 8 && len != 10)
			FAIL("name_date took \"%s\"", date);
		if (name_date(ymd, again, &e) == -1 || strcmp(ymd, again) != 0)
			FAIL("name_date is not stable on %s", ymd);
		use = ymd;
	} else {
		check_error(&e, "name_date");
	}

	memset(&e, 0, sizeof e);
	if (name_make(prefix, db, use, &key, &local, &e) == -1) {
		check_error(&e, "name_make");
		if (key || local)
			FAIL("name_make failed but set a name");
		if ((strcmp(e.msg, "backup_file_prefix is not valid UTF-8") == 0 ||
		    strcmp(e.msg, "database name is not valid UTF-8") == 0) &&
		    utf8(prefix) && utf8(db))
			FAIL("UTF-8 refused: \"%s\" \"%s\"", prefix, db);
		free(buf);
		return 0;
	}
	if (!digits8(use))
		FAIL("name_make took date \"%s\"", use);
	check_key(key, local, use);
	if (name_parse(key, &p, &e) == -1)
		FAIL("name_parse refused %s: %s", key, e.msg);
	if (strcmp(p.ymd, use) != 0 || strcmp(key + p.dir, local) != 0 || p.flags & NAME_AGE)
		FAIL("name_parse split %s into %zu %zu %s %d", key, p.dir, p.stem, p.ymd, p.flags);
	/* Deterministic: the same parts name the same backup. */
	if (name_make(prefix, db, use, &key2, &local2, &e) == -1 ||
	    strcmp(key, key2) != 0 || strcmp(local, local2) != 0)
		FAIL("name_make is not deterministic on %s", key);
	free(key2);
	free(local2);
	free(key);
	free(local);
	free(buf);
	return 0;
}
