/*
 * pgbak-ls's parts: which keys are backups (collect.c), in what order and
 * how they are printed (show.c).
 */
#ifndef PGBAK_LS_H
#define PGBAK_LS_H

#include <stddef.h>
#include <stdint.h>

#include "log.h"
#include "s3.h"

/* One backup listed, in one allocation (the key at its end): what is
 * printed and nothing else, as a prefix may hold many thousands. */
struct ls_entry {
	uint64_t size;
	char date[9];		/* YYYYMMDD of the key */
	char modified[25];	/* LastModified, "2025-09-09T10:00:00.000Z" */
	char storage_class[24];
	unsigned char flags;	/* NAME_AGE, NAME_GLOBALS */
	char key[];
};

/* What is listed: under each stem of a database's series (dump and
 * globals), or every backup key under a prefix. */
struct ls_set {
	char **stems;		/* DATABASE: the series' stems; NULL: a prefix */
	size_t nstems;
	const char *cur;	/* the stem being listed; NULL: a prefix */
	size_t max;		/* entries we agree to keep; 0: no limit */
	struct ls_entry **v;
	size_t n, cap;
	int nomem;
};

/* Add stem to s's stems (once); 0, or -1 out of memory. */
int ls_add_stem(struct ls_set *s, char *stem);

/* List prefix (every stem's own listing, for a database) into s.
 * 0, or -1 with e. */
int ls_collect(struct s3 *c, struct ls_set *s, const char *prefix, struct log_err *e);

/* Newest first: the key's date, then LastModified, then the key. */
void ls_sort(struct ls_set *s);

void ls_free(struct ls_set *s);

enum ls_format { LS_TEXT, LS_JSON };

/* Print s's entries; with lock, one HEAD per object for its lock-until.
 * 0, or -1 with e (an S3 failure; standard output is main's to judge). */
int ls_show(struct s3 *c, const struct ls_set *s, enum ls_format f, int lock,
    struct log_err *e);

#endif
