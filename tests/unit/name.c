/* Unit tests of lib/name: every naming rule, the seed's examples, dates. */
#include <stdlib.h>
#include <time.h>

#include "name.h"
#include "tap.h"

struct ok_case {
	const char *why, *prefix, *db, *key, *local;
};

static const struct ok_case good[] = {
	{ "seed: directory-like prefix", "backup/postgre/prod/oneapi/", "oneapi",
	    "backup/postgre/prod/oneapi/oneapi-20250909.gz", "oneapi-20250909.gz" },
	{ "seed: file-like prefix", "backup/postgre/prod/oneapi/oneapi", "oneapi",
	    "backup/postgre/prod/oneapi/oneapi-20250909.gz", "oneapi-20250909.gz" },
	{ "file-like basename wins over the database", "backups/nightly", "appdb",
	    "backups/nightly-20250909.gz", "nightly-20250909.gz" },
	{ "file-like without a directory", "dump", "appdb",
	    "dump-20250909.gz", "dump-20250909.gz" },
	{ "backslashes are slashes", "backup\\postgre\\x", "db",
	    "backup/postgre/x-20250909.gz", "x-20250909.gz" },
	{ "trailing backslash is directory-like", "backup\\", "db",
	    "backup/db-20250909.gz", "db-20250909.gz" },
	{ "leading slashes removed", "///backup/x/", "db",
	    "backup/x/db-20250909.gz", "db-20250909.gz" },
	{ "leading backslash removed", "\\backup", "db",
	    "backup-20250909.gz", "backup-20250909.gz" },
	{ "runs of slashes collapse", "a//b///c", "db",
	    "a/b/c-20250909.gz", "c-20250909.gz" },
	{ "runs of mixed separators collapse", "a/\\/b/", "db",
	    "a/b/db-20250909.gz", "db-20250909.gz" },
	{ ". segments dropped", "./a/./b/.", "db",
	    "a/b/db-20250909.gz", "db-20250909.gz" },
	{ "trailing . is directory-like", "a/b/.", "db",
	    "a/b/db-20250909.gz", "db-20250909.gz" },
	{ "dots inside a name are kept", "a.b/..c/d..", "db",
	    "a.b/..c/d..-20250909.gz", "d..-20250909.gz" },
	{ "empty prefix: database", "", "appdb",
	    "appdb-20250909.gz", "appdb-20250909.gz" },
	{ "NULL prefix: database", NULL, "appdb",
	    "appdb-20250909.gz", "appdb-20250909.gz" },
	{ "only slashes: database", "///", "appdb",
	    "appdb-20250909.gz", "appdb-20250909.gz" },
	{ "only . segments: database", "./.", "appdb",
	    "appdb-20250909.gz", "appdb-20250909.gz" },
	{ "empty prefix and database: pg-backup", "", "",
	    "pg-backup-20250909.gz", "pg-backup-20250909.gz" },
	{ "NULL prefix and database: pg-backup", NULL, NULL,
	    "pg-backup-20250909.gz", "pg-backup-20250909.gz" },
	{ "directory-like, empty database: pg-backup", "a/b/", "",
	    "a/b/pg-backup-20250909.gz", "pg-backup-20250909.gz" },
	{ "file-like ignores a database with a slash", "a/b", "x/y",
	    "a/b-20250909.gz", "b-20250909.gz" },
	{ "spaces and unicode are kept", "my backups/é", "db",
	    "my backups/é-20250909.gz", "é-20250909.gz" },
};

struct bad_case {
	const char *why, *prefix, *db, *needle;
};

static const struct bad_case bad[] = {
	{ ".. segment", "a/../b", "db", "\"a/../b\" has a \"..\" segment" },
	{ "leading ..", "../a", "db", "\"..\" segment" },
	{ "trailing ..", "a/..", "db", "\"..\" segment" },
	{ "only ..", "..", "db", "\"..\" segment" },
	{ ".. after backslash", "a\\..\\b", "db", "\"..\" segment" },
	{ "database with a slash under a directory-like prefix", "a/", "x/y", "has a slash" },
	{ "database with a slash and no prefix", "", "../etc", "has a slash" },
	{ "database with a backslash", "", "x\\y", "has a slash" },
	{ "control character in the prefix", "a\nb", "db", "control character" },
	{ "control character in the database", "", "a\tb", "control character" },
};

