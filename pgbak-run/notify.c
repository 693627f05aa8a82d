/*
 * notify: what pgbak-run tells the world after each run, in this order:
 *   metrics_file  Prometheus text, replaced atomically (node_exporter's
 *                 textfile collector reads it);
 *   on_success / on_failure  one command, argv from the settings, no shell,
 *                 PGBAK_* variables describing the run, no secret;
 *   ping_url      a healthchecks-style GET, with /fail after a failure.
 * None of them changes the exit status: the backups are what pgbak-run
 * reports on, and a mail relay or a monitoring service being down must not
 * make a good backup look failed (and be run again with --force).  Each
 * failure is one warning line, which never shows the ping_url.
 */
#define _GNU_SOURCE 1		/* mkostemp */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "conf.h"
#include "log.h"
#include "ping.h"
#include "run.h"
#include "spawn.h"

#define HOOK_TIMEOUT 60		/* seconds; PGBAK_HOOK_TIMEOUT overrides */
#define PING_TIMEOUT 10		/* seconds per try */
#define PREV_MAX 100000		/* lines of the old metrics file remembered */
#define PREV_BYTES (16 << 20)	/* bytes of it read at most */

/* One run, as the hooks and the metrics see it. */
struct summary {
	size_t n, ok, skipped, failed;
	uint64_t bytes;		/* compressed bytes stored by the databases ok */
	double seconds;
	time_t end;
};

static void
summarize(const struct run_result *res, size_t n, const struct timespec *t0,
    struct summary *s)
{
	struct timespec t1;
	size_t i;

