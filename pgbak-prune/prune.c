/*
 * prune: one series: list its backups, judge them by the policy (lib/keep),
 * delete what it does not keep.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "keep.h"
#include "log.h"
#include "name.h"
#include "prune.h"
#include "s3.h"

#define BACKUPS_MAX 1000000	/* backups of one database we agree to judge */

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
int
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
