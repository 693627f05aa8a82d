/* s3: the pure parts of the client: backoff bounds and S3 timestamps. */
#include "s3.h"
#include "s3tap.h"

int
main(void)
{
	long lo = 1L << 30, hi = 0, v;
	int i, in_range = 1;

	for (i = 0; i < 1000; i++) {
		v = s3_backoff_ms(1);
		lo = v < lo ? v : lo;
		hi = v > hi ? v : hi;
	}
	tap_ok(lo >= 250 && hi <= 500 && hi > lo, "first retry waits 250-500 ms, jittered");
	for (i = 0; i < 1000; i++) {
		v = s3_backoff_ms(4);
		in_range &= v >= 2000 && v <= 4000;
	}
	tap_ok(in_range, "fourth retry waits 2-4 s");
	for (i = 0, in_range = 1; i < 1000; i++) {
		v = s3_backoff_ms(30);
		in_range &= v >= 10000 && v <= 20000;
	}
	tap_ok(in_range, "backoff is capped at 20 s");

	tap_is_u64((unsigned long long)s3_time("2013-05-24T00:00:00.000Z"), 1369353600ULL,
	    "Initiated with milliseconds");
	tap_is_u64((unsigned long long)s3_time("2013-05-24T00:00:01Z"), 1369353601ULL,
	    "Initiated without milliseconds");
	tap_ok(s3_time("2013-05-24 00:00:00") == -1, "a space instead of T is refused");
	tap_ok(s3_time("yesterday") == -1, "not a time");
	return tap_done();
}
