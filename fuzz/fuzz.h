/*
 * fuzz.h: what both harnesses check.  Written apart from lib/ on purpose:
 * an oracle that shared the code under test would agree with its bugs.
 */
#ifndef PGBAK_FUZZ_H
#define PGBAK_FUZZ_H

/* Whether s holds a byte that would break a one-line message. */
static inline int
fuzz_has_control(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return 1;
	return 0;
}

#endif
