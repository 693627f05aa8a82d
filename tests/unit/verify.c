/*
 * Unit tests of lib/verify: a whole dump passes however it is cut into
 * pieces and however many gzip members hold it; every way it can be
 * damaged is caught and named (empty, not gzip, every truncation, CRC,
 * ISIZE, corrupt data, trailing data, a missing completion line); and the
 * completion-line rule on pg_dump's and pg_dumpall's real endings.
 */
#include <regex.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <zlib.h>

#include "tap.h"
#include "verify.h"

/* pg_dump 15.18's ending, \unrestrict line and all. */
static const char dump_end[] =
    "SET row_security = off;\n\n--\n-- PostgreSQL database dump complete\n--\n\n"
    "\\unrestrict hH0DQ0JaOTEp4X1gf78oEccFeOQu6PhsookcMnsEjzvkGoqdj1aj4JRknhFMzk5\n\n";

static void
bail(const char *what)
{
	printf("Bail out! %s\n", what);
	exit(1);
}

/* A plain dump of about n bytes: COPY rows with some noise, then dump_end. */
static char *
make_sql(size_t n, const char *end, size_t *len)
{
	static const char head[] = "--\n-- PostgreSQL database dump\n--\n\n"
	    "COPY public.t (g, s) FROM stdin;\n";
	size_t el = strlen(end), k = 0;
	char *p = malloc(n + sizeof head + el + 64);
	uint32_t x = 7;
	unsigned long row = 0;

	if (p == NULL)
		bail("malloc");
	memcpy(p, head, sizeof head - 1);
	k = sizeof head - 1;
	while (k < n) {
		x ^= x << 13, x ^= x >> 17, x ^= x << 5;
		k += (size_t)sprintf(p + k, "%lu\trow %u\n", row++, x % 100000);
	}
	k += (size_t)sprintf(p + k, "\\.\n\n");
	memcpy(p + k, end, el);
	*len = k + el;
	return p;
}

/* One gzip member of p[0..n), the way zlib's gzip wrapper writes it. */
static unsigned char *
gzip(const char *p, size_t n, size_t *zn)
{
	z_stream z;
	uLong cap;
	unsigned char *out;

	memset(&z, 0, sizeof z);
	if (deflateInit2(&z, 6, Z_DEFLATED, 16 + 15, 8, Z_DEFAULT_STRATEGY) != Z_OK)
		bail("deflateInit2");
	cap = deflateBound(&z, (uLong)n) + 64;
	if ((out = malloc(cap)) == NULL)
		bail("malloc");
	z.next_in = (unsigned char *)p;
	z.avail_in = (uInt)n;
	z.next_out = out;
	z.avail_out = (uInt)cap;
	if (deflate(&z, Z_FINISH) != Z_STREAM_END)
		bail("deflate");
	*zn = z.total_out;
	deflateEnd(&z);
	return out;
}

static struct verify v;
static char why[256];

/* Check z[0..n) fed in pieces of chunk bytes: 0 good, 1 damaged (why). */
static int
check(const unsigned char *z, size_t n, size_t chunk)
{
	struct log_err e;
	size_t off = 0, k;
	int rc = 0;

	if (verify_init(&v, &e) != 0)
		bail(e.msg);
	while (off < n && rc == 0) {
		k = n - off < chunk ? n - off : chunk;
		rc = verify_feed(&v, z + off, k, &e);
		if (rc < 0)
			bail(e.msg);
		off += k;
	}
	if (rc == 0)
		rc = verify_end(&v);
	snprintf(why, sizeof why, "%s", rc ? v.why : "");
	verify_free(&v);
	return rc;
}

/* The last damage message matches the extended regex re. */
static void
like_why(const char *re, const char *desc)
{
	regex_t r;
	int m;

	if (regcomp(&r, re, REG_EXTENDED | REG_NOSUB) != 0)
		bail("regcomp");
	m = regexec(&r, why, 0, NULL, 0) == 0;
	regfree(&r);
	if (!ok(m, "%s", desc))
		diag("\"%s\" does not match /%s/", why, re);
}

static unsigned char *
cat2(const unsigned char *a, size_t an, const unsigned char *b, size_t bn)
{
	unsigned char *p = malloc(an + bn + 1);

	if (p == NULL)
		bail("malloc");
	memcpy(p, a, an);
	if (bn)
		memcpy(p + an, b, bn);
	return p;
}

