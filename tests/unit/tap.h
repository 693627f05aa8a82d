/*
 * tap.h: the few TAP helpers pgbak's C unit tests share (header-only).
 * Each test is a program: call ok()/is_str()/is_long(), end with
 * "return tap_done();", which prints the plan "1..N" and fails when any did.
 */
#ifndef PGBAK_TAP_H
#define PGBAK_TAP_H

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static int tap_n, tap_failed;

/* ok: cond true passes; the description is a printf format. */
static inline int
tap_vok(int cond, const char *fmt, va_list ap)
{
	tap_n++;
	if (!cond)
		tap_failed++;
	printf("%sok %d - ", cond ? "" : "not ", tap_n);
	vprintf(fmt, ap);
	putchar('\n');
	fflush(stdout);
	return cond;
}

static inline int ok(int cond, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static inline int
ok(int cond, const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = tap_vok(cond, fmt, ap);
	va_end(ap);
	return r;
}

/* "# ..." lines that prove shows with -v and on failure. */
static inline void diag(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static inline void
diag(const char *fmt, ...)
{
	va_list ap;

	fputs("# ", stdout);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
}

/* Strings equal (NULL equals only NULL). */
static inline int is_str(const char *got, const char *want, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static inline int
is_str(const char *got, const char *want, const char *fmt, ...)
{
	va_list ap;
	int r, same = got && want ? strcmp(got, want) == 0 : got == want;

	va_start(ap, fmt);
	r = tap_vok(same, fmt, ap);
	va_end(ap);
	if (!same)
		diag("got \"%s\", wanted \"%s\"", got ? got : "(null)", want ? want : "(null)");
	return r;
}

static inline int is_long(long long got, long long want, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static inline int
is_long(long long got, long long want, const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = tap_vok(got == want, fmt, ap);
	va_end(ap);
	if (got != want)
		diag("got %lld, wanted %lld", got, want);
	return r;
}

static inline int
tap_done(void)
{
	printf("1..%d\n", tap_n);
	return tap_failed != 0;
}

#endif
