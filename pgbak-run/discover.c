/*
 * discover: the entries of one pass, a dbs entry with database "*" turned
 * into one entry for each database its server has at the time of the run,
 * so that a database created yesterday is backed up today without a
 * settings change.
 *
 * The list comes from a psql stage (lib/spawn, fixed argv), not libpq:
 * pgbak links only libcurl, libcrypto, zlib and libyaml, and psql comes
 * with pg_dump in every PostgreSQL client package.  Its password reaches
 * it the way pg_dump's does (dump_prepare: PGPASSWORD in its environment
 * alone, never argv).  -A -t -0: unaligned rows, no header, each ended by
 * a NUL byte, since a database name may hold a newline but never a NUL.
 */
#define _GNU_SOURCE 1		/* memfd_create */
#include <fnmatch.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "log.h"
#include "run.h"
#include "spawn.h"

#define DISCOVER_OUT_MAX (1024 * 1024)	/* bytes of psql's list read */

static int
same_str(const char *a, const char *b)
{
	return a == b || (a && b && strcmp(a, b) == 0);
}

/* An explicit entry for the server of star and database name: it wins. */
static int
listed(const struct conf *c, const struct conf_db *star, const char *name)
{
	size_t i;

	for (i = 0; i < c->ndbs; i++)
		if (strcmp(c->dbs[i].database, name) == 0 && same_str(c->dbs[i].host,
		    star->host) && c->dbs[i].port == star->port)
			return 1;
	return 0;
}

static int
excluded(const struct conf_db *star, const char *name)
{
	char **p;

	for (p = star->exclude; p && *p; p++)
		if (strcmp(*p, name) == 0 || fnmatch(*p, name, 0) == 0)
			return 1;
	return 0;
}

/* Run argv (env: its environment), one stage; its stdout into *out
 * (malloc'd, NUL-ended), or -1 with why: the stage's status and its last
 * line of stderr.  what names the output in a message. */
static int
child_out(const struct run_ctx *x, long timeout, const char *name, char *const *argv,
    char **env, const char *what, char **out, size_t *len, char *why, size_t n)
{
	struct spawn_stage st;
	struct spawn_pipe p;
	struct log_err e;
	char desc[256], last[512];
	off_t size = 0;
	int fd, rc = -1;

	*out = NULL;
	if ((fd = memfd_create("pgbak-psql", MFD_CLOEXEC)) < 0) {
		snprintf(why, n, "out of memory");
		return -1;
	}
	job_stage(&st, name, argv, env);
	pipe_init(x, &p, &st, 1, now_s() + (double)timeout);
	p.out_fd = fd;
	if (x->o->dry_run)
		p.cancel_fd = -1;	/* -n sets no signal pipe up */
	if (spawn_run(&p, &e) < 0) {
		if (p.timed_out) {
			report_duration(timeout, desc, sizeof desc);
			snprintf(why, n, "%.64s timed out after %s", what, desc);
		} else if (p.cancelled) {
			snprintf(why, n, "cancelled by a signal");
		} else if (p.failed < 0) {
			snprintf(why, n, "%.480s", e.msg);
		} else {
			spawn_describe(&st, desc, sizeof desc);
			spawn_last_line(&st.ring, last, sizeof last);
			snprintf(why, n, "%.200s%s%.280s", desc, *last ? ": " : "", last);
		}
		goto done;
	}
	if ((size = lseek(fd, 0, SEEK_END)) < 0 || size > DISCOVER_OUT_MAX ||
	    (*out = malloc((size_t)size + 1)) == NULL ||
	    pread(fd, *out, (size_t)size, 0) != size) {
		snprintf(why, n, "%.64s could not be read (%lld bytes)", what, (long long)size);
		free(*out);
		*out = NULL;
		goto done;
	}
	(*out)[size] = '\0';
	*len = (size_t)size;
	rc = 0;
done:
	close(fd);
	return rc;
}

/* psql's answer to sql, connected to dbname as db says. */
static int
psql_out(const struct run_ctx *x, const struct conf_db *db, const char *dbname,
    const char *sql, char **out, size_t *len, char *why, size_t n)
{
	struct argv a = { 0 };
	struct dump d;
	int rc = -1;

	/* dump_prepare for its environment alone: the one rule for PGPASSWORD */
	if (dump_prepare(x, db, 0, &d) < 0 || argv_psql(&a, x, db, dbname, sql) < 0)
		snprintf(why, n, "out of memory");
	else
		rc = child_out(x, timeout_of(x->c, db), "psql", a.v, d.env, "psql's answer", out,
		    len, why, n);
	argv_free(&a);
	dump_release(&d);
	return rc;
}