static void
good_streams(void)
{
	static const size_t chunks[] = { 1, 2, 3, 7, 100, 4096, 65536, 1 << 30 };
	size_t n, zn, zn2, i;
	char *sql = make_sql(300000, dump_end, &n);
	unsigned char *z = gzip(sql, n, &zn), *z2, *two;

	for (i = 0; i < sizeof chunks / sizeof chunks[0]; i++) {
		is_long(check(z, zn, chunks[i]), 0, "a whole dump fed %zu bytes at a time: good%s%s",
		    chunks[i], *why ? ": " : "", why);
		is_long((long long)v.in, (long long)zn, "...all %zu compressed bytes counted", zn);
		is_long((long long)v.out, (long long)n, "...all %zu bytes of SQL counted", n);
	}
	is_long(v.members, 1, "one member");

	/* The same SQL cut in two members: gunzip reads them as one stream. */
	z2 = gzip(sql + 1000, n - 1000, &zn2);
	free(z);
	z = gzip(sql, 1000, &zn);
	two = cat2(z, zn, z2, zn2);
	for (i = 0; i < sizeof chunks / sizeof chunks[0]; i++)
		is_long(check(two, zn + zn2, chunks[i]), 0,
		    "two members fed %zu bytes at a time: good%s%s", chunks[i],
		    *why ? ": " : "", why);
	is_long(v.members, 2, "two members counted");
	is_long((long long)v.out, (long long)n, "...and all the SQL");
	free(two);
	free(z2);
	free(z);
	free(sql);
}

static void
damaged_streams(void)
{
	size_t n, zn, zn2, i, bad_prefix = 0;
	char *sql = make_sql(20000, dump_end, &n), *cut;
	unsigned char *z = gzip(sql, n, &zn), *b, *z2;

	is_long(check(z, 0, 1), 1, "empty: damaged");
	like_why("^empty: 0 bytes", "empty: says so");
	is_long(check((const unsigned char *)"-- PostgreSQL", 13, 4), 1, "plain SQL: damaged");
	like_why("^not gzip", "plain SQL: not gzip");
	is_long(check((const unsigned char *)"\x1fx", 2, 1), 1, "1f then not 8b: damaged");
	like_why("^not gzip", "...not gzip");
	is_long(check((const unsigned char *)"\x1f", 1, 1), 1, "the first magic byte alone");
	like_why("^truncated: .* after 1 bytes$", "...is a truncated gzip");

	for (i = 1; i < zn; i++) {
		char want[128];

		snprintf(want, sizeof want, "truncated: the gzip stream ends before its "
		    "trailer after %zu bytes", i);
		if (check(z, i, i % 2 ? 4096 : 7) != 1 || strcmp(why, want) != 0) {
			if (!bad_prefix)
				diag("prefix of %zu bytes: \"%s\"", i, why);
			bad_prefix++;
		}
	}
	is_long((long long)bad_prefix, 0, "every one of the %zu prefixes is truncated at its length",
	    zn - 1);
	is_long(check(z, zn, 4096), 0, "...and the whole is good (the twin)");

	b = cat2(z, zn, NULL, 0);
	b[zn - 8] ^= 0x01;
	is_long(check(b, zn, 4096), 1, "a bit flipped in the CRC-32: damaged");
	is_str(why, "CRC mismatch in member 1", "...a CRC mismatch in member 1");
	b[zn - 8] ^= 0x01;
	b[zn - 2] ^= 0x40;
	is_long(check(b, zn, 4096), 1, "a bit flipped in ISIZE: damaged");
	like_why("^length mismatch in member 1", "...a length mismatch");
	b[zn - 2] ^= 0x40;
	for (i = 1; i <= 5; i++) {
		b[zn * i / 6] ^= 0xff;
		is_long(check(b, zn, 1000), 1, "a byte flipped at %zu of %zu: damaged", zn * i / 6,
		    zn);
		like_why("^(CRC mismatch|length mismatch|corrupt deflate data) in member 1",
		    "...as bad data in member 1");
		b[zn * i / 6] ^= 0xff;
	}
	b[3] = 0xe0;	/* reserved flag bits */
	is_long(check(b, zn, 4096), 1, "reserved header flags: damaged");
	like_why("^bad gzip header in member 1", "...a bad header");
	free(b);

	b = cat2(z, zn, (const unsigned char *)"garbage", 7);
	is_long(check(b, zn + 7, 4096), 1, "garbage after the member: damaged");
	like_why("^trailing data after the gzip stream, at byte [0-9]+ after member 1$",
	    "...trailing data");
	free(b);
	b = cat2(z, zn, (const unsigned char *)"\0\0\0\0", 4);
	is_long(check(b, zn + 4, 1), 1, "zeros after the member: damaged");
	like_why("^trailing data", "...trailing data too");
	free(b);
	b = cat2(z, zn, (const unsigned char *)"\x1f", 1);
	is_long(check(b, zn + 1, 4096), 1, "a lone 1f after the member: damaged");
	like_why("^trailing data", "...trailing data");
	free(b);
	b = cat2(z, zn, (const unsigned char *)"\x1f\x8b\x08", 3);
	is_long(check(b, zn + 3, 4096), 1, "the start of a second member: damaged");
	like_why("^truncated", "...a truncated stream");
	free(b);

	z2 = gzip(sql, n, &zn2);
	b = cat2(z, zn, z2, zn2);
	b[zn + zn2 - 7] ^= 0x10;
	is_long(check(b, zn + zn2, 333), 1, "a CRC flipped in the second member");
	is_str(why, "CRC mismatch in member 2", "...is named as member 2's");
	free(b);
	free(z2);

	/* pg_dump stopped, yet gzip'd whole: the last three lines missing. */
	cut = strstr(sql, "-- PostgreSQL database dump complete");
	free(z);
	z = gzip(sql, (size_t)(cut - sql), &zn);
	is_long(check(z, zn, 4096), 1, "a dump without its completion line: damaged");
	is_str(why, "the dump does not end with pg_dump's completion line (cut off or "
	    "failed dump?)", "...says the completion line is missing");
	free(z);
	z = gzip(sql, n - 200, &zn);
	is_long(check(z, zn, 4096), 1, "a dump cut in the middle of a line: damaged");
	free(z);
	z = gzip("", 0, &zn);
	is_long(check(z, zn, 4096), 1, "a gzip of nothing: damaged");
	like_why("completion line", "...no completion line");
	free(z);
	free(sql);
}

