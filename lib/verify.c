/*
 * verify: the checks of pgbak-verify (see verify.h).
 *
 * zlib inflates each member with windowBits 16+15 (gzip only, no zlib or
 * raw streams).  Before a member the first two bytes are looked at here:
 * 1f 8b starts a member; anything else is "not gzip" at the start of the
 * stream and "trailing data" after a member.  They are held back until both
 * are seen, as a piece may end between them.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "verify.h"

enum { V_MEMBER_NEXT, V_MEMBER, V_BAD };

static const char *const complete_lines[] = {
	"-- PostgreSQL database dump complete",
	"-- PostgreSQL database cluster dump complete",
};

int
verify_init(struct verify *v, struct log_err *e)
{
	memset(v, 0, sizeof *v);
	v->state = V_MEMBER_NEXT;
	if (inflateInit2(&v->z, 16 + MAX_WBITS) != Z_OK)
		return log_fail(e, EXIT_TEMP, "unable to start zlib's inflate: out of memory");
	v->zinit = 1;
	return 0;
}

void
verify_free(struct verify *v)
{
	if (v->zinit)
		inflateEnd(&v->z);
	v->zinit = 0;
}

static int
bad(struct verify *v, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int
bad(struct verify *v, const char *fmt, ...)
{
	va_list ap;

	v->state = V_BAD;
	va_start(ap, fmt);
	vsnprintf(v->why, sizeof v->why, fmt, ap);
	va_end(ap);
	return 1;
}

/* Keep the last VERIFY_TAIL bytes of the SQL. */
static void
keep_tail(struct verify *v, const unsigned char *p, size_t n)
{
	size_t keep;

	if (n >= VERIFY_TAIL) {
		memcpy(v->tail, p + n - VERIFY_TAIL, VERIFY_TAIL);
		v->tail_len = VERIFY_TAIL;
		return;
	}
	keep = VERIFY_TAIL - n < v->tail_len ? VERIFY_TAIL - n : v->tail_len;
	memmove(v->tail, v->tail + v->tail_len - keep, keep);
	memcpy(v->tail + keep, p, n);
	v->tail_len = keep + n;
}

/* Bytes out of the compression: to the sink, else the SQL's tail. */
static void
take(struct verify *v, const unsigned char *p, size_t n)
{
	if (v->sink)
		v->sink(v->sink_ctx, p, n);
	else
		keep_tail(v, p, n);
}

/* What a Z_DATA_ERROR means, in the words of pgbak-verify(1). */
static int
data_error(struct verify *v, uint64_t at)
{
	const char *m = v->z.msg ? v->z.msg : "corrupt data";

	if (strcmp(m, "incorrect data check") == 0)
		return bad(v, "CRC mismatch in member %d", v->members);
	if (strcmp(m, "incorrect length check") == 0)
		return bad(v, "length mismatch in member %d: its ISIZE is not the length "
		    "of its data", v->members);
	if (strstr(m, "header") || strcmp(m, "unknown compression method") == 0)
		return bad(v, "bad gzip header in member %d: %s", v->members, m);
	return bad(v, "corrupt deflate data in member %d near byte %llu: %s", v->members,
	    (unsigned long long)at, m);
}

/* Inflate p[0..n) of the current member; *used: bytes zlib took. */
static int
inflate_some(struct verify *v, const unsigned char *p, size_t n, size_t *used,
    struct log_err *e)
{
	uint64_t start = v->in;	/* stream offset of p[0] */
	size_t got;
	int rc;

	v->z.next_in = (unsigned char *)p;
	v->z.avail_in = (uInt)n;
	for (;;) {
		v->z.next_out = v->buf;
		v->z.avail_out = sizeof v->buf;
		rc = inflate(&v->z, Z_NO_FLUSH);
		got = sizeof v->buf - v->z.avail_out;
		if (got > 0) {
			take(v, v->buf, got);
			v->out += got;
		}
		*used = n - v->z.avail_in;
		if (rc == Z_STREAM_END) {
			v->state = V_MEMBER_NEXT;
			v->nmagic = 0;
			return 0;
		}
		if (rc == Z_DATA_ERROR || rc == Z_NEED_DICT)
			return data_error(v, start + *used);
		if (rc == Z_MEM_ERROR) {
			errno = ENOMEM;
			log_fail_sys(e, EXIT_TEMP, "unable to inflate");
			return -1;
		}
		/* Z_OK or Z_BUF_ERROR: room left means zlib took all it could */
		if (v->z.avail_out != 0)
			return 0;
	}
}

