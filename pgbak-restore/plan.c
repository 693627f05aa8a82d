/*
 * plan: what a restore needs before anything runs: the programs, the
 * children's environments and settings descriptor, the server, and which
 * object to restore.  The key comes from lib/name alone, the one place for
 * key syntax: the newest is the newest date among the keys a listing
 * returns that name_parse takes for this entry's dump.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "name.h"
#include "restore.h"
#include "s3.h"
#include "s3cfg.h"
#include "s3open.h"
#include "spawn.h"

extern char **environ;

/* A program from PATH; in a dry run a missing one is shown by its name. */
static int
tool(char **out, const char *name, int dry, struct log_err *e)
{
	if ((*out = spawn_which(name, NULL)) != NULL && access(*out, X_OK) == 0)
		return 0;
	free(*out);
	*out = NULL;
	if (dry && (*out = strdup(name)) != NULL)
		return 0;
	return log_fail(e, EXIT_NOTFOUND, "%s: not found in PATH", name);
}

int
ctx_open(struct ctx *x, const struct opts *o, struct conf *c, struct log_err *e)
{
	char self[PATH_MAX];
	ssize_t n;
	size_t i;

	x->o = o;
	x->c = c;
	x->settings_fd = -1;
	for (i = 0; i < c->ndbs && x->db == NULL; i++)
		if (strcmp(c->dbs[i].database, o->database) == 0)
			x->db = &c->dbs[i];
	if (x->db == NULL)
		return log_fail(e, EXIT_USAGE, "%s: no entry for database %s in tasks.postgres.dbs",
		    c->path, o->database);
	if (!c->s3.enable)
		return log_fail(e, EXIT_USAGE, "%s: s3.enable is false: restore a local_dir "
		    "backup with gzip -dc FILE | psql (pgbak-restore(1))", c->path);
	if ((n = readlink("/proc/self/exe", self, sizeof self - 1)) < 0)
		return log_fail_sys(e, EXIT_TEMP, "unable to find this program (/proc/self/exe)");
	self[n] = '\0';
	if ((x->t.self = strdup(self)) == NULL ||
	    (x->t.get = spawn_sibling("pgbak-get")) == NULL)
		return log_fail(e, EXIT_NOTFOUND, "pgbak-get: not found next to %s or in PATH",
		    self);
	if (tool(&x->t.gunzip, "gzip", o->dry_run, e) < 0 ||
	    tool(&x->t.psql, "psql", o->dry_run, e) < 0)
		return -1;
	x->env_s3 = env_for(environ, c, ENV_S3);
	x->env_bare = env_for(environ, c, ENV_BARE);
	if (x->env_s3 == NULL || x->env_bare == NULL)
		return log_fail(e, EXIT_TEMP, "out of memory");
	if (s3_cfg_check(c, e) < 0 || (x->settings_fd = conf_s3_fd(c, e)) < 0)
		return -1;
	return 0;
}

void
ctx_close(struct ctx *x)
{
	free(x->t.get), free(x->t.age), free(x->t.gunzip), free(x->t.psql), free(x->t.self);
	free(x->t.unzstd), free(x->t.pg_restore), free(x->t.tar);
	free(x->env_s3), free(x->env_bare), free(x->env_pg);
	if (x->pw) {
		OPENSSL_cleanse(x->pw, strlen(x->pw));
		free(x->pw);
	}
	if (x->settings_fd >= 0)
		close(x->settings_fd);
	memset(x, 0, sizeof *x);
}

static const char *
pick(const char *flag, const char *var, const char *entry)
{
	const char *v = getenv(var);

	return flag ? flag : v && *v ? v : entry;
}

/*
 * The server psql connects to: base (the entry), libpq's variables on top,
 * then -h -p -U; then what pin (restore_check) names, which is where the
 * check must go whatever the environment says.  psql's
 * environment is the bare one plus PGPASSWORD: base's password, else the
 * caller's PGPASSWORD, for psql alone.
 */