static void
completion(void)
{
	static const struct {
		int want;
		const char *why, *text;
	} t[] = {
		{ 1, "pg_dump 15.18", dump_end },
		{ 1, "pg_dump before \\restrict", "SET x;\n\n--\n-- PostgreSQL database dump "
		    "complete\n--\n\n" },
		{ 1, "pg_dumpall", "\n--\n-- PostgreSQL database cluster dump complete\n--\n\n" },
		{ 1, "no newline at the end", "\n-- PostgreSQL database dump complete" },
		{ 1, "CRLF line ends", "x\r\n--\r\n-- PostgreSQL database dump complete\r\n--\r\n" },
		{ 1, "trailing blanks", "x\n-- PostgreSQL database dump complete  \n \t\n\n\n" },
		{ 0, "nothing", "" },
		{ 0, "only blank lines", "\n\n  \n" },
		{ 0, "the line is the whole text (its start unseen)",
		    "-- PostgreSQL database dump complete\n" },
		{ 0, "not at a line start", "\nx-- PostgreSQL database dump complete\n" },
		{ 0, "indented", "\n -- PostgreSQL database dump complete\n" },
		{ 0, "SQL after it", "\n-- PostgreSQL database dump complete\n--\nSELECT 1;\n" },
		{ 0, "two \\unrestrict lines", "\n-- PostgreSQL database dump complete\n--\n\n"
		    "\\unrestrict a\n\\unrestrict b\n" },
		{ 0, "\\unrestrict without a key", "\n-- PostgreSQL database dump complete\n"
		    "\\unrestrict \n" },
		{ 0, "the opening comment", "--\n-- PostgreSQL database dump\n--\n\n" },
		{ 0, "one character short", "\n-- PostgreSQL database dump complet\n" },
		{ 0, "cut in COPY data", "COPY t (a) FROM stdin;\n1\n2\n3" },
		{ 0, "a comment other than --", "\n-- PostgreSQL database dump complete\n-- x\n" },
	};
	size_t i;

	for (i = 0; i < sizeof t / sizeof t[0]; i++)
		is_long(verify_sql_complete(t[i].text, strlen(t[i].text)), t[i].want,
		    "completion line: %s: %s", t[i].why, t[i].want ? "complete" : "not");
}

/* The tail window: a completion line just inside it, and one pushed out. */
static void
tail_window(void)
{
	size_t n, zn, pad;
	char *sql, end[VERIFY_TAIL + 256];
	unsigned char *z;

	for (pad = VERIFY_TAIL - 200; pad <= VERIFY_TAIL + 100; pad += 150) {
		memcpy(end, "\n-- PostgreSQL database dump complete\n", 38);
		memset(end + 38, '\n', pad);
		end[38 + pad] = '\0';
		sql = make_sql(100000, end, &n);
		z = gzip(sql, n, &zn);
		is_long(check(z, zn, 511), 38 + pad <= VERIFY_TAIL ? 0 : 1,
		    "completion line then %zu blank bytes: %s", pad,
		    38 + pad <= VERIFY_TAIL ? "seen in the tail" : "out of the tail");
		free(z);
		free(sql);
	}
}

int
main(void)
{
	good_streams();
	damaged_streams();
	completion();
	tail_window();
	return tap_done();
}