int
verify_feed(struct verify *v, const void *data, size_t n, struct log_err *e)
{
	const unsigned char *p = data;
	static const unsigned char gzmagic[2] = { 0x1f, 0x8b };
	size_t used, chunk;
	int rc;

	while (n > 0) {
		if (v->state == V_BAD)
			return 1;
		if (v->state == V_MEMBER_NEXT) {
			if (*p != gzmagic[v->nmagic]) {
				if (v->members == 0)
					return bad(v, "not gzip: it does not start with the gzip "
					    "magic bytes 1f 8b");
				return bad(v, "trailing data after the gzip stream, at byte %llu "
				    "after member %d", (unsigned long long)(v->in - v->nmagic),
				    v->members);
			}
			v->magic[v->nmagic++] = *p++;
			n--;
			v->in++;
			if (v->nmagic < 2)
				continue;
			if (v->members > 0 && inflateReset(&v->z) != Z_OK)
				return log_fail(e, EXIT_TEMP, "unable to restart zlib's inflate");
			v->members++;
			v->state = V_MEMBER;
			v->in -= 2;	/* counted again as they go through zlib */
			if ((rc = inflate_some(v, v->magic, 2, &used, e)) != 0)
				return rc;
			v->in += used;
			continue;
		}
		chunk = n > (uInt)-1 ? (uInt)-1 : n;
		rc = inflate_some(v, p, chunk, &used, e);
		v->in += used;
		p += used;
		n -= used;
		if (rc != 0)
			return rc;
		if (used == 0 && v->state == V_MEMBER)
			return bad(v, "corrupt deflate data in member %d near byte %llu: "
			    "inflate makes no progress", v->members, (unsigned long long)v->in);
	}
	return v->state == V_BAD;
}

/* 0 when the SQL seen ends with the completion line, else 1 (v->why). */
static int
ends_complete(struct verify *v)
{
	if (v->sink)
		return 0;	/* an archive: the sink's owner judges it */
	if (!verify_sql_complete(v->tail, v->tail_len))
		return bad(v, "the dump does not end with pg_dump's completion line "
		    "(cut off or failed dump?)");
	return 0;
}

int
verify_end(struct verify *v)
{
	if (v->state == V_BAD)
		return 1;
	if (v->in == 0)
		return bad(v, "empty: 0 bytes, not even a gzip header");
	if (v->state == V_MEMBER || (v->members == 0 && v->nmagic > 0))
		return bad(v, "truncated: the gzip stream ends before its trailer after "
		    "%llu bytes", (unsigned long long)v->in);
	if (v->nmagic > 0)
		return bad(v, "trailing data after the gzip stream, at byte %llu after "
		    "member %d", (unsigned long long)(v->in - v->nmagic), v->members);
	return ends_complete(v);
}

void
verify_sql(struct verify *v, const void *p, size_t n)
{
	take(v, p, n);
	v->out += n;
}

int
verify_sql_end(struct verify *v)
{
	if (v->state == V_BAD)
		return 1;
	if (v->out == 0)
		return bad(v, "empty: 0 bytes of SQL");
	return ends_complete(v);
}

static int
is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' || c == '\v';
}

static int
line_is(const char *line, size_t n, const char *want)
{
	return n == strlen(want) && memcmp(line, want, n) == 0;
}

int
verify_sql_complete(const char *t, size_t n)
{
	size_t end = n, start, i;
	int unrestrict = 0;

	for (;;) {
		while (end > 0 && is_space(t[end - 1]))
			end--;
		if (end == 0)
			return 0;
		for (start = end; start > 0 && t[start - 1] != '\n'; start--)
			;
		if (start == 0)
			return 0;	/* its beginning is not in view: never a whole dump */
		if (line_is(t + start, end - start, "--")) {
			end = start;
			continue;
		}
		if (!unrestrict && end - start > 12 && memcmp(t + start, "\\unrestrict ", 12) == 0) {
			unrestrict = 1;
			end = start;
			continue;
		}
		for (i = 0; i < sizeof complete_lines / sizeof complete_lines[0]; i++)
			if (line_is(t + start, end - start, complete_lines[i]))
				return 1;
		return 0;
	}
}
