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

/* Run psql for star; its output, NUL-separated, into *out (malloc'd), or
 * -1 with why: the stage's status and its last line of stderr. */
static int
list_run(const struct run_ctx *x, const struct conf_db *star, char **out, size_t *len,
    char *why, size_t n)
{
	struct spawn_stage st;
	struct spawn_pipe p;
	struct log_err e;
	struct dump d;
	struct argv a = { 0 };
	char desc[256], last[512];
	long timeout = timeout_of(x->c, star);
	off_t size;
	int fd = -1, rc = -1;

	*out = NULL;
	/* dump_prepare for its environment alone: the one rule for PGPASSWORD */
	if (dump_prepare(x, star, 0, &d) < 0 || argv_psql(&a, x, star) < 0 ||
	    (fd = memfd_create("pgbak-psql", MFD_CLOEXEC)) < 0) {
		snprintf(why, n, "out of memory");
		goto done;
	}
	job_stage(&st, "psql", a.v, d.env);
	pipe_init(x, &p, &st, 1, now_s() + (double)timeout);
	p.out_fd = fd;
	if (x->o->dry_run)
		p.cancel_fd = -1;	/* -n sets no signal pipe up */
	if (spawn_run(&p, &e) < 0) {
		if (p.timed_out) {
			report_duration(timeout, desc, sizeof desc);
			snprintf(why, n, "psql timed out after %s", desc);
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
		snprintf(why, n, "psql's list of databases could not be read (%lld bytes)",
		    (long long)size);
		free(*out);
		*out = NULL;
		goto done;
	}
	(*out)[size] = '\0';
	*len = (size_t)size;
	rc = 0;
done:
	if (fd >= 0)
		close(fd);
	argv_free(&a);
	dump_release(&d);
	return rc;
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
plan_add(struct run_plan *p, const struct conf_db *star, const char *name, int globals)
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
	p->n++;
	return 0;
}

/* star's databases, or one failed entry saying why they are unknown. */
static int
plan_star(const struct run_ctx *x, struct run_plan *p, const struct conf_db *star)
{
	char why[512], *out, *s;
	size_t len, added = 0;

	if (list_run(x, star, &out, &len, why, sizeof why) < 0) {
		if (plan_grow(p) < 0)
			return -1;
		memset(&p->v[p->n], 0, sizeof p->v[p->n]);
		p->v[p->n].db = *star;
		p->v[p->n].from = star;
		snprintf(p->v[p->n++].reason, sizeof p->v->reason, "unable to list the "
		    "databases of %.200s%s%.0d: %s", star->host ? star->host : "the default server",
		    star->port ? ":" : "", star->port, why);
		return 0;
	}
	for (s = out; s < out + len; s += strlen(s) + 1) {
		if (*s == '\0' || excluded(star, s) || listed(x->c, star, s))
			continue;
		/* the cluster's globals go with the first one: their key is
		 * the prefix's, whichever database pg_dumpall connects to */
		if (plan_add(p, star, s, star->globals && added++ == 0) < 0) {
			free(out);
			return -1;
		}
	}
	free(out);
	return 0;
}

int
plan_make(const struct run_ctx *x, struct run_plan *p, struct log_err *e)
{
	const struct conf *c = x->c;
	struct conf cc;
	struct conf_db *v;
	size_t i, k;
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
	}
	/* the names of the expanded entries, checked as the loader checks the file's */
	if ((v = calloc(p->n + 1, sizeof *v)) == NULL)
		goto oom;
	for (i = k = 0; i < p->n; i++)
		if (p->v[i].reason[0] == '\0')
			v[k++] = p->v[i].db;
	cc = *c;
	cc.dbs = v, cc.ndbs = k;
	rc = run_check_names(&cc, e);
	free(v);
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

	for (i = 0; i < p->n; i++)
		if (p->v[i].own) {
			free(p->v[i].db.database);
			free(p->v[i].db.backup_file_prefix);
		}
	free(p->v);
	memset(p, 0, sizeof *p);
}
