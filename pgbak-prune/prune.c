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

/* A listed key: one of the series' backups when the rest of it after the
 * stem is exactly YYYYMMDD and a suffix of lib/name (.gz, .dump.zst,
 * .tar.gz.age, ...: every format and compression of the database is one
 * series), a real date. */
struct backup *
series_add(struct series *sr, const char *key, const char *last_modified, int *stop)
{
	size_t sl = strlen(sr->t->stem);
	struct name_parts p;
	struct backup *v;
	char ymd[9];

	*stop = 0;
	if (sl == 0 || strncmp(key, sr->t->stem, sl) != 0 || name_parse(key, &p, NULL) < 0 ||
	    p.stem != sl || name_date(p.ymd, ymd, NULL) < 0)
		return NULL;
	if (sr->entries == BACKUPS_MAX) {
		*stop = 1;
		return NULL;
	}
	if (sr->n == sr->cap) {
		size_t cap = sr->cap ? 2 * sr->cap : 64;

		if ((v = realloc(sr->v, cap * sizeof *v)) == NULL) {
			sr->nomem = *stop = 1;
			return NULL;
		}
		sr->v = v;
		sr->cap = cap;
	}
	v = &sr->v[sr->n];
	memset(v, 0, sizeof *v);
	if ((v->key = strdup(key)) == NULL) {
		sr->nomem = *stop = 1;
		return NULL;
	}
	memcpy(v->date, ymd, 9);
	snprintf(v->last_modified, sizeof v->last_modified, "%s", last_modified);
	sr->n++;
	sr->entries++;
	return v;
}

static int
on_object(void *ctx, const struct s3_object *o)
{
	int stop;

	series_add(ctx, o->key, o->last_modified, &stop);
	return stop;
}

static void
series_free(struct series *sr)
{
	size_t i, j;

	for (i = 0; i < sr->n; i++) {
		for (j = 0; j < sr->v[i].nv; j++)
			free(sr->v[i].v[j].id);
		free(sr->v[i].v);
		free(sr->v[i].key);
	}
	free(sr->v);
}

/* Judge the series: the backups one can restore (not hidden) by the policy;
 * a hidden one (behind a delete marker) by the dates of all, so that it
 * stays as long as its date would, and never takes a slot from a backup
 * one can restore. */
static int
judge(struct series *sr, const char *today, struct log_err *e)
{
	const char **dates = calloc(sr->n, sizeof *dates);
	unsigned *why = calloc(sr->n, sizeof *why);
	size_t *at = calloc(sr->n, sizeof *at);
	size_t i, nv = 0;
	int rc = -1;

	if (dates == NULL || why == NULL || at == NULL) {
		log_fail(e, EXIT_TEMP, "%s: out of memory", sr->t->what);
		goto out;
	}
	for (i = 0; i < sr->n; i++)
		if (!sr->v[i].hidden) {
			at[nv] = i;
			dates[nv++] = sr->v[i].date;
		}
	if (keep_plan(dates, nv, today, &sr->t->pol, why, e) < 0)
		goto out;
	for (i = 0; i < nv; i++)
		sr->v[at[i]].why = why[i];
	if (nv < sr->n) {
		for (i = 0; i < sr->n; i++)
			dates[i] = sr->v[i].date;
		if (keep_plan(dates, sr->n, today, &sr->t->pol, why, e) < 0)
			goto out;
		for (i = 0; i < sr->n; i++)
			if (sr->v[i].hidden)
				sr->v[i].why = why[i];
	}
	rc = 0;
out:
	free(dates);
	free(why);
	free(at);
	return rc;
}

/* Judge and prune one series; print the plan when dry or verbose. */
int
prune(struct s3 *s, const struct target *t, const char *today, int dry, int versioned,
    struct log_err *e)
{
	struct series sr = { .t = t };
	struct backup **gone = NULL;
	char **keys = NULL, words[128];
	size_t i, ngone = 0, locked = 0;
	int rc = -1, seen_key = 0;

	if ((versioned ? versions_list(s, &sr, e) : s3_list(s, t->stem, on_object, &sr, e)) < 0)
		goto out;
	if (sr.nomem) {
		log_fail(e, EXIT_TEMP, "%s: out of memory", t->what);
		goto out;
	}
	if (sr.entries == BACKUPS_MAX) {
		log_fail(e, EXIT_TEMP, "%s: %d backups or more under %s: too many to judge",
		    t->what, BACKUPS_MAX, t->stem);
		goto out;
	}
	for (i = 0; i < sr.n && t->key && !seen_key; i++)
		seen_key = !sr.v[i].hidden && strcmp(sr.v[i].key, t->key) == 0;
	if (t->key && !seen_key) {
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
	gone = calloc(sr.n, sizeof *gone);
	keys = calloc(sr.n, sizeof *keys);
	if (gone == NULL || keys == NULL) {
		log_fail(e, EXIT_TEMP, "%s: out of memory", t->what);
		goto out;
	}
	if (judge(&sr, today, e) < 0)
		goto out;
	for (i = 0; i < sr.n; i++) {
		const struct backup *b = &sr.v[i];

		if (!b->why) {
			keys[ngone] = b->key;
			gone[ngone++] = &sr.v[i];
		}
		if (!dry && !log_verbose)
			continue;
		if (b->why)
			printf("keep %s (%s%s)\n", b->key, keep_words(b->why, words,
			    sizeof words), b->hidden ? ", behind a delete marker" : "");
		else
			printf("delete %s", b->key);
		if (!b->why)
			versions_print(b);
	}
	if (log_flush_stdout() < 0) {
		/* nothing is deleted unlisted; main names standard output, once */
		rc = 0;
		goto out;
	}
	if (dry || ngone == 0)
		rc = 0;
	else if (versioned)
		rc = versions_delete(s, gone, ngone, &locked, e);
	else
		rc = s3_delete_many(s, keys, ngone, e);
	if (rc == 0 && !dry && locked)
		info("%s: kept %zu, deleted %zu, locked %zu", t->what, sr.n - ngone,
		    ngone - locked, locked);
	else if (rc == 0 && !dry)
		info("%s: kept %zu, deleted %zu", t->what, sr.n - ngone, ngone);
out:
	free(gone);
	free(keys);
	series_free(&sr);
	return rc;
}
