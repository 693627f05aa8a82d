/*
 * target: the series to prune, from the command line (a prefix or the key
 * of one backup) or from the settings file (every database with a policy,
 * or those named); one series per stem.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "keep.h"
#include "log.h"
#include "name.h"
#include "prune.h"

#define PLACEHOLDER "20000101"	/* the date name_make gets to find a stem */

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
int
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

struct target *targets;
size_t ntargets;

/* Add a series once: two arguments or entries with one stem are one series. */
void
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
void
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
