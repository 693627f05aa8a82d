/*
 * arc: pgbak-verify's check of what a custom or directory backup holds,
 * once the compression is checked (lib/verify for gzip, vz for zstd, none
 * for .dump and .tar): fed the archive's bytes in pieces of any size, in
 * fixed memory.
 *   custom (.dump*): pg_dump's archive header, "PGDMP", a version and the
 *     custom format's number.  The data blocks are pg_restore's to read.
 *   directory (.tar*): a whole tar stream: every header's checksum, every
 *     member's data there, the end-of-archive blocks, and a member
 *     toc.dat, pg_dump's table of contents, without which pg_restore
 *     restores nothing.
 */
#ifndef PGBAK_ARC_H
#define PGBAK_ARC_H

#include <stddef.h>
#include <stdint.h>

#define ARC_BLOCK 512

enum { ARC_CUSTOM, ARC_TAR };

struct arc {
	int kind;
	unsigned char hdr[ARC_BLOCK];	/* the header (or custom's first bytes) being read */
	size_t nhdr;
	uint64_t skip;		/* tar: bytes of the current member (and padding) to come */
	uint64_t members;
	int zeros;		/* tar: end-of-archive blocks seen */
	int toc;		/* tar: toc.dat seen */
	int bad;
	char why[256];
};

void arc_init(struct arc *a, int kind);
/* lib/verify's sink (ctx: the struct arc) */
void arc_feed(void *ctx, const void *p, size_t n);
/* 0 a whole archive, 1 damaged (a->why) */
int arc_end(struct arc *a);

#endif