/* The first number after "PostgreSQL) " in s (pg_dump --version), or 0. */
static int
version_of(const char *s)
{
	const char *v = s ? strstr(s, "PostgreSQL) ") : NULL;

	return v ? atoi(v + 12) : 0;
}

/* The major version of the pg_dump found in PATH (or set), asked once a
 * pass; 0 when it cannot tell. */
static int
path_major(const struct run_ctx *x, struct run_plan *p)
{
	char *argv[] = { x->t->pg_dump, "--version", NULL }, *out, why[512] = "no version";
	size_t len;

	if (p->path_major == 0) {
		p->path_major = -1;
		if (child_out(x, 60, "pg_dump", argv, x->env_bare, "pg_dump --version", &out, &len, why,
		    sizeof why) == 0 && version_of(out) > 0)
			p->path_major = version_of(out);
		if (p->path_major < 0)
			warn("pg_dump: auto: the version of %s is unknown: %s", x->t->pg_dump, why);
		free(out);
	}
	return p->path_major > 0 ? p->path_major : 0;
}

/* Whether pg_dump is chosen by the server's version (pg_dump unset or "auto"). */
static int
dump_auto(const struct conf *c)
{
	return c->pg_dump == NULL || strcmp(c->pg_dump, "auto") == 0;
}

/*
 * pg_dump: auto: ask r's server its version; take pg_bin_root/MAJOR/bin's
 * pg_dump (and pg_dumpall) when there is one, else the one in PATH, unless
 * it is older than the server, which it would refuse to dump: then r fails
 * with the fix (a settings problem: exit 100).  A server that does not
 * answer keeps the PATH's, whose own connection error then says why.
 */
static int
choose_dump(const struct run_ctx *x, struct run_plan *p, struct run_entry *r,
    const char *dbname)
{
	const char *root = x->c->pg_bin_root ? x->c->pg_bin_root : "/usr/lib/postgresql";
	char *out, why[512], path[PATH_MAX];
	size_t len;
	int major, have;

	if (!dump_auto(x->c) || x->t->psql == NULL)
		return 0;
	if (psql_out(x, &r->db, dbname, "SHOW server_version_num", &out, &len, why,
	    sizeof why) < 0)
		return 0;
	major = atoi(out) / 10000;
	free(out);
	if (major <= 0)
		return 0;
	snprintf(path, sizeof path, "%s/%d/bin/pg_dump", root, major);
	if (access(path, X_OK) == 0) {
		if ((r->db.bin_dump = strdup(path)) == NULL)
			return -1;
		/* pg_dumpall alike, unless set */
		snprintf(path, sizeof path, "%s/%d/bin/pg_dumpall", root, major);
		if ((x->c->pg_dumpall == NULL || strcmp(x->c->pg_dumpall, "auto") == 0) &&
		    access(path, X_OK) == 0 && (r->db.bin_dumpall = strdup(path)) == NULL)
			return -1;
		return 0;
	}
	have = path_major(x, p);
	if (have > 0 && major > have) {
		snprintf(r->reason, sizeof r->reason, "server is PostgreSQL %d, pg_dump is %d: "
		    "install postgresql-client-%d or set pg_dump:", major, have, major);
		r->config = 1;
	}
	return 0;
}

static int
plan_grow(struct run_plan *p)
{
	struct run_entry *v;
	size_t cap = p->cap ? p->cap * 2 : 16;

	if (p->n < p->cap)
		return 0;
	if ((v = realloc(p->v, cap * sizeof *v)) == NULL)
		return -1;
	p->v = v;
	p->cap = cap;
	return 0;
}

/* One database of star's server, under star's prefix as a directory. */
static int
plan_add(struct run_plan *p, const struct conf_db *star, const char *name, int globals,
    const struct conf_db *bins)
{
	struct run_entry *r;
	const char *pre = star->backup_file_prefix;
	size_t n = pre ? strlen(pre) : 0;

	if (plan_grow(p) < 0)
		return -1;
	r = &p->v[p->n];
	memset(r, 0, sizeof *r);
	r->db = *star;
	r->db.exclude = NULL;
	r->db.globals = globals;
	r->from = star;
	if ((r->db.database = strdup(name)) == NULL)
		return -1;
	r->own = 1;
	r->db.backup_file_prefix = NULL;
	if (pre && (r->db.backup_file_prefix = malloc(n + 2)) == NULL) {
		free(r->db.database);
		return -1;
	}
	if (pre)
		snprintf(r->db.backup_file_prefix, n + 2, "%s%s", pre,
		    n && pre[n - 1] == '/' ? "" : "/");
	p->n++;		/* plan_free frees what it has from here */
	if ((bins->bin_dump && (r->db.bin_dump = strdup(bins->bin_dump)) == NULL) ||
	    (bins->bin_dumpall && (r->db.bin_dumpall = strdup(bins->bin_dumpall)) == NULL))
		return -1;
	return 0;
}

