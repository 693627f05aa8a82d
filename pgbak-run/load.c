/*
 * load: the settings a run reads and checks before anything runs, and the
 * programs it needs, found once: every key computable, every program there.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf.h"
#include "keep.h"
#include "log.h"
#include "name.h"
#include "run.h"
#include "spawn.h"

/* Whether a database of c has a retention policy. */
static int
run_prunes(const struct conf *c)
{
	struct keep_policy p;
	size_t i;

	for (i = 0; i < c->ndbs; i++)
		if (keep_conf(c, &c->dbs[i], &p))
			return 1;
	return 0;
}

void
tools_free(struct run_tools *t)
{
	free(t->pg_dump), free(t->gzip), free(t->put), free(t->exists), free(t->verify);
	free(t->prune);
	free(t->pg_dumpall), free(t->age);
	free(t->zstd);
	free(t->psql);
	free(t->tar);
	memset(t, 0, sizeof *t);
}

/* A program named by a setting (or its default) from PATH, executable; in a
 * dry run a missing one is shown by its name. */
static char *
setting_prog(const char *name, int dry)
{
	char *p = spawn_which(name, NULL);

	if (p != NULL && access(p, X_OK) < 0) {
		free(p);
		p = NULL;
	}
	if (p == NULL && dry)
		p = strdup(name);
	return p;
}

/* What the databases' settings need beyond pg_dump, in one pass: each bit
 * names the program that it brings in. */
enum { NEED_PSQL = 1, NEED_DUMPALL = 2, NEED_ZSTD = 4, NEED_TAR = 8 };

static unsigned
settings_need(const struct conf *c)
{
	unsigned need = 0;
	size_t i;

	for (i = 0; i < c->ndbs; i++) {
		if (strcmp(c->dbs[i].database, CONF_DB_ALL) == 0)
			need |= NEED_PSQL;	/* database "*" is listed with it */
		if (c->dbs[i].globals)
			need |= NEED_DUMPALL;
		if (conf_compression(c, &c->dbs[i]) == CONF_ZSTD)
			need |= NEED_ZSTD;
		if (conf_format(c, &c->dbs[i]) == CONF_DIRECTORY)
			need |= NEED_TAR;
	}
	return need;
}

/* Resolve the programs; in a dry run a missing one is shown by its name.
 * pgbak-verify is needed only when verify is on (--verify or the setting). */
static int
tools_find(struct run_tools *t, const struct conf *c, int dry, int verify, struct log_err *e)
{
	const char *dump = c->pg_dump && strcmp(c->pg_dump, "auto") != 0 ? c->pg_dump :
	    "pg_dump";
	const char *dumpall = c->pg_dumpall ? c->pg_dumpall : "pg_dumpall";
	const char *age = c->encrypt.age ? c->encrypt.age : "age";
	const char *psql = c->psql ? c->psql : "psql";
	const char *names[] = { "pgbak-gzip", "pgbak-put", "pgbak-exists", "pgbak-verify" };
	char **slot[] = { &t->gzip, &t->put, &t->exists, &t->verify };
	int need[] = { 1, c->s3.enable, c->s3.enable, verify || c->verify };
	unsigned needs = settings_need(c);
	size_t i;

	memset(t, 0, sizeof *t);
	if ((t->pg_dump = setting_prog(dump, dry)) == NULL) {
		tools_free(t);
		return log_fail(e, EXIT_NOTFOUND, "%s: pg_dump %s not found or not executable",
		    c->path, dump);
	}
	if ((needs & NEED_DUMPALL) && (t->pg_dumpall = setting_prog(dumpall, dry)) == NULL) {
		tools_free(t);
		return log_fail(e, EXIT_NOTFOUND, "%s: pg_dumpall %s not found or not executable "
		    "(globals: true needs it): install the PostgreSQL client tools or set "
		    "pg_dumpall", c->path, dumpall);
	}
	if ((needs & NEED_PSQL) && (t->psql = setting_prog(psql, dry)) == NULL) {
		tools_free(t);
		return log_fail(e, EXIT_NOTFOUND, "%s: psql %s not found or not executable "
		    "(database \"*\" lists the databases with it): install the PostgreSQL "
		    "client tools or set psql", c->path, psql);
	}
	/* pg_dump: auto without psql: the PATH's pg_dump, as before auto */
	if (t->psql == NULL && (c->pg_dump == NULL || strcmp(c->pg_dump, "auto") == 0))
		t->psql = setting_prog(psql, 0);
	if (c->encrypt.present && (t->age = setting_prog(age, dry)) == NULL) {
		tools_free(t);
		return log_fail(e, EXIT_NOTFOUND, "%s: age not found or not executable (%s): "
		    "install the age package or set encrypt.age", c->path, age);
	}
	if ((needs & NEED_ZSTD) && (t->zstd = setting_prog("zstd", dry)) == NULL) {
		tools_free(t);
		return log_fail(e, EXIT_NOTFOUND, "%s: zstd not found in PATH (compression: zstd "
		    "needs it): install the zstd package", c->path);
	}
	if ((needs & NEED_TAR) && (t->tar = setting_prog("tar", dry)) == NULL) {
		tools_free(t);
		return log_fail(e, EXIT_NOTFOUND, "%s: tar not found in PATH (format: directory "
		    "needs it): install the tar package", c->path);
	}
	for (i = 0; i < 4; i++) {
		if ((*slot[i] = spawn_sibling(names[i])) == NULL && dry)
			*slot[i] = strdup(names[i]);
		if (*slot[i] == NULL && need[i]) {
			tools_free(t);
			return log_fail(e, EXIT_NOTFOUND, "%s not found next to pgbak-run or in PATH",
			    names[i]);
		}
	}
	if (c->s3.enable && run_prunes(c)) {
		if ((t->prune = spawn_sibling("pgbak-prune")) == NULL && dry)
			t->prune = strdup("pgbak-prune");
		if (t->prune == NULL) {
			tools_free(t);
			return log_fail(e, EXIT_NOTFOUND, "pgbak-prune not found next to pgbak-run "
			    "or in PATH (a retention policy is set)");
		}
	}
	return 0;
}

