/*
 * pgbak-prune's parts:
 *   main.c     the command line
 *   target.c   the series to prune, from the arguments or the settings
 *   prune.c    one series: list, judge, delete
 */
#ifndef PGBAK_PRUNE_H
#define PGBAK_PRUNE_H

#include <stddef.h>

#include "conf.h"
#include "keep.h"
#include "log.h"

struct s3;

/* One series of backups to prune. */
struct target {
	char *stem;		/* the key before the date: "dir/base-" */
	char *key;		/* the key given, which must be listed; NULL: none */
	const char *what;	/* for messages: the argument or the database */
	struct keep_policy pol;
};

/* target.c: the series, in the order given; add_target and
 * settings_targets die on what cannot be pruned */
extern struct target *targets;
extern size_t ntargets;
int arg_stem(const char *arg, char **stem, char **key, struct log_err *e);
void add_target(char *stem, char *key, const char *what, const struct keep_policy *pol);
void settings_targets(const struct conf *c, char **args, int nargs,
    const struct keep_policy *flags);

/* prune.c: judge and prune one series; print the plan when dry or verbose */
int prune(struct s3 *s, const struct target *t, const char *today, int dry,
    struct log_err *e);

#endif
