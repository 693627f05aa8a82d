/*
 * metrics: metrics_file after each run (notify.c calls it), Prometheus
 * text for node_exporter's textfile collector.  A database's series keep
 * what the old file said where this run has nothing newer (a database
 * skipped keeps the sizes of the run that stored its backup; a failed one
 * its last success), so the old file is read first: only our own samples,
 * at most PREV_MAX lines and PREV_BYTES bytes of it.  The file is replaced
 * through lib/atomic, so the collector reads the old file or the new one.
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "atomic.h"
#include "conf.h"
#include "log.h"
#include "run.h"

#define PREV_MAX 100000		/* lines of the old metrics file remembered */
#define PREV_BYTES (16 << 20)	/* bytes of it read at most */

enum {
	M_LAST_RUN, M_LAST_SUCCESS, M_STATUS, M_DUMP, M_GZIP, M_DURATION,
	M_CHECK_TS, M_CHECK_STATUS, M_CHECK_ROWS, M_CHECK_DURATION,
	M_RUN_TS, M_RUN_FAILED, M_RUN_DURATION, M_COUNT
};

static const struct { const char *name, *help; } metric[M_COUNT] = {
	{ "pgbak_last_run_timestamp_seconds",
	    "Unix time of the end of the last run that included the database." },
	{ "pgbak_last_success_timestamp_seconds",
	    "Unix time of the end of the last run in which the database was backed up "
	    "or its backup of the day found stored." },
	{ "pgbak_last_status", "1 when the last run failed to back the database up, else 0." },
	{ "pgbak_dump_bytes", "Bytes pg_dump wrote in the database's last backup." },
	{ "pgbak_compressed_bytes", "Bytes stored by the database's last backup." },
	{ "pgbak_duration_seconds", "Seconds the database's last backup took." },
	{ "pgbak_restore_check_timestamp_seconds",
	    "Unix time of the end of the database's last restore check." },
	{ "pgbak_restore_check_status",
	    "1 when the database's last restore check passed, 0 when it failed." },
	{ "pgbak_restore_check_rows", "Rows the database's last passed restore check counted." },
	{ "pgbak_restore_check_duration_seconds",
	    "Seconds the database's last restore check took." },
	{ "pgbak_run_timestamp_seconds", "Unix time of the end of the last run." },
	{ "pgbak_run_failed_databases", "Databases that failed in the last run." },
	{ "pgbak_run_duration_seconds", "Seconds the last run took." },
};

/* A sample of the old file: metric, label text as written, value text. */
struct prev {
	int m;
	char *labels, *value;
};

struct prevs {
	struct prev *v;
	size_t n;
};

static void
prevs_free(struct prevs *p)
{
	size_t i;

	for (i = 0; i < p->n; i++)
		free(p->v[i].labels), free(p->v[i].value);
	free(p->v);
	memset(p, 0, sizeof *p);
}

/* label="value" with backslash, double quote and newline escaped. */
static void
label(FILE *f, const char *name, const char *v)
{
	fprintf(f, "%s=\"", name);
	for (; *v; v++) {
		if (*v == '\\')
			fputs("\\\\", f);
		else if (*v == '"')
			fputs("\\\"", f);
		else if (*v == '\n')
			fputs("\\n", f);
		else
			fputc(*v, f);
	}
	fputc('"', f);
}

/* The label text of a database's series, without the braces. */
static char *
labels_of(const struct conf_db *db)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	if (f == NULL)
		return NULL;
	label(f, "database", db->database);
	fputc(',', f);
	label(f, "backup_file_prefix", db->backup_file_prefix ? db->backup_file_prefix : "");
	if (fclose(f) != 0) {
		free(buf);
		return NULL;
	}
	return buf;
}

/* A finite number as Prometheus writes one, and nothing else. */
static int
is_number(const char *s)
{
	char *end;
	double d;

	if (*s == '\0')
		return 0;
	errno = 0;
	d = strtod(s, &end);
	return *end == '\0' && errno == 0 && isfinite(d);
}

/* Parse one line of ours: NAME{LABELS} VALUE, quotes and escapes honoured. */
static int
prev_line(char *line, struct prev *out)
{
	size_t i, n;
	char *l, *v;
	int m, q = 0;

	for (m = 0; m < M_RUN_TS; m++) {
		n = strlen(metric[m].name);
		if (strncmp(line, metric[m].name, n) == 0 && line[n] == '{')
			break;
	}
	if (m == M_RUN_TS)
		return -1;
	l = line + strlen(metric[m].name) + 1;
	for (i = 0; l[i] && (q || l[i] != '}'); i++) {
		if (q && l[i] == '\\' && l[i + 1])
			i++;
		else if (l[i] == '"')
			q = !q;
	}
	if (l[i] != '}' || l[i + 1] != ' ')
		return -1;
	l[i] = '\0';
	v = l + i + 2;
	v[strcspn(v, " \n")] = '\0';	/* a timestamp after the value is dropped */
	if (!is_number(v))
		return -1;
	out->m = m;
	out->labels = strdup(l);
	out->value = strdup(v);
	return out->labels && out->value ? 0 : (free(out->labels), free(out->value), -1);
}

