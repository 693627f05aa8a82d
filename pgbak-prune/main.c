/*
 * pgbak-prune: delete the backups a retention policy does not keep.
 *
 * A database's backups are the keys <dir>/<basename>-YYYYMMDD.gz (and
 * .gz.age, encrypted), as pgbak-name makes them.  pgbak-prune lists the
 * bucket under "<dir>/<basename>-" and considers a key only when the rest
 * is exactly a real calendar date and one of those suffixes: whatever else
 * lives under the prefix (a copy "x-20250101.gz.bak", another database
 * "x-2-20250101.gz", a folder "x-20250101.gz/") is never touched.  The
 * policy (lib/keep) keeps the union of its rules and always the newest.
 *
 * The targets come from the command line (a prefix or the key of one
 * backup, with --keep-* flags) or from the settings file (-c: every
 * database with a retention mapping, or those named).  Given the key of a
 * backup, that object must be listed, or nothing is deleted: pgbak-run
 * passes the key it has just stored, so a prune never runs without the
 * day's backup.  A failing target does not stop the others.
 *
 * In a versioned bucket (Object Lock makes one) a backup is deleted by
 * deleting each of its versions (versions.c).  Whether the bucket is one is
 * asked once (GetBucketVersioning), rather than always listing versions:
 * a bucket that never had versioning is pruned exactly as before, with the
 * ListObjectsV2 and plain DeleteObjects every S3 implementation has, and
 * never through the "null" version ids providers treat differently; and a
 * bucket whose answer cannot be read is not pruned, since a wrong guess
 * would leave delete markers on every backup it "deletes".
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "keep.h"
#include "log.h"
#include "name.h"
#include "prune.h"
#include "s3.h"
#include "s3open.h"

#define USAGE "usage: pgbak-prune [-nv] [-c FILE] [-b BUCKET] [-e URL] [-r REGION] " \
	"[--timeout SECONDS] [--keep-days N] [--keep-daily N] [--keep-weekly N] [--keep-monthly N] " \
	"[--today YYYYMMDD] PREFIX-OR-KEY... | -c FILE [DATABASE-OR-KEY...]"

enum { KEEP_DAYS_OPT = 256, KEEP_DAILY_OPT, KEEP_WEEKLY_OPT, KEEP_MONTHLY_OPT, TODAY_OPT };

static noreturn void
usage(void)
{
	printf("%s\n"
	    "Delete the backups of a database that its retention policy does not keep.\n"
	    "  -c, --config FILE         settings: the s3 section, and each database's retention\n"
	    "  -b, --bucket NAME         the bucket (also PGBAK_BUCKET)\n"
	    "  -e, --endpoint URL        the S3 endpoint, e.g. https://minio.example:9000\n"
	    "  -r, --region NAME         the signing region (default us-east-1)\n"
	    "      --settings-fd N       the s3 section on descriptor N, values as written\n"
	    "      --keep-days N         keep every backup of the last N days (today is day 1)\n"
	    "      --keep-daily N        keep the newest of each of the last N days with one\n"
	    "      --keep-weekly N       keep the newest of each of the last N ISO weeks with one\n"
	    "      --keep-monthly N      keep the newest of each of the last N months with one\n"
	    "      --today YYYYMMDD      judge as on that day (default: today, local time)\n"
	    S3_TIMEOUT_HELP
	    "  -n, --dry-run             print the plan, delete nothing\n"
	    "  -v, --verbose             print the plan, then delete\n"
	    "      --help                print this help\n"
	    "      --version             print the version\n", USAGE);
	log_help_done();
}

static int
rule_arg(const char *opt, const char *s)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < 1 || v > KEEP_MAX)
		die(EXIT_USAGE, "--%s wants a number from 1 to %d, not \"%.32s\"", opt, KEEP_MAX,
		    s);
	return (int)v;
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		S3_FLAGS_LONG,
		S3_TIMEOUT_LONG,
		{ "keep-days", required_argument, NULL, KEEP_DAYS_OPT },
		{ "keep-daily", required_argument, NULL, KEEP_DAILY_OPT },
		{ "keep-weekly", required_argument, NULL, KEEP_WEEKLY_OPT },
		{ "keep-monthly", required_argument, NULL, KEEP_MONTHLY_OPT },
		{ "today", required_argument, NULL, TODAY_OPT },
		{ "dry-run", no_argument, NULL, 'n' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 }
	};
	struct s3_flags flags = { 0 };
	struct keep_policy pol = { 0, 0, 0, 0 };
	struct s3_cfg cfg;
	struct log_err e;
	struct conf conf;
	struct s3 s;
	char today[9] = "";
	int c, dry = 0, rc = EXIT_OK, versioned;
	size_t i;

	log_init(argv[0]);
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":" S3_FLAGS_SHORT "nvh", longopts, NULL)) != -1) {
		switch (c) {
		case KEEP_DAYS_OPT: pol.days = rule_arg("keep-days", optarg); break;
		case KEEP_DAILY_OPT: pol.daily = rule_arg("keep-daily", optarg); break;
		case KEEP_WEEKLY_OPT: pol.weekly = rule_arg("keep-weekly", optarg); break;
		case KEEP_MONTHLY_OPT: pol.monthly = rule_arg("keep-monthly", optarg); break;
		case TODAY_OPT:
			if (name_date(optarg, today, &e) < 0)
				die(EXIT_USAGE, "--today: %s", e.msg);
			break;
		case 'n': dry = 1; break;
		case 'v': log_verbose++; break;
		case 'h': usage();
		case 'V': log_version();
		default: s3_flag(&flags, c, argv, USAGE);
		}
	}
	argc -= optind;
	argv += optind;
	if (*today == '\0')
		name_today(today);

	if (flags.file) {
		/* the databases' names, prefixes and policies, never their passwords */
		if (conf_load_for(&conf, flags.file, CONF_S3_ONLY, &e) < 0)
			die_err(&e);
		if (!conf.s3.enable)
			die(EXIT_USAGE, "%s: s3 enable is false: pgbak-prune prunes backups in S3 "
			    "only", flags.file);
		settings_targets(&conf, argv, argc, &pol);
	} else {
		if (argc == 0)
			die(EXIT_USAGE, "missing PREFIX-OR-KEY; %s", USAGE);
		if (!keep_any(&pol))
			die(EXIT_USAGE, "no retention policy: give --keep-days, --keep-daily, "
			    "--keep-weekly or --keep-monthly");
		for (c = 0; c < argc; c++) {
			char *stem, *key;

			if (arg_stem(argv[c], &stem, &key, &e) < 0)
				die_err(&e);
			add_target(stem, key, argv[c], &pol);
		}
	}

	if (s3_open(&s, &cfg, &flags, NULL, S3_CATCH_NONE, &e) < 0)
		die_err(&e);
	if ((versioned = s3_versioned(&s, &e)) < 0) {
		warn("%s", e.msg);
		rc = e.status;
	}
	for (i = 0; i < ntargets && versioned >= 0; i++) {
		if (prune(&s, &targets[i], today, dry, versioned, &e) == 0)
			continue;
		warn("%s", e.msg);
		if (e.status != EXIT_NO || rc == EXIT_OK)
			rc = e.status;
	}
	s3_close(&s, &cfg);
	for (i = 0; i < ntargets; i++) {
		free(targets[i].stem);
		free(targets[i].key);
	}
	free(targets);
	if (flags.file)
		conf_free(&conf);
	return log_stdout_done(rc);
}
