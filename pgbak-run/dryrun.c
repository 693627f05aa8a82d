/*
 * dryrun: --dry-run's lines for one database, what job_run would execute,
 * from the same argv.c builders, nothing run.
 */
#include <stdio.h>
#include <stdlib.h>

#include "keep.h"
#include "name.h"
#include "run.h"

/* --dry-run: the clean-up of stale uploads that follows a stored backup. */
static void
dry_stale(const struct run_ctx *x, const struct conf_db *db, const char *key, FILE *f)
{
	struct argv argv ARGV_AUTO = { 0 };

	if (argv_stale(&argv, x, key, timeout_of(x->c, db)) < 0)
		return;
	fputs("  ", f);
	job_show(f, 0, argv.v);
	fputs(" (after a success)\n", f);
}

/* --dry-run: the prune that follows a stored backup, when a policy applies. */
static void
dry_prune(const struct run_ctx *x, const struct conf_db *db, const char *key, FILE *f)
{
	struct argv argv ARGV_AUTO = { 0 };
	struct keep_policy pol;
	char ymd[9];

	if (x->t->prune == NULL || !x->c->s3.enable || !keep_conf(x->c, db, &pol))
		return;
	name_today(ymd);
	if (argv_prune(&argv, x, &pol, ymd, key) < 0)
		return;
	fputs("  ", f);
	job_show(f, 0, argv.v);
	fputs(" (once the backup is stored or found)\n", f);
}

/* --dry-run: a command line argv.c built, released once shown; nothing
 * when it could not be built. */
static void
dry_show(FILE *f, const char *before, struct argv *a, int ok, const char *after)
{
	if (ok < 0)
		return;
	fputs(before, f);
	job_show(f, 0, a->v);
	fputs(after, f);
	argv_free(a);
}

/* --dry-run: what job_run would execute, nothing run. */
void
job_dry_run(const struct run_ctx *x, const struct conf_db *db, int globals,
    const char *key, const char *local, FILE *f)
{
	const struct conf *c = x->c;
	const char *tdir = c->temp_dir ? c->temp_dir : getenv("TMPDIR");
	struct argv a = { 0 };
	struct dump d;
	char *dest;

	if (dump_prepare(x, db, globals, &d) < 0) {
		dump_release(&d);
		return;
	}
	fprintf(f, "%s:\n", key);
	if (d.dir_format && dir_dry_run(x, &d, local, f) < 0) {
		dump_release(&d);
		return;
	}
	if (!x->o->force && c->s3.enable)
		dry_show(f, "  ", &a, argv_exists(&a, x, key), "\n");
	fputs("  ", f);
	job_show(f, d.has_pw, d.argv.v);
	if (d.gz_argv.v) {
		fputs(" | ", f);
		job_show(f, 0, d.gz_argv.v);
	}
	if (d.age_argv.v) {
		fputs(" | ", f);
		job_show(f, 0, d.age_argv.v);
	}
	if (!c->s3.enable) {
		dest = local_path(x, key);
		fprintf(f, " > %s (through a temporary name, then renamed)\n", dest ? dest : key);
		free(dest);
	} else if (c->use_temp_file) {
		fprintf(f, " > %s/%.*s.XXXXXX\n", tdir && *tdir ? tdir : "/tmp", TEMP_STEM_MAX,
		    local);
		dry_show(f, "  ", &a, argv_put(&a, x, key, "SIZE"),
		    " < the temporary file, then removed\n");
		dry_stale(x, db, key, f);
	} else {
		dry_show(f, " | ", &a, argv_put(&a, x, key, NULL), "\n");
		dry_stale(x, db, key, f);
	}
	if (x->o->verify || c->verify) {
		dest = c->s3.enable ? NULL : local_path(x, key);
		if (c->s3.enable || dest)
			dry_show(f, "  ", &a, argv_verify(&a, x, key, dest), "\n");
		free(dest);
	}
	if (!globals)
		rcheck_dry_run(x, db, f);
	dry_prune(x, db, key, f);
	dump_release(&d);
}