void
ctx_server(struct ctx *x, const struct conn *base, const struct conf_restore_check *pin)
{
	static char port[16];
	char *inherited = NULL, **ev;
	size_t k, n;

	x->conn.host = pick(x->o->host, "PGHOST", base->host);
	x->conn.port = pick(x->o->port, "PGPORT", base->port);
	x->conn.user = pick(x->o->user, "PGUSER", base->user);
	x->conn.password = base->password;
	if (x->conn.port && x->conn.port != x->o->port) {
		snprintf(port, sizeof port, "%s", x->conn.port);
		x->conn.port = port;
	}
	if (pin && pin->present) {
		if (pin->host)
			x->conn.host = pin->host;
		if (pin->port > 0) {
			snprintf(port, sizeof port, "%d", pin->port);
			x->conn.port = port;
		}
		if (pin->user)
			x->conn.user = pin->user;
		if (pin->password)
			x->conn.password = pin->password;
	}
	free(x->env_pg);
	if (x->pw) {
		OPENSSL_cleanse(x->pw, strlen(x->pw));
		free(x->pw);
		x->pw = NULL;
	}
	for (ev = environ; *ev; ev++)
		if (env_name_is(*ev, "PGPASSWORD"))
			inherited = *ev;
	for (k = 0; x->env_bare[k]; k++)
		;
	if ((x->env_pg = calloc(k + 2, sizeof *x->env_pg)) == NULL)
		die(EXIT_TEMP, "out of memory");
	memcpy(x->env_pg, x->env_bare, k * sizeof *x->env_pg);
	if (x->conn.password) {
		n = strlen(x->conn.password) + sizeof "PGPASSWORD=";
		if ((x->pw = malloc(n)) == NULL)
			die(EXIT_TEMP, "out of memory");
		snprintf(x->pw, n, "PGPASSWORD=%s", x->conn.password);
		x->env_pg[k] = x->pw;
	} else if (inherited) {
		x->env_pg[k] = inherited;
	}
}

/* The newest backup of the series s3_list walks through. */
struct best {
	const char *stem;	/* "DIR/BASE-" */
	size_t stem_len;
	const char *ymd;	/* -D: only this day */
	int want_age;		/* on a tie, the encrypt setting's suffix */
	int want_comp;		/* ... and the compression setting's */
	char key[1024];
	char day[9];
	int age;
	int comp;		/* the key's NAME_KINDS: compression and format */
};

static int
consider(void *ctx, const struct s3_object *o)
{
	struct best *b = ctx;
	struct name_parts p;
	struct log_err e;
	char ymd[9];
	int age, comp, newer;

	if (name_parse(o->key, &p, &e) < 0 || p.stem != b->stem_len ||
	    memcmp(o->key, b->stem, b->stem_len) != 0 || (p.flags & NAME_GLOBALS) ||
	    name_date(p.ymd, ymd, &e) < 0 || strlen(o->key) >= sizeof b->key)
		return 0;
	if (b->ymd && strcmp(ymd, b->ymd) != 0)
		return 0;
	age = (p.flags & NAME_AGE) != 0;
	comp = p.flags & NAME_KINDS;
	newer = strcmp(ymd, b->day);
	if (newer > 0 || (newer == 0 && age == b->want_age && comp == b->want_comp)) {
		snprintf(b->key, sizeof b->key, "%s", o->key);
		memcpy(b->day, ymd, sizeof b->day);
		b->age = age;
		b->comp = comp;
	}
	return 0;
}

/* The series' newest key (of day ymd when not NULL), from a listing. */
static int
newest(const struct ctx *x, struct best *b, struct log_err *e)
{
	struct s3_flags f = { 0 };
	struct s3_cfg cfg;
	struct s3 s;
	char fd[16];
	int rc;

	snprintf(fd, sizeof fd, "%d", x->settings_fd);
	f.settings_fd = fd;
	if (s3_open(&s, &cfg, &f, NULL, S3_CATCH_NONE, e) < 0)
		return -1;
	rc = s3_list(&s, b->stem, consider, b, e);
	if (rc == 0 && b->key[0] == '\0')
		rc = log_fail(e, EXIT_TEMP, "no backup of %s%s%s in s3://%s/%s*", x->db->database,
		    b->ymd ? " of " : "", b->ymd ? b->ymd : "", cfg.bucket, b->stem);
	s3_close(&s, &cfg);
	return rc;
}

