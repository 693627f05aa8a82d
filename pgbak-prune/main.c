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
#include "s3open.h"

#define USAGE "usage: pgbak-prune [-nv] [-c FILE] [-b BUCKET] [-e URL] [-r REGION] " \
	"[--timeout SECONDS] [--keep-days N] [--keep-daily N] [--keep-weekly N] [--keep-monthly N] " \
	"[--today YYYYMMDD] PREFIX-OR-KEY... | -c FILE [DATABASE-OR-KEY...]"
#define BACKUPS_MAX 1000000	/* backups of one database we agree to judge */
#define PLACEHOLDER "20000101"	/* the date name_make gets to find a stem */

/* One series of backups to prune. */
struct target {
	char *stem;		/* the key before the date: "dir/base-" */
	char *key;		/* the key given, which must be listed; NULL: none */
	const char *what;	/* for messages: the argument or the database */
	struct keep_policy pol;
};

struct backup {
	char *key;
	char date[9];
	char last_modified[40];
};

struct series {
	const struct target *t;
	struct backup *v;
	size_t n, cap;
	int seen_key;		/* t->key was listed */
	int nomem;
};

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

/* "dir/base-" from a key name_make made (lib/name splits it). */
static char *
stem_cut(char *key)
{
	struct name_parts p;

	key[name_parse(key, &p, NULL) == 0 ? p.stem : 0] = '\0';
	return key;
}

/* Whether s is the key of a backup, as lib/name parses it, with a real date:
 * 1 yes (*stem the length of "dir/base-"), 0 no, -1 it ends like one but is
 * not spelled as pgbak-name spells it (e says how it would be). */
static int
backup_key(const char *s, size_t *stem, struct log_err *e)
{
	struct name_parts p;
	char ymd[9];
	int rc = name_parse(s, &p, e);

	if (p.stem == 0 || name_date(p.ymd, ymd, NULL) < 0)
		return 0;
	*stem = p.stem;
	return rc == 0 ? 1 : -1;
}

/* The stem of a command-line argument: the key of one backup (which must be
 * written as pgbak-name writes it), or a file-like prefix. */
static int
arg_stem(const char *arg, char **stem, char **key, struct log_err *e)
{
	char *k, *local;
	size_t n = strlen(arg), sl;
	int is = backup_key(arg, &sl, e);

	*stem = *key = NULL;
	if (is < 0)
		return -1;
	if (is) {
		if ((*key = strdup(arg)) == NULL || (*stem = strndup(arg, sl)) == NULL) {
			free(*key);
			*key = NULL;
			return log_fail_sys(e, EXIT_TEMP, "unable to read %s", arg);
		}
		return 0;
	}
	if (n == 0 || arg[n - 1] == '/' || arg[n - 1] == '\\')
		return log_fail(e, EXIT_USAGE, "%s names a directory: give the prefix with the "
		    "basename (%sDATABASE) or the key of one backup", n ? arg : "\"\"", arg);
	if (name_make(arg, NULL, PLACEHOLDER, &k, &local, e) < 0)
		return -1;
	free(local);
	*stem = stem_cut(k);
	return 0;
}

static struct target *targets;
static size_t ntargets;

/* Add a series once: two arguments or entries with one stem are one series. */
static void
add_target(char *stem, char *key, const char *what, const struct keep_policy *pol)
{
	struct target *t;
	size_t i;

	for (i = 0; i < ntargets; i++) {
		if (strcmp(targets[i].stem, stem) != 0)
			continue;
		if (targets[i].key == NULL) {
			targets[i].key = key;
			key = NULL;
		}
		free(stem);
		free(key);
		return;
	}
	if ((t = realloc(targets, (ntargets + 1) * sizeof *t)) == NULL)
		die(EXIT_TEMP, "out of memory");
	targets = t;
	targets[ntargets++] = (struct target){ stem, key, what, *pol };
}

static char *
entry_stem(const struct conf_db *db)
{
	struct log_err e;
	char *key, *local;

	if (name_make(db->backup_file_prefix, db->database, PLACEHOLDER, &key, &local, &e) < 0)
		die_err(&e);
	free(local);
	return stem_cut(key);
}

/* -c FILE: every database with a policy, or those the arguments name (by
 * database name, or by the key of one of its backups). */
static void
settings_targets(const struct conf *c, char **args, int nargs, const struct keep_policy *flags)
{
	const struct keep_policy *use;
	struct keep_policy pol;
	struct log_err e;
	char *stem, *key;
	size_t i, sl;
	int a, hit;

	if (nargs == 0) {
		for (i = 0; i < c->ndbs; i++) {
			keep_conf(c, &c->dbs[i], &pol);
			use = keep_any(flags) ? flags : &pol;
			if (!keep_any(use)) {
				info("%s: %s has no retention policy: not pruned", c->path,
				    c->dbs[i].database);
				continue;
			}
			add_target(entry_stem(&c->dbs[i]), NULL, c->dbs[i].database, use);
		}
		if (ntargets == 0)
			die(EXIT_USAGE, "%s: no retention policy: give keep_days, keep_daily, "
			    "keep_weekly or keep_monthly", c->path);
		return;
	}
	for (a = 0; a < nargs; a++) {
		stem = key = NULL;
		if (backup_key(args[a], &sl, &e) != 0 && arg_stem(args[a], &stem, &key, &e) < 0)
			die_err(&e);
		for (i = 0, hit = 0; i < c->ndbs; i++) {
			char *s = entry_stem(&c->dbs[i]);

			if (stem ? strcmp(s, stem) != 0 : strcmp(c->dbs[i].database, args[a]) != 0) {
				free(s);
				continue;
			}
			hit = 1;
			keep_conf(c, &c->dbs[i], &pol);
			use = keep_any(flags) ? flags : &pol;
			if (!keep_any(use)) {
				free(s), free(stem), free(key);
				die(EXIT_USAGE, "%s: %s has no retention policy: give keep_days, "
				    "keep_daily, keep_weekly or keep_monthly", c->path, args[a]);
			}
			add_target(s, key ? strdup(key) : NULL, args[a], use);
		}
		free(stem);
		free(key);
		if (!hit)
			die(EXIT_USAGE, "%s: no database is named %s or backed up as it", c->path,
			    args[a]);
	}
}

