/*
 * pipe: one object into one database, the reverse of pgbak-run's pipeline:
 *   pgbak-get KEY | [age -d -i IDENTITY] | gzip -d -c | relay | psql
 * (zstd -d -c -q for a .zst backup, no stage for a .sql one)
 * through lib/spawn, each stage's argv from argv.c, its environment from
 * pgbak-run's policy (env.c): pgbak-get no database secret, age, gzip and
 * the relay no secret at all, psql the target's PGPASSWORD.  It succeeds
 * only when every stage exited 0; otherwise lib/culprit names the stage
 * that failed for its own reason (never one that only saw EPIPE or
 * SIGPIPE because a later stage went away).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "name.h"
#include "restore.h"
#include "spawn.h"

double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* 2.1 GB, 512 kB, 17 B: decimal units, as the summary line shows sizes. */
void
human_bytes(uint64_t n, char *buf, size_t len)
{
	const char *unit[] = { "kB", "MB", "GB", "TB" };
	double v = (double)n;
	int u = -1;

	while (v >= 1000 && u < 3) {
		v /= 1000;
		u++;
	}
	if (u < 0)
		snprintf(buf, len, "%llu B", (unsigned long long)n);
	else
		snprintf(buf, len, "%.1f %s", v, unit[u]);
}

/* 12,345,678 */
void
human_count(uint64_t n, char *buf, size_t len)
{
	char d[32];
	size_t k, i, o = 0;

	k = (size_t)snprintf(d, sizeof d, "%llu", (unsigned long long)n);
	for (i = 0; i < k && o + 2 < len; i++) {
		if (i && (k - i) % 3 == 0)
			buf[o++] = ',';
		buf[o++] = d[i];
	}
	buf[o] = '\0';
}

/* 3m12s, 0.4s */
void
human_time(double s, char *buf, size_t len)
{
	long t = (long)(s + 0.5);

	if (s < 10)
		snprintf(buf, len, "%.1fs", s);
	else if (t < 60)
		snprintf(buf, len, "%lds", t);
	else if (t < 3600)
		snprintf(buf, len, "%ldm%02lds", t / 60, t % 60);
	else
		snprintf(buf, len, "%ldh%02ldm%02lds", t / 3600, t / 60 % 60, t % 60);
}

/* Whether line is a program's error line: psql's "ERROR:", "FATAL:",
 * "psql: error:", age's "age: error:", gzip's "gzip: stdin: ...". */
static int
error_line(const char *line)
{
	return strstr(line, "ERROR:") || strstr(line, "FATAL:") || strstr(line, "error:") ||
	    strncmp(line, "gzip: ", 6) == 0;
}

/* "psql exited 3: ERROR:  role "x" does not exist": how the stage ended
 * and its last error line (else its last line): the line that explains,
 * not psql's CONTEXT or age's "report unexpected errors" that follow it. */
void
stage_why(const struct spawn_stage *s, char *buf, size_t n)
{
	char text[SPAWN_RING + 1], how[200], *line, *save, *pick = NULL, *last = NULL;

	spawn_describe(s, how, sizeof how);
	spawn_tail(&s->ring, text, sizeof text);
	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		last = line;
		if (error_line(line))
			pick = line;
	}
	if (pick == NULL)
		pick = last;
	if (pick)
		snprintf(buf, n, "%s: %s", how, pick);
	else
		snprintf(buf, n, "%s", how);
}

void
stages_free(struct stages *s)
{
	size_t i;

	for (i = 0; i < STAGES_MAX; i++)
		argv_free(&s->a[i]);
}

void
stage(struct stages *s, const char *name, char **env)
{
	struct spawn_stage *st = &s->st[s->n];

	memset(st, 0, sizeof *st);
	st->name = name;
	st->argv = s->a[s->n].v;
	st->envp = env;
	st->capture = 1;
	s->label[s->n] = name;
	s->n++;
}

/* pgbak-get KEY | [age -d] | [gzip -d or zstd -d]: the object's bytes as
 * pg_dump wrote them, the start of every restore's pipeline. */
