/* s3plan: part sizes of a multipart upload (see s3plan.h). */
#include "s3cfg.h"
#include "s3plan.h"

uint64_t
s3_plan_part(const struct s3_plan *p, int n)
{
	int doublings;

	if (n < 1 || n > p->max_parts)
		return 0;
	if (p->step == 0)
		return p->first;
	doublings = (n - 1) / p->step;
	if (doublings >= 10 || (p->first << doublings) > S3_PART_MAX)
		return S3_PART_MAX;
	return p->first << doublings;
}

uint64_t
s3_plan_reach(const struct s3_plan *p)
{
	uint64_t sum = 0;
	int n;

	for (n = 1; n <= p->max_parts; n++)
		sum += s3_plan_part(p, n);
	return sum;
}

int
s3_plan_init(struct s3_plan *p, uint64_t part_size, int max_parts,
    int has_expected, uint64_t expected, struct log_err *e)
{
	int lo, hi, mid;

	if (max_parts < 1 || max_parts > S3_PARTS_MAX)
		return log_fail(e, EXIT_USAGE, "max_parts %d: want 1 to %d", max_parts,
		    S3_PARTS_MAX);
	if (part_size && (part_size < S3_PART_MIN || part_size > S3_PART_MAX))
		return log_fail(e, EXIT_USAGE, "part size %llu: want 5 MiB to 5 GiB",
		    (unsigned long long)part_size);
	p->max_parts = max_parts;
	p->step = 0;
	if (has_expected && expected > S3_OBJECT_MAX)
		return log_fail(e, EXIT_USAGE, "expected size %llu is over S3's 5 TiB object "
		    "limit", (unsigned long long)expected);
	if (part_size) {
		p->first = part_size;
	} else if (has_expected) {
		/*
		 * The smallest whole MiB that fits expected into max_parts, at
		 * least S3's minimum: memory is parts in flight x this, and
		 * with the size known no room is needed for growth.
		 */
		p->first = (expected + (uint64_t)max_parts - 1) / (uint64_t)max_parts;
		p->first = (p->first + (1 << 20) - 1) & ~(uint64_t)((1 << 20) - 1);
		if (p->first < S3_PART_MIN)
			p->first = S3_PART_MIN;
		if (p->first > S3_PART_MAX)
			return log_fail(e, EXIT_USAGE, "expected size %llu does not fit into %d "
			    "parts of at most 5 GiB", (unsigned long long)expected, max_parts);
	} else {
		p->first = S3_PART_FIRST;
		/* the largest step that still reaches 5 TiB: reach falls as step grows */
		lo = 1;
		hi = max_parts;
		p->step = 1;
		if (s3_plan_reach(p) < S3_OBJECT_MAX) {
			p->step = max_parts / 10 > 0 ? max_parts / 10 : 1;
			return 0;
		}
		while (lo < hi) {
			mid = lo + (hi - lo + 1) / 2;
			p->step = mid;
			if (s3_plan_reach(p) >= S3_OBJECT_MAX)
				lo = mid;
			else
				hi = mid - 1;
		}
		p->step = lo;
	}
	if (part_size && has_expected && expected > s3_plan_reach(p))
		return log_fail(e, EXIT_USAGE, "expected size %llu does not fit into %d parts of "
		    "%llu bytes", (unsigned long long)expected, max_parts,
		    (unsigned long long)part_size);
	return 0;
}
