/*
 * hdrval: the one rule for a value pgbak puts into an HTTP header or a
 * signed string (keys, tokens, region, KMS key id): no blank and no
 * control character, which would end the header or change what is signed.
 */
#ifndef PGBAK_HDRVAL_H
#define PGBAK_HDRVAL_H

#include <ctype.h>

/* 1 when s has a blank or a control character, else 0. */
static inline int
hdrval_unfit(const char *s)
{
	for (; *s; s++)
		if (isspace((unsigned char)*s) || iscntrl((unsigned char)*s))
			return 1;
	return 0;
}

#endif
