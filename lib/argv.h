/*
 * argv: a child's command line, built once and used both to run it (spawn)
 * and to print it (-n, -v), so what a dry run shows cannot drift from what
 * runs.  pgbak-run's and pgbak-restore's builders (their argv.c) fill a
 * zeroed struct argv with argv_add; a failure is remembered and returned
 * once, by argv_done.  No secret goes in an argv.
 */
#ifndef PGBAK_ARGV_H
#define PGBAK_ARGV_H

#include <stddef.h>
#include <stdio.h>

struct argv {
	char **v;		/* NULL-terminated */
	size_t n, cap;
	int oom;
};

/* A struct argv released when it goes out of scope, whatever the return. */
#define ARGV_AUTO __attribute__((cleanup(argv_free)))

/* Append a copy of s; NULL (a program not resolved) or no memory is
 * remembered: the builder's argv_done then fails. */
void argv_add(struct argv *a, const char *s);
void argv_addf(struct argv *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* A builder's end: 0, or -1 out of memory (and a is released). */
int argv_done(struct argv *a);

void argv_free(struct argv *a);

/* The command line as a shell would need it, for showing only. */
void argv_show(FILE *f, char *const *v);
void argv_quote(FILE *f, const char *s);

#endif