static void
test_make(void)
{
	struct log_err e;
	char *key, *local;
	size_t i;

	for (i = 0; i < sizeof good / sizeof good[0]; i++) {
		if (!ok(name_make(good[i].prefix, good[i].db, "20250909", &key, &local, &e) == 0,
		    "%s: accepted", good[i].why)) {
			diag("%s", e.msg);
			continue;
		}
		is_str(key, good[i].key, "%s: key", good[i].why);
		is_str(local, good[i].local, "%s: local name", good[i].why);
		free(key);
		free(local);
	}
	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		e.status = 0;
		key = local = (char *)"untouched";
		ok(name_make(bad[i].prefix, bad[i].db, "20250909", &key, &local, &e) == -1 &&
		    e.status == EXIT_USAGE && key == NULL && local == NULL,
		    "%s: usage error, nothing returned", bad[i].why);
		ok(strstr(e.msg, bad[i].needle) != NULL && strchr(e.msg, '\n') == NULL,
		    "%s: one line naming it", bad[i].why);
	}
}

/* A prefix of dirlen 'a's, a slash and baselen 'b's; the return of name_make. */
static int
make_long(size_t dirlen, size_t baselen, char **key, char **local, struct log_err *e)
{
	char prefix[2048];

	memset(prefix, 'a', dirlen);
	prefix[dirlen] = '/';
	memset(prefix + dirlen + 1, 'b', baselen);
	prefix[dirlen + 1 + baselen] = '\0';
	return name_make(prefix, "db", "20250909", key, local, e);
}

static void
test_limits(void)
{
	char *key = NULL, *local = NULL;
	struct log_err e;

	/* 811 + 1 + 200 + strlen("-20250909.gz") = 1024, S3's limit on keys. */
	ok(make_long(811, 200, &key, &local, &e) == 0 && strlen(key) == 1024,
	    "a key of exactly 1024 bytes is accepted");
	free(key);
	free(local);
	ok(make_long(812, 200, &key, &local, &e) == -1 && e.status == EXIT_USAGE &&
	    strstr(e.msg, "too long") != NULL, "a key of 1025 bytes is refused");
	ok(make_long(1, 243, &key, &local, &e) == 0 && strlen(local) == 255,
	    "a local name of exactly 255 bytes is accepted");
	free(key);
	free(local);
	ok(make_long(1, 244, &key, &local, &e) == -1 && e.status == EXIT_USAGE &&
	    strstr(e.msg, "too long") != NULL, "a local name of 256 bytes is refused");
	ok(make_long(255, 1, &key, &local, &e) == 0 && name_local_ok(key),
	    "a directory of 255 bytes fits a local file system");
	free(key);
	free(local);
	ok(make_long(256, 1, &key, &local, &e) == 0 && !name_local_ok(key),
	    "a directory of 256 bytes is a valid key, but not a local path");
	free(key);
	free(local);
	ok(name_local_ok("a/b/c-20250909.gz") && name_local_ok(""), "short keys fit");
	ok(name_make("x/", "db", "2025090", &key, &local, &e) == -1 && e.status == EXIT_USAGE,
	    "name_make refuses a malformed ymd");
	ok(name_make("x/", "db", NULL, &key, &local, &e) == -1 && e.status == EXIT_USAGE,
	    "name_make refuses a NULL ymd");
}

