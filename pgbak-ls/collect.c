/*
 * collect: the backups of a listing, kept compactly until they are sorted.
 *
 * "Newest first" cannot be streamed from a listing in key order, so the
 * entries are kept, but only what is printed: one allocation of about 80
 * bytes plus the key per backup.  A database has at most two objects a day
 * per series (.gz and .gz.age), so its memory is bounded by its history,
 * LS_SERIES_MAX at the most; a prefix keeps what it prints.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ls.h"
#include "name.h"

/* Whether key is a backup pgbak names, with a real date, of the series
 * listed (its stem exactly: "a/b-" lists "a/b-c-20250909.gz" too, which is
 * another's): its parts in *p. */
static int
is_backup(const struct ls_set *s, const char *key, struct name_parts *p)
{
	char ymd[9];

	if (name_parse(key, p, NULL) < 0 || name_date(p->ymd, ymd, NULL) < 0)
		return 0;
	return s->cur == NULL || (strlen(s->cur) == p->stem &&
	    strncmp(key, s->cur, p->stem) == 0);
}

static int
on_object(void *ctx, const struct s3_object *o)
{
	struct ls_set *s = ctx;
	struct ls_entry *en, **v;
	struct name_parts p;
	size_t kl;

	if (!is_backup(s, o->key, &p))
		return 0;
	if (s->max && s->n == s->max)
		return 1;
	if (s->n == s->cap) {
		size_t cap = s->cap ? 2 * s->cap : 64;

		if ((v = realloc(s->v, cap * sizeof *v)) == NULL) {
			s->nomem = 1;
			return 1;
		}
		s->v = v;
		s->cap = cap;
	}
	kl = strlen(o->key);
	if ((en = malloc(sizeof *en + kl + 1)) == NULL) {
		s->nomem = 1;
		return 1;
	}
	en->size = o->size;
	memcpy(en->date, p.ymd, sizeof en->date);
	snprintf(en->modified, sizeof en->modified, "%s", o->last_modified);
	snprintf(en->storage_class, sizeof en->storage_class, "%s",
	    o->storage_class ? o->storage_class : "");
	en->flags = (unsigned char)p.flags;
	memcpy(en->key, o->key, kl + 1);
	s->v[s->n++] = en;
	return 0;
}

int
ls_add_stem(struct ls_set *s, char *stem)
{
	char **v;
	size_t i;

	for (i = 0; i < s->nstems; i++)
		if (strcmp(s->stems[i], stem) == 0) {
			free(stem);
			return 0;
		}
	if ((v = realloc(s->stems, (s->nstems + 1) * sizeof *v)) == NULL) {
		free(stem);
		return -1;
	}
	s->stems = v;
	s->stems[s->nstems++] = stem;
	return 0;
}

static int
list_one(struct s3 *c, struct ls_set *s, const char *prefix, struct log_err *e)
{
	if (s3_list(c, prefix, on_object, s, e) < 0)
		return -1;
	if (s->nomem)
		return log_fail(e, EXIT_TEMP, "unable to keep the listing of s3://%s/%s: "
		    "out of memory", c->cfg->bucket, prefix);
	if (s->max && s->n == s->max)
		return log_fail(e, EXIT_TEMP, "more than %zu backups under s3://%s/%s: too "
		    "many for one database", s->max, c->cfg->bucket, prefix);
	return 0;
}

int
ls_collect(struct s3 *c, struct ls_set *s, const char *prefix, struct log_err *e)
{
	size_t i;

	if (s->stems == NULL)
		return list_one(c, s, prefix, e);
	for (i = 0; i < s->nstems; i++) {
		s->cur = s->stems[i];
		if (list_one(c, s, s->cur, e) < 0)
			return -1;
	}
	return 0;
}

static int
newest_first(const void *a, const void *b)
{
	const struct ls_entry *x = *(struct ls_entry *const *)a, *y = *(struct ls_entry *const *)b;
	int d;

	if ((d = strcmp(y->date, x->date)) != 0)
		return d;
	if ((d = strcmp(y->modified, x->modified)) != 0)
		return d;
	return strcmp(x->key, y->key);
}

void
ls_sort(struct ls_set *s)
{
	if (s->n > 1)
		qsort(s->v, s->n, sizeof *s->v, newest_first);
}

void
ls_free(struct ls_set *s)
{
	size_t i;

	for (i = 0; i < s->n; i++)
		free(s->v[i]);
	free(s->v);
	for (i = 0; i < s->nstems; i++)
		free(s->stems[i]);
	free(s->stems);
	memset(s, 0, sizeof *s);
}