/* A failed entry for star: its databases are unknown, for why. */
static int
plan_fail(struct run_plan *p, const struct conf_db *star, const char *why, int config)
{
	if (plan_grow(p) < 0)
		return -1;
	memset(&p->v[p->n], 0, sizeof p->v[p->n]);
	p->v[p->n].db = *star;
	p->v[p->n].from = star;
	p->v[p->n].config = config;
	snprintf(p->v[p->n++].reason, sizeof p->v->reason, "%s", why);
	return 0;
}

/* star's databases, or one failed entry saying why they are unknown. */
static int
plan_star(const struct run_ctx *x, struct run_plan *p, const struct conf_db *star)
{
	struct run_entry probe;
	char why[512], msg[sizeof p->v->reason], *out, *s;
	size_t len, added = 0;
	int rc = 0;

	if (psql_out(x, star, "postgres", "SELECT datname FROM pg_database WHERE "
	    "datallowconn AND NOT datistemplate ORDER BY 1", &out, &len, why, sizeof why) < 0) {
		snprintf(msg, sizeof msg, "unable to list the databases of %.200s%s%.0d: %s",
		    star->host ? star->host : "the default server", star->port ? ":" : "",
		    star->port, why);
		return plan_fail(p, star, msg, 0);
	}
	/* the server's pg_dump, asked once for all its databases */
	memset(&probe, 0, sizeof probe);
	probe.db = *star;
	if (choose_dump(x, p, &probe, "postgres") < 0)
		rc = -1;
	else if (probe.reason[0])
		rc = plan_fail(p, star, probe.reason, probe.config);
	for (s = out; rc == 0 && !probe.reason[0] && s < out + len; s += strlen(s) + 1) {
		if (*s == '\0' || excluded(star, s) || listed(x->c, star, s))
			continue;
		/* the cluster's globals go with the first one: their key is
		 * the prefix's, whichever database pg_dumpall connects to */
		rc = plan_add(p, star, s, star->globals && added++ == 0, &probe.db);
	}
	free(probe.db.bin_dump);
	free(probe.db.bin_dumpall);
	free(out);
	return rc;
}

int
plan_make(const struct run_ctx *x, struct run_plan *p, struct log_err *e)
{
	const struct conf *c = x->c;
	struct conf cc;
	struct conf_db *v;
	size_t i, k, *ix;
	int rc;

	memset(p, 0, sizeof *p);
	for (i = 0; i < c->ndbs; i++) {
		if (strcmp(c->dbs[i].database, CONF_DB_ALL) == 0) {
			if (plan_star(x, p, &c->dbs[i]) < 0)
				goto oom;
			continue;
		}
		if (plan_grow(p) < 0)
			goto oom;
		memset(&p->v[p->n], 0, sizeof p->v[p->n]);
		p->v[p->n].db = c->dbs[i];
		p->v[p->n++].from = &c->dbs[i];
		if (choose_dump(x, p, &p->v[p->n - 1], c->dbs[i].database) < 0)
			goto oom;
	}
	/* the names of the expanded entries, checked as the loader checks the file's */
	v = calloc(p->n + 1, sizeof *v);
	ix = calloc(p->n + 1, sizeof *ix);
	if (v == NULL || ix == NULL) {
		free(v), free(ix);
		goto oom;
	}
	for (i = k = 0; i < p->n; i++)
		if (p->v[i].reason[0] == '\0') {
			ix[k] = (size_t)(p->v[i].from - c->dbs);
			v[k++] = p->v[i].db;
		}
	cc = *c;
	cc.dbs = v, cc.ndbs = k;
	rc = run_check_names(&cc, ix, e);
	free(v), free(ix);
	if (rc < 0)
		plan_free(p);
	return rc;
oom:
	plan_free(p);
	return log_fail(e, EXIT_TEMP, "out of memory");
}

void
plan_free(struct run_plan *p)
{
	size_t i;

	for (i = 0; i < p->n; i++) {
		if (p->v[i].own) {
			free(p->v[i].db.database);
			free(p->v[i].db.backup_file_prefix);
		}
		free(p->v[i].db.bin_dump);
		free(p->v[i].db.bin_dumpall);
	}
	free(p->v);
	memset(p, 0, sizeof *p);
}