	memset(s, 0, sizeof *s);
	s->n = n;
	for (i = 0; i < n; i++) {
		if (res[i].state == RUN_OK) {
			s->ok++;
			s->bytes += res[i].gzip_bytes;
		} else if (res[i].state == RUN_SKIPPED) {
			s->skipped++;
		} else {
			s->failed++;	/* not run counts as failed */
		}
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	s->seconds = (double)(t1.tv_sec - t0->tv_sec) + (t1.tv_nsec - t0->tv_nsec) / 1e9;
	s->end = time(NULL);
}

int
notify_check(const struct conf *c, struct log_err *e)
{
	struct log_err pe;

	if (c->ping_url && ping_check(c->ping_url, &pe) < 0)
		return conf_fail_at(c, c->ping_url_at, e, "tasks.postgres.ping_url: %s", pe.msg);
	return 0;
}

/* ---- on_success / on_failure ---- */

static int
name_is(const char *entry, const char *name)
{
	size_t n = strlen(name);

	return strncmp(entry, name, n) == 0 && entry[n] == '=';
}

static int
is_secret(const struct conf *c, const char *val)
{
	size_t i;

	if (*val == '\0')
		return 0;
	for (i = 0; i < c->ndbs; i++)
		if (c->dbs[i].password && strcmp(c->dbs[i].password, val) == 0)
			return 1;
	return (c->s3.access_secret && strcmp(c->s3.access_secret, val) == 0) ||
	    (c->ping_url && strcmp(c->ping_url, val) == 0);
}

static const char *const hook_vars[] = {
	"PGBAK_STATUS", "PGBAK_EXIT", "PGBAK_DATABASES", "PGBAK_OK", "PGBAK_SKIPPED",
	"PGBAK_FAILED", "PGBAK_FAILED_DATABASES", "PGBAK_FAILED_KEYS", "PGBAK_BYTES",
	"PGBAK_DURATION", "PGBAK_SETTINGS",
};
#define NVARS (sizeof hook_vars / sizeof hook_vars[0])

/* Names separated by spaces: the failed databases' names, or keys. */
static char *
failed_list(const struct run_result *res, size_t n, int keys)
{
	char *buf = NULL;
	size_t len = 0, i, k = 0;
	FILE *f = open_memstream(&buf, &len);

	if (f == NULL)
		return NULL;
	for (i = 0; i < n; i++) {
		if (res[i].state == RUN_OK || res[i].state == RUN_SKIPPED)
			continue;
		if (k++)
			fputc(' ', f);
		fputs(keys ? (res[i].key ? res[i].key : "") : res[i].db->database, f);
	}
	if (fclose(f) != 0) {
		free(buf);
		return NULL;
	}
	return buf;
}

/*
 * The hook's environment: pgbak-gzip's (no PGPASSWORD, no S3 secret), again
 * without any variable whose value is a password, the S3 secret or the
 * ping_url (what a ${NAME} in the settings named), and without inherited
 * PGBAK_* variables of the names set here; then those.  vals[] holds the
 * strings to free.
 */
static char **
hook_env(const struct run_ctx *x, const struct run_result *res, const struct summary *s,
    char *vals[NVARS])
{
	const struct conf *c = x->c;
	char *list[2], num[NVARS][32], **v, *eq, *abs_settings;
	const char *val[NVARS];
	size_t n = 0, k = 0, i, j;
	int drop;

	for (i = 0; x->env_bare[i]; i++)
		n++;
	if ((v = calloc(n + NVARS + 1, sizeof *v)) == NULL)
		return NULL;
	for (i = 0; x->env_bare[i]; i++) {
		eq = strchr(x->env_bare[i], '=');
		drop = eq == NULL || is_secret(c, eq + 1) ||
		    name_is(x->env_bare[i], "PGPASSWORD") ||
		    name_is(x->env_bare[i], "AWS_SECRET_ACCESS_KEY") ||
		    name_is(x->env_bare[i], "AWS_SESSION_TOKEN");
		for (j = 0; j < NVARS && !drop; j++)
			drop = name_is(x->env_bare[i], hook_vars[j]);
		if (!drop)
			v[k++] = x->env_bare[i];
	}
	list[0] = failed_list(res, s->n, 0);
	list[1] = failed_list(res, s->n, 1);
	snprintf(num[0], sizeof num[0], "%d", s->failed ? EXIT_TEMP : EXIT_OK);
	snprintf(num[1], sizeof num[1], "%zu", s->n);
	snprintf(num[2], sizeof num[2], "%zu", s->ok);
	snprintf(num[3], sizeof num[3], "%zu", s->skipped);
	snprintf(num[4], sizeof num[4], "%zu", s->failed);
	snprintf(num[5], sizeof num[5], "%llu", (unsigned long long)s->bytes);
	snprintf(num[6], sizeof num[6], "%.0f", s->seconds);
	val[0] = s->failed ? "failed" : "ok";
	val[1] = num[0], val[2] = num[1], val[3] = num[2], val[4] = num[3], val[5] = num[4];
	val[6] = list[0] ? list[0] : "", val[7] = list[1] ? list[1] : "";
	val[8] = num[5], val[9] = num[6];
	val[10] = (abs_settings = realpath(x->o->settings, NULL)) ? abs_settings : x->o->settings;
	for (j = 0; j < NVARS; j++) {
		n = strlen(hook_vars[j]) + strlen(val[j]) + 2;
		if ((vals[j] = malloc(n)) != NULL) {
			snprintf(vals[j], n, "%s=%s", hook_vars[j], val[j]);
			v[k++] = vals[j];
		}
	}
	free(list[0]);
	free(list[1]);
	free(abs_settings);
	return v;
}

static long
hook_timeout(void)
{
	const char *s = getenv("PGBAK_HOOK_TIMEOUT");
	long t;

	if (s == NULL || *s == '\0')
		return HOOK_TIMEOUT;
	if (conf_duration(s, &t) < 0) {
		warn("PGBAK_HOOK_TIMEOUT=%s is not a duration: using %ds", s, HOOK_TIMEOUT);
		return HOOK_TIMEOUT;
	}
	return t;
}

static void
show_argv(FILE *f, char *const *argv)
{
	size_t i;

	for (i = 0; argv[i]; i++) {
		if (i)
			fputc(' ', f);
		report_quote(f, argv[i]);
	}
}

/* Run the hook to its end (or its timeout), its output on our stderr so
 * that it never mixes with the summary or --json on stdout. */
static void
hook(const struct run_ctx *x, const char *which, char **argv, const struct run_result *res,
    const struct summary *s)
{
	char *vals[NVARS] = { NULL }, name[512], why[700], limit[32];
	struct spawn_stage st;
	struct spawn_pipe p;
	struct log_err e;
	long timeout = hook_timeout();
	char **env = hook_env(x, res, s, vals);
	char *shown = NULL;
	size_t len = 0, i;
	FILE *f;

	snprintf(name, sizeof name, "%s %s", which, argv[0]);
	if (env == NULL) {
		warn("%s: not run: out of memory", name);
		return;
	}
	if (log_verbose && (f = open_memstream(&shown, &len)) != NULL) {
		show_argv(f, argv);
		fclose(f);
		info("running %s: %s", which, shown);
		free(shown);
	}
	memset(&st, 0, sizeof st);
	st.name = name;
	st.argv = argv;
	st.envp = env;
	memset(&p, 0, sizeof p);
	p.st = &st;
	p.n = 1;
	p.in_fd = -1;
	p.out_fd = STDERR_FILENO;
	p.cancel_fd = x->cancel_fd;
	p.timeout_ms = timeout * 1000;
	if (spawn_run(&p, &e) < 0) {
		if (p.timed_out) {
			report_duration(timeout, limit, sizeof limit);
			warn("%s timed out after %s and was stopped", name, limit);
		} else if (p.cancelled) {
			warn("%s stopped by a signal", name);
		} else if (p.failed >= 0) {
			spawn_describe(&st, why, sizeof why);
			warn("%s", why);
		} else {
			warn("%s: %s", name, e.msg);
		}
	}
	for (i = 0; i < NVARS; i++)
		free(vals[i]);
	free(env);
}

/* ---- ping_url ---- */

static void
ping(const struct run_ctx *x, int failed)
{
	char *url = failed ? ping_fail_url(x->c->ping_url) : x->c->ping_url;
	struct log_err e;

	info("pinging the ping_url%s", failed ? " with /fail" : "");
	if (url == NULL)
		warn("unable to ping the ping_url: out of memory");
	else if (ping_get(url, PING_TIMEOUT, x->cancel_fd, &e) < 0)
		warn("unable to ping the ping_url at %s", e.msg);
	if (failed && url) {
		OPENSSL_cleanse(url, strlen(url));
		free(url);
	}
}

/* ---- metrics_file ---- */

enum {
	M_LAST_RUN, M_LAST_SUCCESS, M_STATUS, M_DUMP, M_GZIP, M_DURATION,
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

/* The value of metric m for database i, or NULL for no sample. */
static const char *
db_value(int m, const struct run_result *r, const char *labels, const struct prevs *p,
    const struct summary *s, char *buf, size_t n)
{
	const char *old = prev_value(p, m, labels);
	int skipped = r->state == RUN_SKIPPED, good = r->state == RUN_OK || skipped;

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

/* The whole file's text; the first of databases with the same labels wins. */
static void
metrics_render(FILE *f, const struct run_result *res, const struct summary *s,
    char **labels, const struct prevs *p)
{
	char buf[64];
	const char *v;
	size_t i, j;
	int m;

	for (m = 0; m < M_COUNT; m++) {
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

/* Write path through a temporary file in its directory: fsync, rename. */
static int
metrics_write(const struct run_ctx *x, const struct run_result *res,
    const struct summary *s, struct log_err *e)
{
	const char *path = x->c->metrics_file;
	char *d = strdup(path), *b = strdup(path), *dir, *tmp = NULL, **labels;
	struct prevs p;
	size_t i, n;
	int fd = -1, dfd, rc = -1;
	FILE *f = NULL;

	labels = calloc(s->n + 1, sizeof *labels);
	if (d == NULL || b == NULL || labels == NULL) {
		log_fail(e, EXIT_TEMP, "unable to write %s: out of memory", path);
		goto out;
	}
	dir = dirname(d);
	n = strlen(dir) + strlen(b) + sizeof "/..XXXXXX";
	if ((tmp = malloc(n)) == NULL) {
		log_fail(e, EXIT_TEMP, "unable to write %s: out of memory", path);
		goto out;
	}
	snprintf(tmp, n, "%s/.%s.XXXXXX", dir, basename(b));
	if ((fd = mkostemp(tmp, O_CLOEXEC)) < 0) {
		log_fail_sys(e, EXIT_TEMP, "unable to create a temporary file in %s", dir);
		goto out;
	}
	if ((f = fdopen(fd, "w")) == NULL) {
		log_fail_sys(e, EXIT_TEMP, "unable to write %s", tmp);
		close(fd);
		goto drop;
	}
	prevs_read(path, &p);
	for (i = 0; i < s->n; i++)
		labels[i] = labels_of(res[i].db);
	metrics_render(f, res, s, labels, &p);
	prevs_free(&p);
	if (fflush(f) != 0 || ferror(f) || fchmod(fd, 0644) < 0 || fsync(fd) < 0) {
		log_fail_sys(e, EXIT_TEMP, "unable to write %s", tmp);
		fclose(f);
		goto drop;
	}
	if (fclose(f) != 0) {
		log_fail_sys(e, EXIT_TEMP, "unable to write %s", tmp);
		goto drop;
	}
	if (rename(tmp, path) < 0) {
		log_fail_sys(e, EXIT_TEMP, "unable to rename %s to %s", tmp, path);
		goto drop;
	}
	if ((dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) >= 0) {
		if (fsync(dfd) < 0)
			warn_sys("unable to sync the directory %s", dir);
		close(dfd);
	}
	rc = 0;
	goto out;
drop:
	if (unlink(tmp) < 0)
		warn_sys("unable to remove %s", tmp);
out:
	for (i = 0; labels && i < s->n; i++)
		free(labels[i]);
	free(labels);
	free(tmp);
	free(d);
	free(b);
	return rc;
}

void
notify_run(const struct run_ctx *x, const struct run_result *res, size_t n,
    const struct timespec *t0)
{
	const struct conf *c = x->c;
	struct summary s;
	struct log_err e;
	char **argv;

	summarize(res, n, t0, &s);
	if (c->metrics_file) {
		if (metrics_write(x, res, &s, &e) < 0)
			warn("%s", e.msg);
		else
			info("%s: metrics written", c->metrics_file);
	}
	argv = s.failed ? c->on_failure : c->on_success;
	if (argv && argv[0])
		hook(x, s.failed ? "on_failure" : "on_success", argv, res, &s);
	if (c->ping_url)
		ping(x, s.failed > 0);
}

/* --dry-run: what would follow the run, the ping_url as ***. */
void
notify_dry_run(const struct run_ctx *x, FILE *f)
{
	const struct conf *c = x->c;
	int hooks = (c->on_success && c->on_success[0]) || (c->on_failure && c->on_failure[0]);

	if (!hooks && !c->ping_url && !c->metrics_file)
		return;
	fputs("after the run:\n", f);
	if (c->metrics_file)
		fprintf(f, "  metrics_file: %s (through a temporary name, then renamed)\n",
		    c->metrics_file);
	if (c->on_success && c->on_success[0]) {
		fputs("  on_success: ", f);
		show_argv(f, c->on_success);
		fputc('\n', f);
	}
	if (c->on_failure && c->on_failure[0]) {
		fputs("  on_failure: ", f);
		show_argv(f, c->on_failure);
		fputc('\n', f);
	}
	if (c->ping_url)
		fputs("  ping_url: GET *** (***/fail after a failure)\n", f);
}
