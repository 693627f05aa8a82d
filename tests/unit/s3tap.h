/* s3tap.h: the few TAP helpers the S3 unit tests share (header only). */
#ifndef PGBAK_S3TAP_H
#define PGBAK_S3TAP_H

#include <stdio.h>
#include <string.h>

static int tap_n, tap_failed;

/* static inline: a test that does not use one of them still builds under -Werror. */

static inline void
tap_ok(int cond, const char *desc)
{
	tap_n++;
	printf("%sok %d - %s\n", cond ? "" : "not ", tap_n, desc);
	if (!cond)
		tap_failed++;
}

static inline void
tap_is(const char *got, const char *want, const char *desc)
{
	int same = got != NULL && want != NULL ? strcmp(got, want) == 0 : got == want;

	tap_ok(same, desc);
	if (!same)
		printf("# got:    '%s'\n# wanted: '%s'\n", got ? got : "(null)",
		    want ? want : "(null)");
}

static inline void
tap_is_u64(unsigned long long got, unsigned long long want, const char *desc)
{
	tap_ok(got == want, desc);
	if (got != want)
		printf("# got:    %llu\n# wanted: %llu\n", got, want);
}

/* Print the plan last (allowed by TAP) and the exit status. */
static inline int
tap_done(void)
{
	printf("1..%d\n", tap_n);
	return tap_failed ? 1 : 0;
}

#endif
