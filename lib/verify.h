/*
 * verify: is a stream a whole gzip'd pg_dump?  The checks pgbak-verify(1)
 * makes, fed the compressed bytes in pieces of any size:
 *   - it is gzip (magic 1f 8b), one member or several concatenated;
 *   - every member inflates, and its CRC-32 and ISIZE trailer match (zlib
 *     answers Z_STREAM_END only after a good trailer);
 *   - the stream does not stop before the last trailer (truncation), and
 *     nothing but another member follows one (trailing data);
 *   - the SQL ends with pg_dump's or pg_dumpall's completion comment, so a
 *     dump cut off while pg_dump ran, yet gzip'd whole, is caught too.
 * Memory is fixed: one inflate state (about 40 KiB), an output buffer of
 * VERIFY_BUF bytes and the last VERIFY_TAIL bytes of SQL, never the whole.
 */
#ifndef PGBAK_VERIFY_H
#define PGBAK_VERIFY_H

#include <stddef.h>
#include <stdint.h>

#include <zlib.h>

#include "log.h"

#define VERIFY_TAIL 4096		/* bytes of SQL kept to find the completion line */
#define VERIFY_BUF (64 * 1024)		/* inflate's output, thrown away but the tail */

struct verify {
	uint64_t in;		/* compressed bytes fed */
	uint64_t out;		/* SQL bytes inflated */
	int members;		/* gzip members started */
	char why[256];		/* once damaged: how, one line */
	/* Set after verify_init when the bytes are an archive, not SQL
	 * (pgbak-verify's custom and directory formats): every byte out
	 * goes to sink, and no completion line is looked for. */
	void (*sink)(void *ctx, const void *p, size_t n);
	void *sink_ctx;

	/* private */
	z_stream z;
	int zinit;
	int state;
	unsigned char magic[2];	/* first bytes of a member not yet given to zlib */
	size_t nmagic;
	size_t tail_len;
	char tail[VERIFY_TAIL];
	unsigned char buf[VERIFY_BUF];
};

/* Ready v (about 70 KiB: allocate it, or keep it static).  0, or -1 with e. */
int verify_init(struct verify *v, struct log_err *e);

/* The next n compressed bytes: 0 go on, 1 damaged (v->why says how; the
 * rest need not be fed), -1 out of memory (e). */
int verify_feed(struct verify *v, const void *p, size_t n, struct log_err *e);

/* End of the stream: 0 a whole dump, 1 damaged (v->why). */
int verify_end(struct verify *v);

void verify_free(struct verify *v);

/* The SQL itself, for a backup the gzip checks do not apply to: the output
 * of zstd -d (pgbak-verify's zstd stage), or a dump stored uncompressed
 * (compression: none).  Feed it with verify_sql; verify_sql_end: 0 when it
 * ends with the completion line, 1 damaged (v->why). */
void verify_sql(struct verify *v, const void *p, size_t n);
int verify_sql_end(struct verify *v);

/* Whether SQL text ending with tail[0..n) ends like a complete pg_dump or
 * pg_dumpall output: the completion comment, then only "--" lines, blank
 * lines and pg_dump's closing \unrestrict line.  1 yes, 0 no. */
int verify_sql_complete(const char *tail, size_t n);

#endif