/* name_stem: what every day's key of a series starts with. */
static void
test_stem(void)
{
	static const struct { const char *prefix, *db; int flags; const char *stem; } v[] = {
		{ "b/prod/", "app", 0, "b/prod/app-" },
		{ "b/prod/app", "other", 0, "b/prod/app-" },
		{ "b/prod/", "app", NAME_GLOBALS, "b/prod/globals-" },
		{ "b/prod/app", "app", NAME_GLOBALS, "b/prod/globals-" },
		{ "b/prod/", "app", NAME_AGE, "b/prod/app-" },
		{ "", "app", 0, "app-" },
	};
	struct log_err e;
	char *stem;
	size_t i;

	for (i = 0; i < sizeof v / sizeof v[0]; i++) {
		if (!ok(name_stem(v[i].prefix, v[i].db, v[i].flags, &stem, &e) == 0,
		    "name_stem(\"%s\", %s, %d)", v[i].prefix, v[i].db, v[i].flags))
			continue;
		is_str(stem, v[i].stem, "...is %s", v[i].stem);
		free(stem);
	}
	ok(name_stem("b/../x", "app", 0, &stem, &e) == -1 && e.status == EXIT_USAGE,
	    "name_stem refuses what name_make refuses");
}

static void
test_date(void)
{
	static const struct { const char *in, *want; } good_dates[] = {
		{ "20250909", "20250909" }, { "2025-09-09", "20250909" },
		{ "20240229", "20240229" }, { "2000-02-29", "20000229" },
		{ "20251231", "20251231" }, { "00010101", "00010101" },
		{ "99991231", "99991231" }, { "2025-01-31", "20250131" },
	};
	static const char *const bad_dates[] = {
		"20250230", "2025-02-30", "20250229", "19000229", "21000229",
		"20250431", "20251301", "20250001", "20250100", "00000101",
		"2025-9-9", "2025-09-9", "202509091", "2025090", "2025/09/09",
		"2025-0909", "202509-09", " 20250909", "20250909 ", "2025-09-09T00",
		"+2025090", "yyyymmdd", "", "2025-09-0a", "２０２５0909",
	};
	struct log_err e;
	char ymd[9];
	size_t i;

	for (i = 0; i < sizeof good_dates / sizeof good_dates[0]; i++) {
		memset(ymd, 0, sizeof ymd);
		ok(name_date(good_dates[i].in, ymd, &e) == 0, "date %s accepted",
		    good_dates[i].in);
		is_str(ymd, good_dates[i].want, "date %s is %s", good_dates[i].in,
		    good_dates[i].want);
	}
	for (i = 0; i < sizeof bad_dates / sizeof bad_dates[0]; i++) {
		e.status = 0;
		ok(name_date(bad_dates[i], ymd, &e) == -1 && e.status == EXIT_USAGE &&
		    strstr(e.msg, "invalid date") != NULL, "date \"%s\" refused", bad_dates[i]);
	}
	ok(name_date(NULL, ymd, &e) == -1 && e.status == EXIT_USAGE, "NULL date refused");
}

/* Today in zone tz, through name_today. */
static void
today_in(const char *tz, char ymd[9])
{
	setenv("TZ", tz, 1);
	name_today(ymd);
}

static void
test_today(void)
{
	char utc[9], east[9], west[9], want[9];
	struct tm tm;
	time_t now;
	int tries;

	/* Retry if midnight UTC passes between the two readings. */
	for (tries = 0; tries < 3; tries++) {
		now = time(NULL);
		gmtime_r(&now, &tm);
		strftime(want, sizeof want, "%Y%m%d", &tm);
		today_in("UTC0", utc);
		if (strcmp(utc, want) == 0)
			break;
	}
	is_str(utc, want, "name_today in UTC is today's UTC date");
	/* UTC+14 and UTC-12 are 26 hours apart: never the same date. */
	today_in("XXX-14", east);
	today_in("YYY+12", west);
	ok(strlen(east) == 8 && strlen(west) == 8 && strcmp(east, west) > 0,
	    "TZ is honoured (%s east of %s)", east, west);
	ok(name_date(east, want, NULL) == 0, "name_today gives a valid date");
	unsetenv("TZ");
}

/* name_object (prefix, db, ymd, flags) then name_parse: every part back, and
 * name_object from the parts (DIR/ and BASE as the database) the same key. */