static int
by_date(const void *a, const void *b)
{
	const struct backup *x = a, *y = b;
	int d;

	if ((d = strcmp(x->date, y->date)) != 0)
		return d;
	if ((d = strcmp(x->last_modified, y->last_modified)) != 0)
		return d;
	return strcmp(x->key, y->key);
}

/* A listed object: one of the series' backups when the rest of its key after
 * the stem is exactly YYYYMMDD.gz or YYYYMMDD.gz.age, a real date. */
static int
on_object(void *ctx, const struct s3_object *o)
{
	struct series *sr = ctx;
	size_t sl = strlen(sr->t->stem);
	struct name_parts p;
	struct backup *v;
	char ymd[9];

	if (sl == 0 || strncmp(o->key, sr->t->stem, sl) != 0 || name_parse(o->key, &p, NULL) < 0 ||
	    p.stem != sl || name_date(p.ymd, ymd, NULL) < 0)
		return 0;
	if (sr->t->key && strcmp(o->key, sr->t->key) == 0)
		sr->seen_key = 1;
	if (sr->n == BACKUPS_MAX)
		return 1;
	if (sr->n == sr->cap) {
		size_t cap = sr->cap ? 2 * sr->cap : 64;

		if ((v = realloc(sr->v, cap * sizeof *v)) == NULL) {
			sr->nomem = 1;
			return 1;
		}
		sr->v = v;
		sr->cap = cap;
	}
	v = &sr->v[sr->n];
	if ((v->key = strdup(o->key)) == NULL) {
		sr->nomem = 1;
		return 1;
	}
	memcpy(v->date, ymd, 9);
	snprintf(v->last_modified, sizeof v->last_modified, "%s", o->last_modified);
	sr->n++;
	return 0;
}

static void
series_free(struct series *sr)
{
	size_t i;

	for (i = 0; i < sr->n; i++)
		free(sr->v[i].key);
	free(sr->v);
}

/* Judge and prune one series; print the plan when dry or verbose. */
static int
prune(struct s3 *s, const struct target *t, const char *today, int dry, struct log_err *e)
{
	struct series sr = { .t = t };
	const char **dates = NULL;
	char **gone = NULL, words[128];
	unsigned *why = NULL;
	size_t i, ngone = 0;
	int rc = -1;

	if (s3_list(s, t->stem, on_object, &sr, e) < 0)
		goto out;
	if (sr.nomem) {
		log_fail(e, EXIT_TEMP, "%s: out of memory", t->what);
		goto out;
	}
	if (sr.n == BACKUPS_MAX) {
		log_fail(e, EXIT_TEMP, "%s: %d backups or more under %s: too many to judge",
		    t->what, BACKUPS_MAX, t->stem);
		goto out;
	}
	if (t->key && !sr.seen_key) {
		log_fail(e, EXIT_NO, "%s is not in s3://%s/: nothing pruned", t->key,
		    s->cfg->bucket);
		goto out;
	}
	if (sr.n == 0) {
		info("%s: no backups under s3://%s/%s", t->what, s->cfg->bucket, t->stem);
		rc = 0;
		goto out;
	}
	qsort(sr.v, sr.n, sizeof *sr.v, by_date);
	dates = calloc(sr.n, sizeof *dates);
	why = calloc(sr.n, sizeof *why);
	gone = calloc(sr.n, sizeof *gone);
	if (dates == NULL || why == NULL || gone == NULL) {
		log_fail(e, EXIT_TEMP, "%s: out of memory", t->what);
		goto out;
	}
	for (i = 0; i < sr.n; i++)
		dates[i] = sr.v[i].date;
	if (keep_plan(dates, sr.n, today, &t->pol, why, e) < 0)
		goto out;
	for (i = 0; i < sr.n; i++) {
		if (!why[i])
			gone[ngone++] = sr.v[i].key;
		if (!dry && !log_verbose)
			continue;
		if (why[i])
			printf("keep %s (%s)\n", sr.v[i].key, keep_words(why[i], words,
			    sizeof words));
		else
			printf("delete %s\n", sr.v[i].key);
	}
	if (log_flush_stdout() < 0) {
		/* nothing is deleted unlisted; main names standard output, once */
		rc = 0;
		goto out;
	}
	rc = dry || ngone == 0 ? 0 : s3_delete_many(s, gone, ngone, e);
	if (rc == 0 && !dry)
		info("%s: kept %zu, deleted %zu", t->what, sr.n - ngone, ngone);
out:
	free(dates);
	free(why);
	free(gone);
	series_free(&sr);
	return rc;
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
	int c, dry = 0, rc = EXIT_OK;
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
	for (i = 0; i < ntargets; i++) {
		if (prune(&s, &targets[i], today, dry, &e) == 0)
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