/* Recipients go into argv and -n's output: refuse anything that is not a
 * public key, above all an identity (AGE-SECRET-KEY-1...) pasted by mistake,
 * without showing it. */
static int
check_recipients(const struct conf *c, struct log_err *e)
{
	char **r = c->encrypt.age_recipients;
	size_t i;

	for (i = 0; c->encrypt.present && r && r[i]; i++)
		if (strncmp(r[i], "age1", 4) != 0 && strncmp(r[i], "ssh-", 4) != 0)
			return log_fail(e, EXIT_USAGE, "%s: tasks.postgres.encrypt.age_recipients"
			    "[%zu] is not an age public key (age1...) or an SSH public key "
			    "(ssh-...)%s", c->path, i, strncmp(r[i], "AGE-SECRET-KEY-", 15) == 0 ?
			    ": it is a secret identity, remove it from the file" : "");
	return 0;
}

struct named {
	char *key;
	size_t db;
	int globals;
};

/* By key, then in the file's order: of equal keys, the earlier entry's first. */
static int
named_cmp(const void *a, const void *b)
{
	const struct named *x = a, *y = b;
	int r = strcmp(x->key, y->key);

	if (r == 0)
		r = x->db < y->db ? -1 : x->db > y->db ? 1 : x->globals - y->globals;
	return r;
}

/* A key made with the date 20000101, as a message shows it: with YYYYMMDD. */
static void
named_date(char *key)
{
	struct name_parts p;

	if (name_parse(key, &p, NULL) == 0)
		memcpy(key + p.stem, "YYYYMMDD", 8);
}

/* An entry whose names cannot be made: the message of lib/name, at the
 * value it comes from (the prefix when there is one). */
static int
named_fail(const struct conf *c, size_t i, size_t fi, const struct log_err *ne,
    struct log_err *e)
{
	const struct conf_db *db = &c->dbs[i];

	if (ne->status != EXIT_USAGE) {
		*e = *ne;
		return -1;
	}
	return conf_fail_at(c, db->backup_file_prefix ? db->backup_file_prefix_at :
	    db->database_at, e, "tasks.postgres.dbs[%zu]: %s", fi, ne->msg);
}

/* A key local mode could not write: a directory of it over NAME_MAX. */
static int
named_local(const struct conf *c, size_t i, size_t fi, const char *key, struct log_err *e)
{
	struct log_err ne;

	if (c->s3.enable || name_local_ok(key))
		return 0;
	log_fail(&ne, EXIT_USAGE, "the key %.64s... has a directory longer than a file "
	    "name may be (%d bytes), and s3.enable is false", key, NAME_LOCAL_MAX);
	return named_fail(c, i, fi, &ne, e);
}