int
plan_make(const struct ctx *x, struct plan *p, struct log_err *e)
{
	const struct conf_db *db = x->db;
	int enc = x->c->encrypt.present, rc;
	struct name_parts np;
	struct best b;
	char *local = NULL, *key = NULL;

	memset(p, 0, sizeof *p);
	memset(&b, 0, sizeof b);
	if (x->o->date && name_date(x->o->date, p->ymd, e) < 0)
		return -1;
	/* the series' stem, from a key of any day */
	if (name_object(db->backup_file_prefix, db->database, "20000101", enc ? NAME_AGE : 0,
	    &key, &local, e) < 0)
		return -1;
	free(local);
	if (name_parse(key, &np, e) < 0) {
		free(key);
		return -1;
	}
	key[np.stem] = '\0';
	b.stem = key;
	b.stem_len = np.stem;
	b.ymd = x->o->date ? p->ymd : NULL;
	b.want_age = enc;
	b.want_comp = conf_name_flags(x->c, db);
	if (x->o->dry_run && x->o->date) {	/* -n -D: the key as named, nothing listed */
		char *named = NULL;

		rc = name_object(db->backup_file_prefix, db->database, p->ymd,
		    (enc ? NAME_AGE : 0) | b.want_comp, &named, &local, e);
		if (rc == 0) {
			free(local);
			snprintf(b.key, sizeof b.key, "%s", named);
			memcpy(b.day, p->ymd, sizeof b.day);
			b.age = enc;
			b.comp = b.want_comp;
		}
		free(named);
	} else {
		rc = newest(x, &b, e);
	}
	free(key);
	if (rc < 0)
		return -1;
	memcpy(p->ymd, b.day, sizeof p->ymd);
	p->age = b.age;
	p->comp = b.comp;
	if ((p->key = strdup(b.key)) == NULL)
		return log_fail(e, EXIT_TEMP, "out of memory");
	if (x->o->globals) {
		if (name_object(db->backup_file_prefix, db->database, p->ymd,
		    NAME_GLOBALS | (p->age ? NAME_AGE : 0) | (p->comp & ~NAME_FORMATS),
		    &p->globals_key, &local,
		    e) < 0)
			return -1;
		free(local);
	}
	return 0;
}

/* age, when the object is encrypted: the encrypt setting's, else PATH's. */
int
ctx_age(struct ctx *x, struct log_err *e)
{
	if (x->o->identity == NULL)
		return log_fail(e, EXIT_USAGE, "the backup is encrypted (.gz.age): "
		    "-i IDENTITY names the age identity file to decrypt it with");
	return tool(&x->t.age, x->c->encrypt.age ? x->c->encrypt.age : "age", x->o->dry_run, e);
}

/* zstd, when the object is a .zst: from PATH, as gzip. */
int
ctx_zstd(struct ctx *x, struct log_err *e)
{
	return tool(&x->t.unzstd, "zstd", x->o->dry_run, e);
}

/* pg_restore for a custom or directory backup, and tar for a directory
 * one: from PATH, as psql. */
int
ctx_archive(struct ctx *x, int flags, struct log_err *e)
{
	if (tool(&x->t.pg_restore, "pg_restore", x->o->dry_run, e) < 0)
		return -1;
	return flags & NAME_DIR ? tool(&x->t.tar, "tar", x->o->dry_run, e) : 0;
}

void
plan_free(struct plan *p)
{
	free(p->key);
	free(p->globals_key);
	memset(p, 0, sizeof *p);
}