int
stages_fetch(struct stages *s, const struct ctx *x, const char *key)
{
	struct name_parts np;
	struct log_err e;
	int ok = name_parse(key, &np, &e) == 0, age = ok && (np.flags & NAME_AGE);
	int zst = ok && (np.flags & NAME_ZSTD), raw = ok && (np.flags & NAME_RAW);

	memset(s, 0, sizeof *s);
	if (argv_get(&s->a[s->n], x, key) < 0)
		return -1;
	stage(s, "pgbak-get", x->env_s3);
	s->st[s->n - 1].pass_as = SETTINGS_FD;
	s->st[s->n - 1].pass_fd = x->settings_fd;
	if (age) {
		if (argv_age(&s->a[s->n], x) < 0)
			return -1;
		stage(s, "age", x->env_bare);
	}
	if (zst) {	/* compression: zstd */
		if (argv_unzstd(&s->a[s->n], x) < 0)
			return -1;
		stage(s, "zstd -d", x->env_bare);
	} else if (!raw) {	/* compression: none has no stage */
		if (argv_gunzip(&s->a[s->n], x) < 0)
			return -1;
		stage(s, "gzip -d", x->env_bare);
	}
	return 0;
}

static int
stages_make(struct stages *s, const struct ctx *x, const char *key, const char *db,
    int globals, int count, int progress)
{
	if (stages_fetch(s, x, key) < 0)
		return -1;
	if (argv_relay(&s->a[s->n], x, count, globals, progress) < 0)
		return -1;
	stage(s, "relay", x->env_bare);
	s->st[s->n - 1].capture = !progress;	/* its progress line: our stderr */
	if (argv_psql(&s->a[s->n], x, db, 0, NULL) < 0)
		return -1;
	s->psql = (int)s->n;
	stage(s, "psql", x->env_pg);
	return 0;
}

/* Whether psql gets a PGPASSWORD (-n shows it as ***). */
static int
has_password(const struct ctx *x)
{
	char **v;

	for (v = x->env_pg; v && *v; v++)
		if (env_name_is(*v, "PGPASSWORD"))
			return 1;
	return 0;
}

/* A psql command line as -n and -v show it: its password as ***. */
void
psql_show(FILE *f, const struct ctx *x, char *const *argv)
{
	if (has_password(x))
		fputs("PGPASSWORD=*** ", f);
	argv_show(f, argv);
}

/* -n: the pipeline as it would run, on one line; the password as ***. */
void
pipe_show(FILE *f, const struct ctx *x, const char *key, const char *db, int globals,
    int count)
{
	struct stages s;
	size_t i;

	if (stages_make(&s, x, key, db, globals, count, 0) < 0)
		die(EXIT_TEMP, "out of memory");
	for (i = 0; i < s.n; i++) {
		if (i)
			fputs(" | ", f);
		if ((int)i == s.psql)
			psql_show(f, x, s.st[i].argv);
		else
			argv_show(f, s.st[i].argv);
	}
	fputc('\n', f);
	stages_free(&s);
}

int
pipe_restore(const struct ctx *x, const char *key, const char *db, int globals,
    int count_fd, struct outcome *out)
{
	struct stages s;
	struct spawn_pipe p;
	struct spawn_stage *f;
	struct log_err e;
	double t0 = now_s();
	int rc;

	memset(out, 0, sizeof *out);
	out->stage = -1;
	if (stages_make(&s, x, key, db, globals, count_fd >= 0,
	    isatty(2) && !globals) < 0) {
		stages_free(&s);
		snprintf(out->why, sizeof out->why, "out of memory");
		out->could_not_run = 1;
		return -1;
	}
	if (count_fd >= 0) {
		s.st[s.psql - 1].pass_as = COUNT_FD;
		s.st[s.psql - 1].pass_fd = count_fd;
	}
	if (log_verbose) {
		fprintf(stderr, "%s: running ", log_prog);
		pipe_show(stderr, x, key, db, globals, count_fd >= 0);
	}
	memset(&p, 0, sizeof p);
	p.st = s.st;
	p.n = s.n;
	p.in_fd = p.out_fd = -1;
	p.cancel_fd = x->cancel_fd;
	rc = spawn_run(&p, &e);
	out->seconds = now_s() - t0;
	out->got = s.st[0].bytes_out;
	out->sql = s.st[s.psql - 2].bytes_out;
	if (rc == 0) {
		stages_free(&s);
		return 0;
	}
	if (p.cancelled) {
		snprintf(out->why, sizeof out->why, "cancelled by a signal");
		out->could_not_run = 1;
	} else if (p.failed < 0) {
		snprintf(out->why, sizeof out->why, "%s", e.msg);
		out->could_not_run = 1;
	} else {
		f = &s.st[p.failed];
		out->stage = p.failed;
		out->stage_name = f->name;
		out->could_not_run = strcmp(f->name, "pgbak-get") == 0 ||
		    strcmp(f->name, "age") == 0;
		stage_why(f, out->why, sizeof out->why);
	}
	stages_free(&s);
	return -1;
}