static int
round_trip(const char *prefix, const char *db, const char *ymd, int flags)
{
	char *key, *local, *key2, *local2, *dir, *base;
	struct name_parts p;
	struct log_err e;
	int good = 1;

	if (name_object(prefix, db, ymd, flags, &key, &local, &e) < 0)
		return -1;	/* not a name: nothing to parse */
	if (name_parse(key, &p, &e) < 0) {
		diag("%s: %s", key, e.msg);
		good = 0;
	} else {
		good = strcmp(p.ymd, ymd) == 0 && (p.flags & NAME_AGE) == (flags & NAME_AGE) &&
		    strcmp(key + p.dir, local) == 0 && key[p.stem - 1] == '-' &&
		    p.suffix == p.stem + 8 &&
		    strcmp(key + p.suffix, flags & NAME_AGE ? ".gz.age" : ".gz") == 0 &&
		    (!(flags & NAME_GLOBALS) || (p.flags & NAME_GLOBALS));
		dir = strndup(key, p.dir);
		base = strndup(key + p.dir, p.stem - 1 - p.dir);
		if (name_object(dir, base, p.ymd, p.flags, &key2, &local2, &e) == 0) {
			good = good && strcmp(key, key2) == 0;
			free(key2);
			free(local2);
		} else {
			good = 0;
		}
		free(dir);
		free(base);
	}
	if (!good)
		diag("round trip of \"%s\" \"%s\" %s %d: %s", prefix ? prefix : "(null)",
		    db ? db : "(null)", ymd, flags, key);
	free(key);
	free(local);
	return good;
}

