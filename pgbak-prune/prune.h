/*
 * pgbak-prune's parts:
 *   main.c     the command line
 *   target.c   the series to prune, from the arguments or the settings
 *   prune.c    one series: list, judge, delete
 *   versions.c the same in a versioned bucket: every version of a key
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

/* One version of a backup in a versioned bucket: data or a delete marker. */
struct bver {
	char *id;
	int marker;
};

/* One backup of a series: a key, and in a versioned bucket its versions. */
struct backup {
	char *key;
	char date[9];
	char last_modified[40];
	struct bver *v;		/* newest first; none in an unversioned bucket */
	size_t nv;
	int hidden;		/* its current entry is a delete marker */
	unsigned why;		/* lib/keep's reasons; 0: it goes */
	char locked[24];	/* a version's lock outlives the prune: until when */
};

/* The backups of one series, as listed. */
struct series {
	const struct target *t;
	struct backup *v;
	size_t n, cap;
	size_t entries;		/* backups and versions, against BACKUPS_MAX */
	int nomem;
};

#define BACKUPS_MAX 1000000	/* backups (or versions) of one database we agree to judge */

/* prune.c: judge and prune one series (versioned: every version of each
 * backup, versions.c); print the plan when dry or verbose */
int prune(struct s3 *s, const struct target *t, const char *today, int dry, int versioned,
    struct log_err *e);
/* The backup key names in sr, added (NULL: not one of the series' backups,
 * or *stop set: out of memory or too many). */
struct backup *series_add(struct series *sr, const char *key, const char *last_modified,
    int *stop);

/* versions.c: list the series with every version; delete every version of
 * the backups gone (n of them), a locked one kept and said so (*locked
 * counts those backups) */
int versions_list(struct s3 *s, struct series *sr, struct log_err *e);
int versions_delete(struct s3 *s, struct backup **gone, size_t n, size_t *locked,
    struct log_err *e);
void versions_print(const struct backup *b);

#endif
