/*
 * pgbak-ls: which backups there are, newest first, before a restore.
 *
 * A database's backups are the keys pgbak-run stores them under,
 * <dir>/<basename>-YYYYMMDD.gz[.age], and its cluster's globals next to
 * them, <dir>/globals-YYYYMMDD.gz[.age]; with -c FILE, DATABASE names an
 * entry of the settings and its prefix gives the two series, as pgbak-run
 * and pgbak-prune take them (lib/name).  Otherwise the argument is a
 * prefix, and every key under it that lib/name parses as a backup is one.
 * Anything else in the bucket is not listed.
 *
 * The listing streams page by page (lib/s3), but newest first needs all
 * of it before the first line: only what is printed is kept (collect.c).
 * "No backups" is the answer no (exit 1), not a failure (111).
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "log.h"
#include "ls.h"
#include "name.h"
#include "s3open.h"

#define USAGE "usage: pgbak-ls [-lv] [--json] [-c FILE] [-b BUCKET] [-e URL] [-r REGION] " \
	"[--timeout SECONDS] [DATABASE | PREFIX]"

#define LS_SERIES_MAX 100000	/* backups of one database: two a day for 100 years */

enum { JSON_OPT = 256 };

static noreturn void
usage(void)
{
	printf("%s\n"
	    "List the backups of DATABASE (an entry of the settings given with -c), or every\n"
	    "backup under PREFIX, newest first; exit 1 when there is none.\n"
	    S3_FLAGS_HELP
	    S3_TIMEOUT_HELP
	    "  -l, --long                also the storage class and the lock-until date\n"
	    "                            (one HEAD request per backup)\n"
	    "      --json                one JSON object per line\n"
	    "  -v, --verbose             say what is listed\n"
	    "      --help                print this help\n"
	    "      --version             print the version\n", USAGE);
	log_help_done();
}

/* -c FILE DATABASE: the stems of the entries that back DATABASE up (its dump
 * and its cluster's globals); 0 when none does. */
static size_t
database_stems(const char *file, const char *db, struct ls_set *set)
{
	struct log_err e;
	struct conf conf;
	size_t i, hit = 0;
	char *stem;
	int k;

	/* the databases' names and prefixes, never their passwords */
	if (conf_load_for(&conf, file, CONF_S3_ONLY, &e) < 0)
		die_err(&e);
	for (i = 0; i < conf.ndbs; i++) {
		if (strcmp(conf.dbs[i].database, db) != 0)
			continue;
		hit++;
		for (k = 0; k < 2; k++) {
			if (name_stem(conf.dbs[i].backup_file_prefix, db, k ? NAME_GLOBALS : 0,
			    &stem, &e) < 0)
				die_err(&e);
			if (ls_add_stem(set, stem) < 0)
				die(EXIT_TEMP, "out of memory");
		}
	}
	conf_free(&conf);
	return hit;
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		S3_FLAGS_LONG,
		S3_TIMEOUT_LONG,
		{ "long", no_argument, NULL, 'l' },
		{ "json", no_argument, NULL, JSON_OPT },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 }
	};
	struct s3_flags flags = { 0 };
	struct ls_set set = { 0 };
	enum ls_format fmt = LS_TEXT;
	const char *arg = NULL, *keyarg = NULL;
	char *bucket = NULL;
	struct s3_cfg cfg;
	struct log_err e;
	struct s3 s;
	int c, lock = 0, rc;

	log_init(argv[0]);
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":" S3_FLAGS_SHORT "lvh", longopts, NULL)) != -1) {
		switch (c) {
		case 'l': lock = 1; break;
		case JSON_OPT: fmt = LS_JSON; break;
		case 'v': log_verbose++; break;
		case 'h': usage();
		case 'V': log_version();
		default: s3_flag(&flags, c, argv, USAGE);
		}
	}
	if (argc - optind > 1)
		die(EXIT_USAGE, "too many arguments; %s", USAGE);
	if (argc - optind == 1)
		arg = argv[optind];
	if (arg && flags.file && database_stems(flags.file, arg, &set) > 0) {
		set.max = LS_SERIES_MAX;
	} else if (arg && flags.file && strchr(arg, '/') == NULL) {
		die(EXIT_USAGE, "%s: no database is named %s (a PREFIX has a slash)", flags.file,
		    arg);
	} else if (arg && strncmp(arg, "s3://", 5) == 0 &&
	    strcspn(arg + 5, "/") + 6 >= strlen(arg)) {
		/* s3://BUCKET/ or s3://BUCKET: the whole bucket */
		if ((bucket = strndup(arg + 5, strcspn(arg + 5, "/"))) == NULL)
			die(EXIT_TEMP, "out of memory");
		flags.bucket = bucket;
	} else {
		keyarg = arg;	/* a prefix, or s3://BUCKET/PREFIX */
	}
	if (s3_open(&s, &cfg, &flags, keyarg, S3_CATCH_NONE, &e) < 0)
		die_err(&e);

	if (set.stems)
		info("listing the backups of %s in s3://%s/", arg, cfg.bucket);
	rc = ls_collect(&s, &set, cfg.key ? cfg.key : "", &e);
	if (rc == 0) {
		ls_sort(&set);
		rc = ls_show(&s, &set, fmt, lock, &e);
	}
	if (rc == 0 && set.n == 0 && set.stems)
		warn("no backups of %s in s3://%s/", arg, cfg.bucket);
	else if (rc == 0 && set.n == 0)
		warn("no backups under s3://%s/%s", cfg.bucket, cfg.key ? cfg.key : "");
	s3_close(&s, &cfg);
	if (rc < 0)
		s3_die(&e);
	rc = set.n ? EXIT_OK : EXIT_NO;
	ls_free(&set);
	free(bucket);
	return log_stdout_done(rc);
}
