/*
 * env: which of pgbak-run's variables each kind of child gets, the one
 * place for that rule (STYLE 14: a child gets only what its job needs).
 *
 *   ENV_S3    pgbak-put, pgbak-exists, pgbak-verify, pgbak-prune: no
 *             database's secret.  They take the s3 section from pgbak-run
 *             (--settings-fd), already expanded, and never expand a
 *             database's ${NAME}, so neither PGPASSWORD nor any variable
 *             holding a password (nor the ping_url) is of use to them.
 *             The AWS_* and PGBAK_* variables stay: the environment is
 *             their second source of credentials, region and endpoint.
 *   ENV_BARE  pgbak-gzip, age, pgbak-verify -f, and pg_dump before its own
 *             PGPASSWORD is added: no secret at all, also not the S3 ones
 *             (AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN,
 *             AWS_CONTAINER_AUTHORIZATION_TOKEN, a variable that holds the
 *             s3 access_secret, session_token or sse_customer_key): they
 *             read nothing but a stream.  The credential chain's other
 *             inputs (AWS_PROFILE, AWS_WEB_IDENTITY_TOKEN_FILE, ...) name
 *             files, not secrets.
 *
 * A variable is recognised as a secret by its name or by its value being
 * one the settings expanded: the file may name any variable in ${NAME}.
 * The restore_check password counts as a database's.  pgbak-restore links
 * this file: its pgbak-get is an ENV_S3 child, gzip -d and age ENV_BARE.
 * pgbak-restore --check, run by pgbak-run (rcheck.c), is no such child: it
 * reads the settings file and expands its ${NAME}s itself, so it gets
 * pgbak-run's whole environment, and applies this policy to its own.
 */
#include <stdlib.h>
#include <string.h>

#include "run.h"

int
env_name_is(const char *entry, const char *name)
{
	size_t n = strlen(name);

	return strncmp(entry, name, n) == 0 && entry[n] == '=';
}

static int
same(const char *secret, const char *val)
{
	return secret && *secret && strcmp(secret, val) == 0;
}

/* A value that is a database's password or the ping_url's token. */
static int
is_db_secret(const struct conf *c, const char *val)
{
	size_t i;

	for (i = 0; i < c->ndbs; i++)
		if (same(c->dbs[i].password, val))
			return 1;
	return same(c->ping_url, val) || same(c->restore_check.password, val);
}

static int
keep(const struct conf *c, enum env_kind k, const char *entry, const char *val)
{
	if (env_name_is(entry, "PGPASSWORD") || is_db_secret(c, val))
		return 0;
	if (k == ENV_S3)
		return 1;
	return !(env_name_is(entry, "AWS_SECRET_ACCESS_KEY") ||
	    env_name_is(entry, "AWS_SESSION_TOKEN") ||
	    env_name_is(entry, "AWS_CONTAINER_AUTHORIZATION_TOKEN") ||
	    same(c->s3.access_secret, val) || same(c->s3.session_token, val) ||
	    same(c->s3.sse_customer_key, val));
}

char **
env_for(char *const *env, const struct conf *c, enum env_kind k)
{
	size_t n = 0, o = 0;
	char *const *e;
	char **v, *eq;

	for (e = env; *e; e++)
		n++;
	if ((v = calloc(n + 2, sizeof *v)) == NULL)
		return NULL;
	for (e = env; *e; e++)
		if ((eq = strchr(*e, '=')) != NULL && keep(c, k, *e, eq + 1))
			v[o++] = *e;
	return v;
}
