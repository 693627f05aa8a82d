/*
 * dumpopts: pg_dump_options, the extra flags given to pg_dump, checked
 * against a list before anything runs.  Allowed are those that choose
 * what a plain dump holds (schemas, tables, their data, owners, grants,
 * comments, ...) and how long pg_dump waits for a lock.  Refused, naming
 * the option (exit 100): what would break the pipeline (-f writes
 * elsewhere, -F and -j are the format and jobs keys' to set, -Z
 * compresses twice, -v floods the captured stderr), what would carry or
 * ask for a secret (-W, a connection string through -d), and what the
 * entry's own keys set (-h, -p, -U, -d), so the settings stay the one
 * place for them; and anything not on the list, so that a flag pg_dump adds
 * later is looked at before it is let through.
 */
#include <stdio.h>
#include <string.h>

#include "conf.h"
#include "log.h"
#include "run.h"

struct dumpopt {
	const char *s, *l;	/* short ("-n") and long ("--schema") form; NULL: none */
	int arg;		/* takes a value */
};

static const struct dumpopt allowed[] = {
	{ "-n", "--schema", 1 },
	{ "-N", "--exclude-schema", 1 },
	{ "-t", "--table", 1 },
	{ "-T", "--exclude-table", 1 },
	{ NULL, "--exclude-table-data", 1 },
	{ "-e", "--extension", 1 },
	{ NULL, "--lock-wait-timeout", 1 },
	{ "-O", "--no-owner", 0 },
	{ "-x", "--no-acl", 0 },
	{ NULL, "--no-privileges", 0 },
	{ NULL, "--no-comments", 0 },
	{ NULL, "--no-publications", 0 },
	{ NULL, "--no-subscriptions", 0 },
	{ NULL, "--no-security-labels", 0 },
	{ NULL, "--no-tablespaces", 0 },
	{ NULL, "--no-unlogged-table-data", 0 },
	{ NULL, "--quote-all-identifiers", 0 },
	{ NULL, "--serializable-deferrable", 0 },
};

/* Why a known option is refused. */
static const struct {
	const char *s, *l, *why;
} refused[] = {
	{ "-f", "--file", "the dump must go to pgbak-run's pipe" },
	{ "-F", "--format", "set the format key" },
	{ "-j", "--jobs", "set the jobs key (format: directory)" },
	{ "-Z", "--compress", "the dump is compressed by the pipeline's own stage" },
	{ "-W", "--password", "the password goes in the entry's password key, never argv" },
	{ "-w", "--no-password", "pgbak-run gives it already" },
	{ "-d", "--dbname", "the entry's database key names it, and a connection string "
	    "could carry a password" },
	{ "-h", "--host", "set the entry's host key" },
	{ "-p", "--port", "set the entry's port key" },
	{ "-U", "--username", "set the entry's user key" },
	{ "-v", "--verbose", "its lines would crowd out pg_dump's errors" },
};

/* Whether arg is opt's short or long form; *inl: the value is attached. */
static int
is_opt(const char *arg, const char *s, const char *l, int *inl)
{
	size_t n = l ? strlen(l) : 0;

	*inl = 0;
	if (s && strncmp(arg, s, 2) == 0)
		return *inl = arg[2] != '\0', 1;
	if (l && strncmp(arg, l, n) == 0 && (arg[n] == '\0' || arg[n] == '='))
		return *inl = arg[n] == '=', 1;
	return 0;
}

/* One list: -1 with e naming the first option refused. */
static int
check_list(const struct conf *c, char **v, const char *where, int line, struct log_err *e)
{
	struct conf_at a = { line, 0 };
	size_t i, k;
	int inl;

	for (i = 0; v && v[i]; i++) {
		for (k = 0; k < sizeof refused / sizeof refused[0]; k++)
			if (is_opt(v[i], refused[k].s, refused[k].l, &inl))
				return conf_fail_at(c, a, e, "%s: %.64s is refused: %s", where,
				    v[i], refused[k].why);
		for (k = 0; k < sizeof allowed / sizeof allowed[0]; k++)
			if (is_opt(v[i], allowed[k].s, allowed[k].l, &inl))
				break;
		if (k == sizeof allowed / sizeof allowed[0] || (!allowed[k].arg && inl))
			return conf_fail_at(c, a, e, "%s: %.64s is not an option pgbak passes "
			    "to pg_dump (see pg_dump_options in pgbak.yaml(5))", where, v[i]);
		if (allowed[k].arg && !inl && v[++i] == NULL)
			return conf_fail_at(c, a, e, "%s: %.64s needs a value, as the next item",
			    where, v[i - 1]);
	}
	return 0;
}

int
dumpopts_check(const struct conf *c, struct log_err *e)
{
	char where[64];
	size_t i;

	if (check_list(c, c->pg_dump_options, "tasks.postgres.pg_dump_options", 0, e) < 0)
		return -1;
	for (i = 0; i < c->ndbs; i++) {
		snprintf(where, sizeof where, "tasks.postgres.dbs[%zu].pg_dump_options", i);
		if (check_list(c, c->dbs[i].pg_dump_options, where, c->dbs[i].line, e) < 0)
			return -1;
	}
	return 0;
}
