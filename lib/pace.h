/*
 * pace: max_rate, a cap on the bytes per second of all of a program's S3
 * transfers together, kept in one place.  Every byte sent passes s3xfer's
 * read callback and every byte received its write callback, on the one
 * thread that drives all the parts in flight; each asks pace how long to
 * wait.  So the sum over the parallel parts is capped, not each of them,
 * and a part that starts, ends or is retried changes nothing.
 *
 * A virtual clock: `due` is when the bytes counted so far may all have
 * gone at the rate; a caller ahead of it waits the difference.  Idle time
 * (waiting for the input, for an answer) earns at most PACE_BURST_NS of
 * credit, so a pause is not followed by a burst above the cap.
 */
#ifndef PGBAK_PACE_H
#define PGBAK_PACE_H

#include <stddef.h>
#include <stdint.h>

#define PACE_BURST_NS 50000000LL	/* credit an idle moment may earn: 50 ms */

struct pace {
	uint64_t rate;		/* bytes per second; 0: no cap */
	long long due;		/* ns on the caller's clock (CLOCK_MONOTONIC) */
};

/* How many of want bytes to move before asking pace_take again: about
 * 50 ms worth, so no wait is long and the pace is even. */
size_t pace_chunk(const struct pace *p, size_t want);

/* Count n bytes moved at now (ns); the ns to wait before moving more. */
long long pace_take(struct pace *p, size_t n, long long now);

#endif