/* Our own samples of the old metrics file; anything else in it is ignored. */
static void
prevs_read(const char *path, struct prevs *p)
{
	char *line = NULL;
	size_t cap = 0, alloc = 0, total = 0;
	struct prev pv, *nv;
	ssize_t k;
	FILE *f;

	memset(p, 0, sizeof *p);
	if ((f = fopen(path, "re")) == NULL) {
		if (errno != ENOENT)
			warn_sys("unable to read the last values from %s", path);
		return;
	}
	while (p->n < PREV_MAX && total < PREV_BYTES && (k = getline(&line, &cap, f)) > 0) {
		total += (size_t)k;
		if (prev_line(line, &pv) < 0)
			continue;
		if (p->n == alloc) {
			alloc = alloc ? 2 * alloc : 16;
			if ((nv = realloc(p->v, alloc * sizeof *nv)) == NULL) {
				free(pv.labels), free(pv.value);
				break;
			}
			p->v = nv;
		}
		p->v[p->n++] = pv;
	}
	free(line);
	fclose(f);
}

static const char *
prev_value(const struct prevs *p, int m, const char *labels)
{
	size_t i;

	for (i = 0; labels && i < p->n; i++)
		if (p->v[i].m == m && strcmp(p->v[i].labels, labels) == 0)
			return p->v[i].value;
	return NULL;
}

/* A restore check's metric: this run's check, else what the old file said
 * (the rows of a check that passed; a failed one counted nothing). */
static const char *
check_value(int m, const struct run_result *r, const char *old, char *buf, size_t n)
{
	if (r->checked == 0 || (m == M_CHECK_ROWS && r->checked < 0))
		return old;
	if (m == M_CHECK_TS)
		snprintf(buf, n, "%lld", (long long)r->check_end);
	else if (m == M_CHECK_STATUS)
		return r->checked > 0 ? "1" : "0";
	else if (m == M_CHECK_ROWS)
		snprintf(buf, n, "%llu", (unsigned long long)r->check_rows);
	else
		snprintf(buf, n, "%.3f", r->check_seconds);
	return buf;
}

/* The value of metric m for database i, or NULL for no sample. */
static const char *
db_value(int m, const struct run_result *r, const char *labels, const struct prevs *p,
    const struct summary *s, char *buf, size_t n)
{
	const char *old = prev_value(p, m, labels);
	int skipped = r->state == RUN_SKIPPED, good = r->state == RUN_OK || skipped;

	if (m >= M_CHECK_TS && m <= M_CHECK_DURATION)
		return check_value(m, r, old, buf, n);
	switch (m) {
	case M_LAST_RUN:
		snprintf(buf, n, "%lld", (long long)s->end);
		return buf;
	case M_LAST_SUCCESS:
		if (!good)
			return old;
		snprintf(buf, n, "%lld", (long long)s->end);
		return buf;
	case M_STATUS:
		return good ? "0" : "1";
	}
	if (skipped && old)	/* the numbers of the run that stored it */
		return old;
	if (m == M_DUMP)
		snprintf(buf, n, "%llu", (unsigned long long)r->dump_bytes);
	else if (m == M_GZIP)
		snprintf(buf, n, "%llu", (unsigned long long)r->gzip_bytes);
	else
		snprintf(buf, n, "%.3f", r->seconds);
	return buf;
}

/* The whole file's text; the first of databases with the same labels wins.
 * The restore check's series only with restore_check.every (checks). */
