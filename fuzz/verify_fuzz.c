/*
 * verify_fuzz: libFuzzer harness for the backup checker (lib/verify.c).
 *
 * The input is the stored object.  It is checked twice: whole in one
 * piece, and cut into pieces whose sizes come from the input's own bytes
 * (1 to 256), the way a download delivers it.  The invariants: both give
 * the same verdict and the same message (a verdict never depends on where
 * the network cut the stream), a damaged stream says how in one non-empty
 * line, and a good one was counted to its last byte.  Out of memory is
 * the only other answer and never happens here.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "verify.h"

#define FAIL(...) do { fprintf(stderr, "verify_fuzz: " __VA_ARGS__); \
	fputc('\n', stderr); abort(); } while (0)

static struct verify v;

/* Verdict of data[0..n) fed in pieces (0: one piece); *why gets the message. */
static int
check(const uint8_t *data, size_t n, int pieces, char *why, size_t cap, uint64_t *in)
{
	struct log_err e;
	size_t off = 0, k;
	int rc = 0;

	if (verify_init(&v, &e) != 0)
		FAIL("init: %s", e.msg);
	while (off < n && rc == 0) {
		k = pieces ? (size_t)data[off] % 256 + 1 : n;
		if (k > n - off)
			k = n - off;
		rc = verify_feed(&v, data + off, k, &e);
		if (rc < 0)
			FAIL("feed: %s", e.msg);
		off += k;
	}
	if (rc == 0)
		rc = verify_end(&v);
	snprintf(why, cap, "%s", rc ? v.why : "");
	*in = v.in;
	verify_free(&v);
	return rc;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t n)
{
	char why1[sizeof v.why], why2[sizeof v.why];
	uint64_t in1, in2;
	int a = check(data, n, 0, why1, sizeof why1, &in1);
	int b = check(data, n, 1, why2, sizeof why2, &in2);

	if (a != b || strcmp(why1, why2) != 0)
		FAIL("whole: %d \"%s\", in pieces: %d \"%s\"", a, why1, b, why2);
	if (a == 1 && (why1[0] == '\0' || fuzz_has_control(why1)))
		FAIL("damage not said in one line: \"%s\"", why1);
	if (a == 0 && (in1 != n || in2 != n))
		FAIL("good, but %llu and %llu of %zu bytes counted", (unsigned long long)in1,
		    (unsigned long long)in2, n);
	return 0;
}
