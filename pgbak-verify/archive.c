/* archive: the custom and directory formats' checks (see arc.h). */
#include <stdio.h>
#include <string.h>

#include "arc.h"

/* pg_dump's archive header: "PGDMP", major, minor, revision, int size,
 * offset size, then the format (pg_backup_archiver.h: archCustom is 1). */
#define PGDMP_MAGIC "PGDMP"
#define PGDMP_HEAD 11
#define PGDMP_FORMAT_AT 10
#define PGDMP_CUSTOM 1

/* A ustar header: where its fields are (POSIX tar). */
#define TAR_NAME 0
#define TAR_SIZE 124
#define TAR_CHKSUM 148
#define TAR_TYPE 156
#define TAR_MAGIC 257
#define TAR_PREFIX 345

static void
damaged(struct arc *a, const char *why)
{
	if (!a->bad)
		snprintf(a->why, sizeof a->why, "%s", why);
	a->bad = 1;
}

void
arc_init(struct arc *a, int kind)
{
	memset(a, 0, sizeof *a);
	a->kind = kind;
}

/* An octal field of a tar header; -1 when it is not one. */
static long long
octal(const unsigned char *f, size_t n)
{
	long long v = 0;
	size_t i = 0;

	while (i < n && f[i] == ' ')
		i++;
	if (i == n || f[i] < '0' || f[i] > '7')
		return -1;
	for (; i < n && f[i] >= '0' && f[i] <= '7'; i++)
		v = v * 8 + (f[i] - '0');
	return v;
}

/* A member's name is toc.dat (tar -C DIR -cf - . writes "./toc.dat"). */
static int
is_toc(const unsigned char *h)
{
	char name[101];

	if (h[TAR_PREFIX] != '\0')
		return 0;
	memcpy(name, h + TAR_NAME, 100);
	name[100] = '\0';
	return strcmp(name, "./toc.dat") == 0 || strcmp(name, "toc.dat") == 0;
}

/* One 512-byte header block. */
static void
header(struct arc *a)
{
	const unsigned char *h = a->hdr;
	long long size, sum;
	unsigned long mine = 0;
	size_t i;
	int zero = 1;

	for (i = 0; i < ARC_BLOCK && zero; i++)
		zero = h[i] == 0;
	if (zero) {
		a->zeros++;
		return;
	}
	if (a->zeros) {
		damaged(a, "not a whole tar stream: data after its end-of-archive block");
		return;
	}
	if (memcmp(h + TAR_MAGIC, "ustar", 5) != 0) {
		damaged(a, a->members ? "not a whole tar stream: a member header without "
		    "the ustar magic" : "not a tar stream: no ustar magic at its start");
		return;
	}
	for (i = 0; i < ARC_BLOCK; i++)
		mine += i >= TAR_CHKSUM && i < TAR_CHKSUM + 8 ? ' ' : h[i];
	sum = octal(h + TAR_CHKSUM, 8);
	size = octal(h + TAR_SIZE, 12);
	if (sum < 0 || (unsigned long)sum != mine || size < 0) {
		damaged(a, "damaged tar stream: a member header's checksum does not match");
		return;
	}
	a->members++;
	if (is_toc(h))
		a->toc = 1;
	a->skip = ((uint64_t)size + ARC_BLOCK - 1) / ARC_BLOCK * ARC_BLOCK;
}

void
arc_feed(void *ctx, const void *p, size_t n)
{
	struct arc *a = ctx;
	const unsigned char *b = p;
	size_t k;

	while (n > 0 && !a->bad) {
		if (a->kind == ARC_CUSTOM) {
			if (a->nhdr >= PGDMP_HEAD)
				return;	/* the header is all we read */
			k = PGDMP_HEAD - a->nhdr < n ? PGDMP_HEAD - a->nhdr : n;
			memcpy(a->hdr + a->nhdr, b, k);
			a->nhdr += k, b += k, n -= k;
			continue;
		}
		if (a->skip > 0) {
			k = a->skip < n ? (size_t)a->skip : n;
			a->skip -= k, b += k, n -= k;
			continue;
		}
		k = ARC_BLOCK - a->nhdr < n ? ARC_BLOCK - a->nhdr : n;
		memcpy(a->hdr + a->nhdr, b, k);
		a->nhdr += k, b += k, n -= k;
		if (a->nhdr == ARC_BLOCK) {
			a->nhdr = 0;
			header(a);
		}
	}
}

int
arc_end(struct arc *a)
{
	if (a->bad)
		return 1;
	if (a->kind == ARC_CUSTOM) {
		if (a->nhdr < PGDMP_HEAD || memcmp(a->hdr, PGDMP_MAGIC, 5) != 0)
			damaged(a, "not a pg_dump custom archive: it does not start with PGDMP");
		else if (a->hdr[PGDMP_FORMAT_AT] != PGDMP_CUSTOM)
			damaged(a, "a pg_dump archive, but not of the custom format");
		return a->bad;
	}
	if (a->members == 0 && a->zeros == 0)
		damaged(a, "empty: not even a tar header");
	else if (a->skip > 0 || a->nhdr > 0)
		damaged(a, "truncated: the tar stream ends inside a member");
	else if (a->zeros == 0)
		damaged(a, "truncated: the tar stream has no end-of-archive block");
	else if (!a->toc)
		damaged(a, "the tar stream has no toc.dat: not a pg_dump directory");
	return a->bad;
}
