/*
 * env: which variables each kind of child gets (env.c).  pgbak-run's, and
 * pgbak-restore's, which links env.o: one policy for the children of both.
 */
#ifndef PGBAK_RUN_ENV_H
#define PGBAK_RUN_ENV_H

#include "conf.h"

enum env_kind {
	ENV_S3,		/* pgbak-put, -exists, -verify, -prune, -get: no database's secret */
	ENV_BARE	/* pgbak-gzip, age, pg_dump, gzip -d: no secret at all */
};
char **env_for(char *const *env, const struct conf *c, enum env_kind k);
int env_name_is(const char *entry, const char *name);

#endif
