/*
 * gz: parallel gzip compression on zlib, the way pigz does it.
 *
 * The input is cut into blocks; worker threads deflate the blocks at the
 * same time, each primed with the last 32 KiB of the block before it, so
 * the ratio stays within a hair of gzip's.  A writer thread puts the
 * pieces out in order as ONE ordinary gzip member (RFC 1952): any gunzip
 * reads it.  Memory is a fixed pool of buffers (see gz_memory), never
 * proportional to the input.
 *
 * The trailer (CRC-32 and length) is written only after the input ended
 * cleanly: a failed read leaves an output that no gunzip accepts.
 */
#ifndef PGBAK_GZ_H
#define PGBAK_GZ_H

#include <stddef.h>
#include <stdint.h>

#include "log.h"

#define GZ_LEVEL_DEFAULT 6
#define GZ_BLOCK_DEFAULT ((size_t)128 << 10)	/* bytes of input per block */
#define GZ_BLOCK_MIN ((size_t)32 << 10)		/* one deflate window */
#define GZ_BLOCK_MAX ((size_t)64 << 20)
#define GZ_THREADS_MAX 256

struct gz_opts {
	int level;		/* 1..9; 0: GZ_LEVEL_DEFAULT */
	int threads;		/* compressing threads, 1..GZ_THREADS_MAX; 0: gz_threads() */
	size_t block;		/* GZ_BLOCK_MIN..GZ_BLOCK_MAX; 0: GZ_BLOCK_DEFAULT */
	const char *in_name;	/* for messages; NULL: "input" */
	const char *out_name;	/* for messages; NULL: "output" */
};

struct gz_stats {
	uint64_t bytes_in;	/* read from in_fd */
	uint64_t bytes_out;	/* written to out_fd, header and trailer included */
};

/*
 * Compress everything read from in_fd until end of file into one gzip
 * member written to out_fd.  o may be NULL (all defaults), st may be NULL.
 * Returns 0, or -1 with e filled: EXIT_USAGE for bad options, EXIT_TEMP for
 * a read or write failure (EPIPE included: ignore SIGPIPE to get it) or a
 * lack of memory.  Both descriptors stay open.  When in_fd or out_fd is a
 * pipe, its buffer is grown (best effort) for throughput.
 */
int gz_compress(int in_fd, int out_fd, const struct gz_opts *o, struct gz_stats *st,
    struct log_err *e);

/* The default thread count: the number of online CPUs (at least 1). */
int gz_threads(void);

/* Upper bound of the memory gz_compress allocates with these settings. */
uint64_t gz_memory(int threads, size_t block);

#endif