/*
 * Every key computable, and no two objects of a run under one key: the
 * second would be skipped as "already exists", its database never backed
 * up (or with -f overwrite the first), or a globals object would hold the
 * roles of another cluster.  The keys are those job_name builds, after
 * lib/name's normalisation, so every spelling of one key clashes
 * ("dk//demo/demo" and "dk/demo/" with database demo), globals and .age
 * keys included.
 */
int
run_check_names(const struct conf *c, const size_t *ix, struct log_err *e)
{
	struct named *v = calloc(2 * c->ndbs + 1, sizeof *v), *a, *b;
	const char *what[] = { "dump", "globals" }, *hint;
	struct log_err ne;
	char *local;
	size_t i, n = 0;
	int g, rc = 0;

	if (v == NULL)
		return log_fail(e, EXIT_TEMP, "out of memory");
	for (i = 0; i < c->ndbs && rc == 0; i++)
		for (g = 0; g <= c->dbs[i].globals && rc == 0; g++) {
			/* database "*": its names are known at each run (plan_make) */
			if (strcmp(c->dbs[i].database, CONF_DB_ALL) == 0)
				break;
			if (job_name(c, &c->dbs[i], g, "20000101", &v[n].key, &local, &ne) < 0) {
				rc = named_fail(c, i, ix ? ix[i] : i, &ne, e);
				break;
			}
			free(local);
			v[n].db = i, v[n++].globals = g;
			rc = named_local(c, i, ix ? ix[i] : i, v[n - 1].key, e);
		}
	if (rc == 0)
		qsort(v, n, sizeof *v, named_cmp);
	for (i = 1; i < n && rc == 0; i++) {
		a = &v[i - 1], b = &v[i];	/* a: the earlier entry */
		if (strcmp(a->key, b->key) != 0)
			continue;
		named_date(b->key);
		if (a->globals && b->globals)
			hint = "keep globals: true on one entry per cluster, or give them "
			    "prefixes in different directories";
		else if (a->globals || b->globals)
			hint = "a dump named globals needs another basename (a file-like "
			    "backup_file_prefix)";
		else
			hint = "one would be skipped as already stored, or overwrite the other "
			    "with -f: give each entry its own backup_file_prefix (a directory "
			    "per cluster)";
		rc = conf_fail_at(c, (struct conf_at){ c->dbs[b->db].line, 0 }, e,
		    "tasks.postgres.dbs[%zu]'s %s (database %.64s) would be stored as %s, the key "
		    "of dbs[%zu]'s %s (database %.64s) at %s:%d: %s", ix ? ix[b->db] : b->db,
		    what[b->globals], c->dbs[b->db].database, b->key, ix ? ix[a->db] : a->db,
		    what[a->globals],
		    c->dbs[a->db].database, c->path, c->dbs[a->db].line, hint);
	}
	for (i = 0; i < n; i++)
		free(v[i].key);
	free(v);
	return rc;
}

/* Read and check the settings: every key computable, every program found. */
int
run_load(const char *path, struct conf *c, struct run_tools *t, int dry, int verify,
    struct log_err *e)
{
	/* zeroed here, not by tools_find: with enable: false that never runs,
	 * and tools_free must still find nothing to free */
	memset(t, 0, sizeof *t);
	if (conf_load(c, path, e) < 0)
		return -1;
	if (check_recipients(c, e) < 0 || run_check_names(c, NULL, e) < 0 || notify_check(c, e) < 0 ||
	    dumpopts_check(c, e) < 0)
		goto fail;
	if ((verify || c->verify) && c->encrypt.present) {
		/* pgbak-verify would need the identity, which must not be here */
		log_fail(e, EXIT_USAGE, "%s: verify cannot check encrypted backups (the age "
		    "identity is not on this host): turn verify off, or verify after "
		    "age -d where the identity is", path);
		goto fail;
	}
	if (!c->s3.enable && run_prunes(c)) {
		log_fail(e, EXIT_USAGE, "%s: retention prunes backups in S3 only, and s3 enable "
		    "is false", path);
		goto fail;
	}
	if (c->enable && tools_find(t, c, dry, verify, e) < 0)
		goto fail;
	if (c->has_secret && c->others_can_read)
		warn("%s holds a password or secret and others can read it: chmod 600 %s",
		    path, path);
	/* whoever can write it chooses the pg_dump that runs, and as whom */
	if (c->others_can_write)
		warn("%s can be written by others: chmod go-w %s", path, path);
	return 0;
fail:
	conf_free(c);
	return -1;
}
