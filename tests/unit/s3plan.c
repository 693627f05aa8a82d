/*
 * s3plan: what the part schedule reaches.  At S3's 10000 parts it must
 * hold 5 TiB; at 1000 parts (some providers' limit) it holds 799.2 GiB.
 */
#include "s3cfg.h"
#include "s3plan.h"
#include "s3tap.h"

#define MiB (1ULL << 20)
#define GiB (1ULL << 30)
#define TiB (1ULL << 40)

static struct s3_plan
plan(uint64_t part_size, int max_parts, int has_expected, uint64_t expected, int *rc)
{
	struct s3_plan p = { 0, 0, 0 };
	struct log_err e;

	*rc = s3_plan_init(&p, part_size, max_parts, has_expected, expected, &e);
	return p;
}

/* Every part within S3's limits, and sizes never shrink. */
static int
sane(const struct s3_plan *p)
{
	uint64_t last = 0, sz;
	int n;

	for (n = 1; n <= p->max_parts; n++) {
		sz = s3_plan_part(p, n);
		if (sz < S3_PART_MIN || sz > S3_PART_MAX || sz < last)
			return 0;
		last = sz;
	}
	return 1;
}

static void
test_growing(void)
{
	struct s3_plan p, q;
	uint64_t sum = 0;
	int rc, n;

	p = plan(0, 10000, 0, 0, &rc);
	tap_ok(rc == 0, "default plan");
	tap_ok(s3_plan_reach(&p) >= 5 * TiB, "10000 parts reach 5 TiB");
	tap_is_u64(s3_plan_reach(&p), 5522782683136ULL, "10000 parts reach 5.02 TiB exactly");
	tap_ok(sane(&p), "10000 parts: each 5 MiB..5 GiB, never shrinking");
	tap_is_u64(s3_plan_part(&p, 1), 8 * MiB, "first part 8 MiB");
	tap_is_u64((uint64_t)p.step, 1089, "size doubles every 1089 parts");
	for (n = 1; n <= p.step; n++)
		sum += s3_plan_part(&p, n);
	tap_ok(sum >= 8 * GiB, "8 GiB of input needs only 8 MiB parts (memory as for 1 GiB)");
	tap_is_u64(s3_plan_part(&p, p.step + 1), 16 * MiB, "then 16 MiB");
	tap_is_u64(s3_plan_part(&p, 10000), 4 * GiB, "the last of 10000 parts is 4 GiB");
	tap_is_u64(s3_plan_part(&p, 10001), 0, "no part 10001");
	q = p;
	q.step = p.step + 1;
	tap_ok(s3_plan_reach(&q) < 5 * TiB, "one step longer would not reach 5 TiB");

	p = plan(0, 1000, 0, 0, &rc);
	tap_ok(rc == 0, "plan for max_parts 1000");
	tap_is_u64(s3_plan_reach(&p), 858154598400ULL, "1000 parts reach 799.2 GiB");
	tap_ok(s3_plan_reach(&p) < 5 * TiB, "1000 parts cannot reach 5 TiB (1000 x 5 GiB < 5 TiB)");
	tap_is_u64((uint64_t)p.step, 100, "...so the size doubles every 100 parts");
	tap_ok(sane(&p), "1000 parts: each 5 MiB..5 GiB, never shrinking");
}

static void
test_fixed(void)
{
	struct s3_plan p;
	int rc;

	p = plan(5 * MiB, 10000, 0, 0, &rc);
	tap_ok(rc == 0 && p.step == 0, "part_size 5 MiB: fixed");
	tap_is_u64(s3_plan_part(&p, 9999), 5 * MiB, "every part 5 MiB");
	tap_is_u64(s3_plan_reach(&p), 50000 * MiB, "reach 10000 x 5 MiB");
	plan(4 * MiB, 10000, 0, 0, &rc);
	tap_ok(rc < 0, "part_size 4 MiB refused");
	plan(6 * GiB, 10000, 0, 0, &rc);
	tap_ok(rc < 0, "part_size 6 GiB refused");
	plan(5 * MiB, 10000, 1, 100 * GiB, &rc);
	tap_ok(rc < 0, "100 GiB expected cannot fit 10000 parts of 5 MiB");
	plan(5 * MiB, 10000, 1, 40 * GiB, &rc);
	tap_ok(rc == 0, "40 GiB expected fits 10000 parts of 5 MiB");
	plan(0, 0, 0, 0, &rc);
	tap_ok(rc < 0, "max_parts 0 refused");
	plan(0, 10001, 0, 0, &rc);
	tap_ok(rc < 0, "max_parts 10001 refused");
}

static void
test_expected(void)
{
	struct s3_plan p;
	int rc;

	p = plan(0, 10000, 1, 1 * GiB, &rc);
	tap_ok(rc == 0 && p.step == 0 && p.first == 5 * MiB, "1 GiB known: 5 MiB parts (S3's least)");
	p = plan(0, 10000, 1, 200 * GiB, &rc);
	tap_ok(rc == 0 && p.first == 21 * MiB, "200 GiB known: 21 MiB parts");
	tap_ok(s3_plan_reach(&p) >= 200 * GiB, "...which hold it");
	p = plan(0, 1000, 1, 4 * TiB, &rc);
	tap_ok(rc == 0 && s3_plan_reach(&p) >= 4 * TiB && p.first <= S3_PART_MAX,
	    "4 TiB known in 1000 parts: fits");
	plan(0, 1000, 1, 5 * TiB, &rc);
	tap_ok(rc < 0, "5 TiB in 1000 parts of at most 5 GiB refused");
	plan(0, 10000, 1, 5 * TiB + 1, &rc);
	tap_ok(rc < 0, "over 5 TiB refused");
	p = plan(0, 10000, 1, 0, &rc);
	tap_ok(rc == 0 && p.first == 5 * MiB, "empty input known: 5 MiB (one PUT)");
}

int
main(void)
{
	test_growing();
	test_fixed();
	test_expected();
	return tap_done();
}
