/*
 * s3plan: the sizes of the parts of a multipart upload.
 *
 * A stream of unknown length starts with S3_PART_FIRST parts, so memory
 * stays at a few parts for ordinary backups, and the size doubles every
 * `step` parts so that max_parts parts still reach S3's 5 TiB object limit.
 * step is the largest that does; when no step can (max_parts too small),
 * the size doubles every max_parts/10 parts.  A part_size setting or a
 * known size (--expected-size, a regular file) gives parts of one size
 * instead, the smallest that fits, at least S3_PART_MIN.
 */
#ifndef PGBAK_S3PLAN_H
#define PGBAK_S3PLAN_H

#include <stdint.h>

#include "log.h"

struct s3_plan {
	uint64_t first;		/* size of part 1: input shorter than this is one PUT */
	int step;		/* parts between doublings; 0: every part is `first` */
	int max_parts;
};

/* part_size (0: grow) and max_parts from the settings; expected: the input's
 * size when known (has_expected).  EXIT_USAGE when they cannot work. */
int s3_plan_init(struct s3_plan *p, uint64_t part_size, int max_parts,
    int has_expected, uint64_t expected, struct log_err *e);

/* Size of part n (1-based); 0 when n > max_parts. */
uint64_t s3_plan_part(const struct s3_plan *p, int n);

/* Bytes max_parts parts hold. */
uint64_t s3_plan_reach(const struct s3_plan *p);

#endif
