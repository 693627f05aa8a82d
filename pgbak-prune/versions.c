/*
 * versions: a series in a versioned bucket (every Object Lock bucket is
 * one).  There a DELETE of a key removes nothing: it adds a delete marker,
 * which hides the backup and keeps it billed.  So a pruned backup loses
 * every version it has, data and delete markers alike, each named by its
 * version id, and pgbak never leaves a delete marker on a backup's key.
 * S3 refuses to delete a version whose Object Lock retention has not ended
 * (AccessDenied): that version stays, one line says until when, and it is
 * not a failure; an AccessDenied without such a retention still is.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "prune.h"
#include "s3.h"

/* A listed entry: versions of one key come together, newest first. */
static int
on_version(void *ctx, const struct s3_version *o)
{
	struct series *sr = ctx;
	struct backup *b = sr->n ? &sr->v[sr->n - 1] : NULL;
	struct bver *v;
	int stop;

	if (b == NULL || strcmp(b->key, o->key) != 0) {
		if ((b = series_add(sr, o->key, o->last_modified, &stop)) == NULL)
			return stop;
		b->hidden = o->is_marker;
	} else if (sr->entries == BACKUPS_MAX) {
		return 1;
	} else {
		sr->entries++;
	}
	if (o->is_latest) {
		b->hidden = o->is_marker;
		snprintf(b->last_modified, sizeof b->last_modified, "%s", o->last_modified);
	}
	if ((v = realloc(b->v, (b->nv + 1) * sizeof *v)) == NULL) {
		sr->nomem = 1;
		return 1;
	}
	b->v = v;
	if ((v[b->nv].id = strdup(o->version_id)) == NULL) {
		sr->nomem = 1;
		return 1;
	}
	v[b->nv++].marker = o->is_marker;
	return 0;
}

int
versions_list(struct s3 *s, struct series *sr, struct log_err *e)
{
	return s3_list_versions(s, sr->t->stem, on_version, sr, e);
}

/* The rest of a "delete KEY" line: what a versioned delete removes. */
void
versions_print(const struct backup *b)
{
	size_t i;

	for (i = 0; i < b->nv; i++)
		printf("%s%s %s", i ? ", " : " (", b->v[i].marker ? "delete marker" : "version",
		    b->v[i].id);
	printf("%s\n", b->nv ? ")" : "");
}

struct locks {
	struct s3 *s;
	struct backup **by_key;	/* the backups gone, sorted by key */
	size_t n;
	time_t now;
};

static int
key_cmp(const void *a, const void *b)
{
	return strcmp((*(struct backup *const *)a)->key, (*(struct backup *const *)b)->key);
}

/* A version S3 refused to delete: accepted when its retention has not ended
 * (the backup is then kept, until the latest such date); anything else is
 * the refusal it was. */
static int
refused(void *ctx, const char *key, const char *version, const char *code,
    struct log_err *fe)
{
	struct locks *l = ctx;
	struct backup k = { .key = (char *)key }, *kp = &k, **b;
	char until[64], when[24];
	long long t;
	time_t tt;
	struct tm tm;

	(void)fe;
	if (strcmp(code, "AccessDenied") != 0 || *version == '\0')
		return -1;
	if ((b = bsearch(&kp, l->by_key, l->n, sizeof *l->by_key, key_cmp)) == NULL)
		return -1;
	if (s3_retention(l->s, key, version, until, sizeof until, NULL) != 1 ||
	    (t = s3_time(until)) < 0 || t <= (long long)l->now)
		return -1;
	tt = (time_t)t;
	if (gmtime_r(&tt, &tm) == NULL)
		return -1;
	strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm);
	if (strcmp(when, (*b)->locked) > 0)
		memcpy((*b)->locked, when, sizeof when);
	return 0;
}

int
versions_delete(struct s3 *s, struct backup **gone, size_t n, size_t *locked,
    struct log_err *e)
{
	struct locks l = { s, NULL, n, time(NULL) };
	char **keys = NULL, **ids = NULL;
	size_t i, j, m = 0, nids = 0;
	int rc = -1;

	*locked = 0;
	for (i = 0; i < n; i++)
		nids += gone[i]->nv;
	keys = calloc(nids ? nids : 1, sizeof *keys);
	ids = calloc(nids ? nids : 1, sizeof *ids);
	l.by_key = calloc(n, sizeof *l.by_key);
	if (keys == NULL || ids == NULL || l.by_key == NULL) {
		log_fail(e, EXIT_TEMP, "out of memory");
		goto out;
	}
	for (i = 0; i < n; i++) {
		l.by_key[i] = gone[i];
		for (j = 0; j < gone[i]->nv; j++, m++) {
			keys[m] = gone[i]->key;
			ids[m] = gone[i]->v[j].id;
		}
	}
	qsort(l.by_key, n, sizeof *l.by_key, key_cmp);
	if ((rc = s3_delete_versions(s, keys, ids, nids, refused, &l, e)) < 0)
		goto out;
	for (i = 0; i < n; i++)
		if (gone[i]->locked[0]) {
			warn("%s: locked until %s, kept", gone[i]->key, gone[i]->locked);
			(*locked)++;
		}
out:
	free(keys);
	free(ids);
	free(l.by_key);
	return rc;
}
