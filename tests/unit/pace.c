/*
 * pace: the one cap on all transfers together (max_rate).  The clock is
 * the caller's, so every wait here is exact, with no sleeping.
 */
#include "pace.h"
#include "tap.h"

#define MS 1000000LL

int
main(void)
{
	struct pace p = { 0, 0 };
	long long t = 1000 * MS, w, sum;
	int i;

	ok(pace_take(&p, 1 << 20, t) == 0, "no rate: never a wait");
	ok(pace_chunk(&p, 1 << 20) == 1 << 20, "...and no chunking");

	p.rate = 20000000;	/* 20MB/s */
	ok(pace_chunk(&p, 1 << 20) == 1000000, "20MB/s: 1 MB at a time (50 ms worth)");
	ok(pace_chunk(&p, 4096) == 4096, "...fewer when fewer are asked for");
	w = pace_take(&p, 1000000, t);
	ok(w == 0, "the first 50 ms worth go at once (an idle moment's credit): %lld", w);
	w = pace_take(&p, 1000000, t);
	ok(w == 50 * MS, "the next 1 MB waits 50 ms: %lld ns", w);

	/* two transfers taking turns share one rate: 4 x 1 MB = 200 ms */
	sum = 0;
	for (i = 0; i < 4; i++) {
		t += w;
		w = pace_take(&p, 1000000, t);
		sum += w;
	}
	ok(sum == 200 * MS, "4 MB more, whoever moves them, wait 200 ms in all: %lld", sum);

	/* a long pause earns no more than 50 ms of credit */
	t += w + 10000 * MS;
	ok(pace_take(&p, 1000000, t) == 0, "after 10 s idle: 1 MB at once");
	ok(pace_take(&p, 1000000, t) == 50 * MS, "...but not 2: the burst is 50 ms worth");

	p.rate = 100000;	/* 100kB/s: the smallest chunk is 16 KiB */
	ok(pace_chunk(&p, 1 << 20) == 16384, "100kB/s: 16 KiB at a time");
	return tap_done();
}