static void
test_parse(void)
{
	static const char *const prefixes[] = {
		NULL, "", "/", "a", "a/", "a/b", "a/b/", "//a//b//", "a\\b\\c", "./x/./y/.",
		"x/...", "x/.../", "x/.a", "x/a.", "d..", "my backups/é", "a-20250909.gz",
		"a-20250909.gz/", "globals", "x/globals", "pg-backup/", "日本/データ", "-", "x/-",
	};
	static const char *const dbs[] = {
		NULL, "", "appdb", ".", "..", "...", "-", "a-b", "x.gz", "x-20250909.gz",
		"x-20250909.gz.age", "globals", "pg-backup", "é", "a b", "20250909",
	};
	static const char *const dates[] = { "20250909", "00000000", "99999999", "20000101" };
	static const int flags[] = { 0, NAME_AGE, NAME_GLOBALS, NAME_GLOBALS | NAME_AGE };
	static const struct { const char *why, *key, *needle; } bad_keys[] = {
		{ "a doubled slash", "a//b-20250909.gz", "(it would be a/b-20250909.gz)" },
		{ "a leading slash", "/a-20250909.gz", "(it would be a-20250909.gz)" },
		{ "a . segment", "a/./b-20250909.gz.age", "(it would be a/b-20250909.gz.age)" },
		{ "a backslash", "a\\b-20250909.gz", "(it would be a/b-20250909.gz)" },
		{ "an empty base name", "-20250909.gz", "(it would be pg-backup-20250909.gz)" },
		{ "an empty base name in a directory", "a/-20250909.gz",
		    "(it would be a/pg-backup-20250909.gz)" },
		{ "a .. segment", "a/../b-20250909.gz", "\"..\" segment" },
		{ "a control character", "a/\tb-20250909.gz", "control character" },
		{ "not UTF-8", "a/\xff-20250909.gz", "not valid UTF-8" },
	};
	static const char *const undated[] = {
		"", "a", "a.gz", "a-2025090.gz", "a-202509091.gz.x", "a-2025090a.gz",
		"a20250909.gz", "a-20250909.gz.bak", "a-20250909.gz/", "a-20250909.gzip",
		"a-20250909.age", "a-20250909.gz.age.age", "a-20250909", "-20250909",
		"a-20250909.GZ", "a-２０２５0909.gz", "20250909.gz",
	};
	struct name_parts p;
	struct log_err e;
	char key[600];
	size_t i, j, k, f;
	int n = 0, bad = 0, r;

	for (i = 0; i < sizeof prefixes / sizeof prefixes[0]; i++)
		for (j = 0; j < sizeof dbs / sizeof dbs[0]; j++)
			for (k = 0; k < sizeof dates / sizeof dates[0]; k++)
				for (f = 0; f < sizeof flags / sizeof flags[0]; f++) {
					r = round_trip(prefixes[i], dbs[j], dates[k], flags[f]);
					n += r >= 0;
					bad += r == 0;
				}
	for (i = 0; i < sizeof good / sizeof good[0]; i++) {
		r = round_trip(good[i].prefix, good[i].db, "20250909", 0);
		n += r >= 0;
		bad += r == 0;
	}
	ok(n > 1000 && bad == 0, "build, parse, build: the same key for all %d names", n);

	/* At the limits: 243 + "-YYYYMMDD.gz" is 255, a key of 1024. */
	memset(key, 'b', 243);
	strcpy(key + 243, "-20250909.gz");
	ok(name_parse(key, &p, &e) == 0 && p.stem == 244 && p.dir == 0,
	    "a file name of 255 bytes parses");
	memset(key, 'b', 244);
	strcpy(key + 244, "-20250909.gz");
	ok(name_parse(key, &p, &e) == -1 && p.stem == 245 && strstr(e.msg, "too long"),
	    "one of 256 bytes: dated, but not a name pgbak makes");
	memset(key, 'b', 240);
	strcpy(key + 240, "-20250909.gz.age");
	ok(name_parse(key, &p, &e) == -1 && strstr(e.msg, "too long"),
	    "nor one of 256 bytes with .gz.age");

	ok(name_parse("d/globals-20250909.gz", &p, &e) == 0 && p.flags == NAME_GLOBALS,
	    "globals-YYYYMMDD.gz: NAME_GLOBALS");
	ok(name_parse("d/globals-20250909.gz.age", &p, &e) == 0 &&
	    p.flags == (NAME_GLOBALS | NAME_AGE), "globals-YYYYMMDD.gz.age: both flags");
	ok(name_parse("d/globalsx-20250909.gz", &p, &e) == 0 && p.flags == 0 &&
	    name_parse("d/xglobals-20250909.gz", &p, &e) == 0 && p.flags == 0,
	    "another base name: no NAME_GLOBALS");
	ok(name_parse("a/b/x-20250909.gz-20251231.gz.age", &p, &e) == 0 && p.dir == 4 &&
	    p.stem == 18 && strcmp(p.ymd, "20251231") == 0 && p.flags == NAME_AGE,
	    "the last date is the date: a/b/ x-20250909.gz 20251231 .gz.age");
	ok(name_parse("a/x-20250230.gz", &p, &e) == 0 && strcmp(p.ymd, "20250230") == 0,
	    "eight digits, as name_object takes them, not checked as a day");

	for (i = 0; i < sizeof bad_keys / sizeof bad_keys[0]; i++) {
		e.status = 0;
		ok(name_parse(bad_keys[i].key, &p, &e) == -1 && e.status == EXIT_USAGE &&
		    p.stem != 0, "%s: refused, though dated", bad_keys[i].why);
		ok(strstr(e.msg, "is not a key pgbak names backups with") &&
		    strstr(e.msg, bad_keys[i].needle) && !strchr(e.msg, '\n') &&
		    !strchr(e.msg, '\t'), "%s: one line, saying so", bad_keys[i].why);
		if (!strstr(e.msg, bad_keys[i].needle))
			diag("%s", e.msg);
	}
	for (i = 0; i < sizeof undated / sizeof undated[0]; i++) {
		e.status = 0;
		ok(name_parse(undated[i], &p, &e) == -1 && e.status == EXIT_USAGE &&
		    p.stem == 0 && strstr(e.msg, "does not end with -YYYYMMDD.gz, .zst or "
		    ".sql"), "\"%s\": not dated", undated[i]);
	}
}

