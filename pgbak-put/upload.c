/* upload: pgbak-put's own part of an upload: the -v lines, stale uploads. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "name.h"
#include "upload.h"

static int progress_shown;

/* Wipe the live progress line before another line goes to stderr. */
static void
clear_progress(void)
{
	if (progress_shown) {
		fputs("\r\033[K", stderr);
		progress_shown = 0;
	}
}

static void
show_progress(void *ctx, const struct s3put_progress *p)
{
	double mib_s = p->ms > 0 ? (double)p->bytes_sent / (1 << 20) / ((double)p->ms / 1000) : 0;

	(void)ctx;
	fprintf(stderr, "\r\033[K%s: %llu MiB read, %llu MiB stored, %d parts, %.1f MiB/s",
	    log_prog, (unsigned long long)(p->bytes_read >> 20),
	    (unsigned long long)(p->bytes_sent >> 20), p->parts, mib_s);
	fflush(stderr);
	progress_shown = 1;
}

static void
note(void *ctx, const char *line)
{
	(void)ctx;
	clear_progress();
	if (line)
		info("%s", line);
}

void
put_report(struct s3put_opts *o, int progress)
{
	o->tick = progress ? show_progress : NULL;
	o->note = note;
	o->ctx = NULL;
}

struct stale {
	const char *key;
	size_t stem;		/* any date: the length of "NAME-" in key; 0: exactly key */
	long long before;
	char **ids, **keys;
	int n, cap, failed;
};

size_t
put_dated(const char *key)
{
	struct name_parts p;

	return name_parse(key, &p, NULL) == 0 ? p.stem : 0;
}

/* key is st->key, or with any date the same name and end on another day */
static int
stale_key(const struct stale *st, const char *key)
{
	struct name_parts p, q;

	if (st->stem == 0)
		return strcmp(key, st->key) == 0;
	return name_parse(key, &p, NULL) == 0 && name_parse(st->key, &q, NULL) == 0 &&
	    p.stem == q.stem && p.flags == q.flags && strncmp(key, st->key, p.stem) == 0;
}

static int
stale_one(void *ctx, const char *key, const char *upload_id, const char *initiated)
{
	struct stale *st = ctx;
	long long t = s3_time(initiated);
	char **ids, **keys;

	if (!stale_key(st, key) || t < 0 || t > st->before)
		return 0;
	if (st->n == st->cap) {
		st->cap = st->cap ? 2 * st->cap : 16;
		ids = realloc(st->ids, (size_t)st->cap * sizeof *ids);
		if (ids)
			st->ids = ids;
		keys = realloc(st->keys, (size_t)st->cap * sizeof *keys);
		if (keys)
			st->keys = keys;
		if (ids == NULL || keys == NULL) {
			st->failed = 1;
			return 1;
		}
	}
	st->ids[st->n] = strdup(upload_id);
	st->keys[st->n] = strdup(key);
	if (st->ids[st->n] == NULL || st->keys[st->n] == NULL) {
		free(st->ids[st->n]);
		free(st->keys[st->n]);
		st->failed = 1;
		return 1;
	}
	st->n++;
	return 0;
}

int
put_abort_stale(struct s3 *s, const char *key, long age, int any_date, int *count,
    struct log_err *e)
{
	struct stale st = { key, any_date ? put_dated(key) : 0, (long long)time(NULL) - age,
		NULL, NULL, 0, 0, 0 };
	char *prefix = strndup(key, st.stem ? st.stem : strlen(key));
	int i, rc;

	*count = 0;
	if (prefix == NULL)
		return log_fail_sys(e, EXIT_TEMP, "unable to list the uploads of %s",
		    s3_cfg_url(s->cfg));
	rc = s3_mpu_list(s, prefix, stale_one, &st, e);
	free(prefix);
	if (rc == 0 && st.failed)
		rc = log_fail_sys(e, EXIT_TEMP, "unable to list the uploads of %s",
		    s3_cfg_url(s->cfg));
	for (i = 0; i < st.n; i++) {
		if (rc == 0 && (rc = s3_mpu_abort(s, st.keys[i], st.ids[i], e)) == 0) {
			info("aborted upload %s of s3://%s/%s", st.ids[i], s->cfg->bucket,
			    st.keys[i]);
			(*count)++;
		}
		free(st.ids[i]);
		free(st.keys[i]);
	}
	free(st.ids);
	free(st.keys);
	return rc;
}