static void
metrics_render(FILE *f, const struct run_result *res, const struct summary *s,
    char **labels, const struct prevs *p, int checks)
{
	char buf[64];
	const char *v;
	size_t i, j;
	int m;

	for (m = 0; m < M_COUNT; m++) {
		if (!checks && m >= M_CHECK_TS && m <= M_CHECK_DURATION)
			continue;
		fprintf(f, "# HELP %s %s\n# TYPE %s gauge\n", metric[m].name, metric[m].help,
		    metric[m].name);
		if (m == M_RUN_TS)
			fprintf(f, "%s %lld\n", metric[m].name, (long long)s->end);
		else if (m == M_RUN_FAILED)
			fprintf(f, "%s %zu\n", metric[m].name, s->failed);
		else if (m == M_RUN_DURATION)
			fprintf(f, "%s %.3f\n", metric[m].name, s->seconds);
		if (m >= M_RUN_TS)
			continue;
		for (i = 0; i < s->n; i++) {
			for (j = 0; j < i && labels[i]; j++)
				if (labels[j] && strcmp(labels[i], labels[j]) == 0)
					break;
			if (labels[i] == NULL || j < i)
				continue;
			v = db_value(m, &res[i], labels[i], p, s, buf, sizeof buf);
			if (v)
				fprintf(f, "%s{%s} %s\n", metric[m].name, labels[i], v);
		}
	}
}

/* What metrics_fill renders. */
struct text {
	const struct run_result *res;
	const struct summary *s;
	char **labels;
	const struct prevs *p;
	int checks;
};

/* atomic_write's fill: the whole text into the temporary file. */
static int
metrics_fill(int fd, void *arg, struct log_err *e)
{
	const struct text *t = arg;
	int wfd = dup(fd);
	FILE *f = wfd < 0 ? NULL : fdopen(wfd, "w");

	if (f == NULL) {
		if (wfd >= 0)
			close(wfd);
		return log_fail_sys(e, EXIT_TEMP, "unable to write the metrics");
	}
	metrics_render(f, t->res, t->s, t->labels, t->p, t->checks);
	if (fflush(f) != 0 || ferror(f)) {
		log_fail_sys(e, EXIT_TEMP, "unable to write the metrics");
		fclose(f);
		return -1;
	}
	if (fclose(f) != 0)
		return log_fail_sys(e, EXIT_TEMP, "unable to write the metrics");
	return 0;
}

/* Replace metrics_file: a temporary .NAME.XXXXXX beside it, mode 0644. */
int
metrics_write(const struct run_ctx *x, const struct run_result *res,
    const struct summary *s, struct log_err *e)
{
	const char *path = x->c->metrics_file;
	char *d = strdup(path), *b = strdup(path), *dir, *base, *tmpl = NULL, **labels;
	struct prevs p;
	struct text t;
	size_t i, n;
	int dfd, rc = -1;

	labels = calloc(s->n + 1, sizeof *labels);
	if (d == NULL || b == NULL || labels == NULL) {
		log_fail(e, EXIT_TEMP, "unable to write %s: out of memory", path);
		goto out;
	}
	dir = dirname(d);
	base = basename(b);
	n = strlen(base) + sizeof "..XXXXXX";
	if ((tmpl = malloc(n)) == NULL) {
		log_fail(e, EXIT_TEMP, "unable to write %s: out of memory", path);
		goto out;
	}
	snprintf(tmpl, n, ".%s.XXXXXX", base);
	if ((dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
		log_fail_sys(e, EXIT_TEMP, "unable to create a temporary file in %s", dir);
		goto out;
	}
	prevs_read(path, &p);
	for (i = 0; i < s->n; i++)
		labels[i] = labels_of(res[i].db);
	t = (struct text){ res, s, labels, &p, x->c->restore_check.every > 0 };
	rc = atomic_write(dfd, dir, base, tmpl, 0644, metrics_fill, &t, e);
	prevs_free(&p);
	close(dfd);
out:
	for (i = 0; labels && i < s->n; i++)
		free(labels[i]);
	free(labels);
	free(tmpl);
	free(d);
	free(b);
	return rc;
}

/* restore_check.every's memory: the last check's time and status, as this
 * program wrote them to metrics_file. */
int
metrics_last_check(const struct run_ctx *x, const struct conf_db *db, time_t *when)
{
	const char *ts, *ok;
	char *labels;
	struct prevs p;
	int rc = 0;

	if (x->c->metrics_file == NULL || (labels = labels_of(db)) == NULL)
		return 0;
	prevs_read(x->c->metrics_file, &p);
	ts = prev_value(&p, M_CHECK_TS, labels);
	ok = prev_value(&p, M_CHECK_STATUS, labels);
	if (ts && ok && strcmp(ok, "1") == 0) {
		*when = (time_t)strtod(ts, NULL);
		rc = 1;
	}
	prevs_free(&p);
	free(labels);
	return rc;
}

/* --dry-run: metrics_file's line of "after the run:". */
void
metrics_dry_run(const struct run_ctx *x, FILE *f)
{
	if (x->c->metrics_file)
		fprintf(f, "  metrics_file: %s (through a temporary name, then renamed)\n",
		    x->c->metrics_file);
}