/* compression: zstd and none: their suffixes, made and parsed by lib/name alone */
static void
test_compression(void)
{
	static const struct {
		int flags;
		const char *key;
	} want[] = {
		{ 0, "b/db-20250909.gz" },
		{ NAME_ZSTD, "b/db-20250909.zst" },
		{ NAME_RAW, "b/db-20250909.sql" },
		{ NAME_ZSTD | NAME_AGE, "b/db-20250909.zst.age" },
		{ NAME_RAW | NAME_AGE, "b/db-20250909.sql.age" },
		{ NAME_ZSTD | NAME_GLOBALS, "b/globals-20250909.zst" },
		{ NAME_RAW | NAME_GLOBALS | NAME_AGE, "b/globals-20250909.sql.age" },
		/* format: custom and directory (issue 18) */
		{ NAME_CUSTOM, "b/db-20250909.dump.gz" },
		{ NAME_CUSTOM | NAME_ZSTD, "b/db-20250909.dump.zst" },
		{ NAME_CUSTOM | NAME_RAW, "b/db-20250909.dump" },
		{ NAME_CUSTOM | NAME_ZSTD | NAME_AGE, "b/db-20250909.dump.zst.age" },
		{ NAME_DIR, "b/db-20250909.tar.gz" },
		{ NAME_DIR | NAME_ZSTD, "b/db-20250909.tar.zst" },
		{ NAME_DIR | NAME_RAW | NAME_AGE, "b/db-20250909.tar.age" },
	};
	static const char *const undated[] = { "b/db-20250909.zstd", "b/db-20250909.zst.gz",
	    "b/db-20250909.SQL", "b/db-20250909.sql.bak", "b/db-20250909.age.zst",
	    "b/db-20250909.dump.bz2", "b/db-20250909.tar.sql", "b/db-20250909.dump.tar",
	    "b/db-20250909.custom", "b/db-20250909.tgz", "b/db-20250909.age.dump" };
	struct name_parts p;
	struct log_err e;
	char *key, *local, *stem;
	size_t i;

	for (i = 0; i < sizeof want / sizeof want[0]; i++) {
		key = local = NULL;
		ok(name_object("b/", "db", "20250909", want[i].flags, &key, &local, &e) == 0 &&
		    strcmp(key, want[i].key) == 0 && strcmp(local, want[i].key + 2) == 0,
		    "flags %d name %s", want[i].flags, want[i].key);
		if (key && strcmp(key, want[i].key) != 0)
			diag("got %s", key);
		ok(name_parse(want[i].key, &p, &e) == 0 && p.flags == want[i].flags &&
		    p.stem == 2 + (want[i].flags & NAME_GLOBALS ? 8 : 3) &&
		    strcmp(p.ymd, "20250909") == 0, "%s parses back to flags %d", want[i].key,
		    want[i].flags);
		ok(name_stem("b/", "db", want[i].flags, &stem, &e) == 0 &&
		    strlen(stem) == p.stem && strncmp(stem, want[i].key, p.stem) == 0,
		    "%s: its stem", want[i].key);
		free(stem);
		free(key);
		free(local);
	}
	ok(strcmp(name_suffix(0), ".gz") == 0 && strcmp(name_suffix(NAME_ZSTD), ".zst") == 0 &&
	    strcmp(name_suffix(NAME_RAW | NAME_AGE), ".sql") == 0, "name_suffix");
	ok(strcmp(name_suffix(NAME_CUSTOM | NAME_ZSTD), ".dump.zst") == 0 &&
	    strcmp(name_suffix(NAME_DIR | NAME_RAW), ".tar") == 0 &&
	    strcmp(name_suffix(NAME_DIR), ".tar.gz") == 0, "name_suffix of the formats");
	for (i = 0; i < sizeof undated / sizeof undated[0]; i++)
		ok(name_parse(undated[i], &p, &e) == -1 && p.stem == 0, "%s: not a backup's key",
		    undated[i]);
}

int
main(void)
{
	test_compression();
	test_make();
	test_parse();
	test_limits();
	test_stem();
	test_date();
	test_today();
	return tap_done();
}
