/* pace: one cap on the rate of all transfers together (see pace.h). */
#include "pace.h"

#define PACE_CHUNK_MIN 16384	/* bytes: below this the waits cost more than they pace */

size_t
pace_chunk(const struct pace *p, size_t want)
{
	uint64_t c = p->rate / 20;

	if (c < PACE_CHUNK_MIN)
		c = PACE_CHUNK_MIN;
	return p->rate && want > c ? (size_t)c : want;
}

long long
pace_take(struct pace *p, size_t n, long long now)
{
	if (p->rate == 0)
		return 0;
	if (p->due < now - PACE_BURST_NS)
		p->due = now - PACE_BURST_NS;
	p->due += (long long)((uint64_t)n * 1000000000ULL / p->rate);
	return p->due > now ? p->due - now : 0;
}
