/* Unit tests of name_object: the globals object and the ".gz.age" keys. */
#include <stdlib.h>

#include "name.h"
#include "tap.h"

struct ok_case {
	const char *why, *prefix, *db;
	int flags;
	const char *key, *local;
};

static const struct ok_case good[] = {
	{ "no flags is name_make", "backups/prod/appdb/", "appdb", 0,
	    "backups/prod/appdb/appdb-20250909.gz", "appdb-20250909.gz" },
	{ "globals, directory-like: next to the dump", "backups/prod/appdb/", "appdb",
	    NAME_GLOBALS, "backups/prod/appdb/globals-20250909.gz", "globals-20250909.gz" },
	{ "globals, file-like: the basename is replaced", "backups/prod/appdb", "appdb",
	    NAME_GLOBALS, "backups/prod/globals-20250909.gz", "globals-20250909.gz" },
	{ "globals, seed's file-like spelling", "backup/postgre/prod/oneapi/oneapi", "oneapi",
	    NAME_GLOBALS, "backup/postgre/prod/oneapi/globals-20250909.gz",
	    "globals-20250909.gz" },
	{ "globals, seed's directory-like spelling: the same key",
	    "backup/postgre/prod/oneapi/", "oneapi", NAME_GLOBALS,
	    "backup/postgre/prod/oneapi/globals-20250909.gz", "globals-20250909.gz" },
	{ "globals, no prefix: the top", NULL, "appdb", NAME_GLOBALS,
	    "globals-20250909.gz", "globals-20250909.gz" },
	{ "globals, file-like without a directory", "dump", "appdb", NAME_GLOBALS,
	    "globals-20250909.gz", "globals-20250909.gz" },
	{ "globals, normalized like the dump", "//a\\\\b/./c", "db", NAME_GLOBALS,
	    "a/b/globals-20250909.gz", "globals-20250909.gz" },
	{ "age: .gz.age", "backups/prod/appdb/", "appdb", NAME_AGE,
	    "backups/prod/appdb/appdb-20250909.gz.age", "appdb-20250909.gz.age" },
	{ "age, file-like", "backups/x", "appdb", NAME_AGE,
	    "backups/x-20250909.gz.age", "x-20250909.gz.age" },
	{ "globals and age", "backups/prod/appdb/", "appdb", NAME_GLOBALS | NAME_AGE,
	    "backups/prod/appdb/globals-20250909.gz.age", "globals-20250909.gz.age" },
};

static void
test_good(void)
{
	struct log_err e;
	char *key, *local;
	size_t i;

	for (i = 0; i < sizeof good / sizeof good[0]; i++) {
		if (!ok(name_object(good[i].prefix, good[i].db, "20250909", good[i].flags, &key,
		    &local, &e) == 0, "%s: accepted", good[i].why)) {
			diag("%s", e.msg);
			continue;
		}
		is_str(key, good[i].key, "%s: key", good[i].why);
		is_str(local, good[i].local, "%s: local name", good[i].why);
		free(key);
		free(local);
	}
}

/* The errors of name_make stay errors with flags; the limits count the suffix. */
static void
test_bad(void)
{
	char prefix[1100], *key = (char *)"x", *local = (char *)"x";
	struct log_err e;

	e.status = 0;
	ok(name_object("a/../b", "db", "20250909", NAME_GLOBALS, &key, &local, &e) == -1 &&
	    e.status == EXIT_USAGE && key == NULL && local == NULL,
	    "globals: a .. segment is still refused");
	ok(name_object("a/", "x/y", "20250909", NAME_GLOBALS | NAME_AGE, &key, &local, &e) ==
	    -1 && e.status == EXIT_USAGE, "globals: a database with a slash is still refused");

	/* 811 + 1 + 200 + 12 = 1024 bytes: fits plain, not with ".age". */
	memset(prefix, 'a', 811);
	prefix[811] = '/';
	memset(prefix + 812, 'b', 200);
	prefix[1012] = '\0';
	ok(name_object(prefix, "db", "20250909", 0, &key, &local, &e) == 0 &&
	    strlen(key) == 1024, "a 1024-byte key is accepted");
	free(key);
	free(local);
	ok(name_object(prefix, "db", "20250909", NAME_AGE, &key, &local, &e) == -1 &&
	    e.status == EXIT_USAGE && strstr(e.msg, "too long") != NULL,
	    "the same with .age (1028 bytes) is refused");
	/* A local name of 255 bytes: 239 + ".gz.age" + "-YYYYMMDD" ... 239 + 16. */
	memset(prefix, 'b', 239);
	prefix[239] = '\0';
	ok(name_object(prefix, "db", "20250909", NAME_AGE, &key, &local, &e) == 0 &&
	    strlen(local) == 255, "a 255-byte local name with .age is accepted");
	free(key);
	free(local);
	prefix[239] = 'b', prefix[240] = '\0';
	ok(name_object(prefix, "db", "20250909", NAME_AGE, &key, &local, &e) == -1 &&
	    e.status == EXIT_USAGE, "a 256-byte local name with .age is refused");
	/* A long basename does not matter to globals: "globals" replaces it. */
	ok(name_object(prefix, "db", "20250909", NAME_GLOBALS, &key, &local, &e) == 0,
	    "globals ignores the length of the basename it replaces");
	free(key);
	free(local);
}

int
main(void)
{
	test_good();
	test_bad();
	return tap_done();
}
