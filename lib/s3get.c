/* s3get: an object, whole, into a sink, resuming broken bodies (see s3get.h). */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "s3get.h"
#include "s3hdr.h"

/* Is this answer the object we started, from the first byte not yet written? */
static int
same_object(struct s3_get *g)
{
	const struct s3_resp *r = &g->s->x.resp;
	unsigned long long start, end, total;

	if (g->written == 0 && !g->have_total) {
		g->total = r->length;
		g->have_total = r->has_length;
		snprintf(g->etag, sizeof g->etag, "%s", r->etag);
		return r->status == 200;
	}
	return r->status == 206 && strcmp(r->etag, g->etag) == 0 &&
	    sscanf(r->content_range, "bytes %llu-%llu/%llu", &start, &end, &total) == 3 &&
	    start == g->written && (!g->have_total || total == g->total);
}

static int
to_sink(void *ctx, const char *p, size_t n)
{
	struct s3_get *g = ctx;

	if (!g->checked) {
		g->checked = 1;
		if (!same_object(g)) {
			g->changed = 1;
			errno = ESTALE;
			return -1;
		}
	}
	if (g->sink(g->sink_ctx, p, n) < 0)
		return -1;
	g->written += n;
	return 0;
}

/* s3_get, the SSE-C headers in h. */
static int
get(struct s3 *s, const char *key, struct s3_get *g, struct s3_hdr *h, struct log_err *e)
{
	char range[64];
	struct s3_req r = { .what = "download", .method = "GET", .key = key, .sink = to_sink,
	    .sink_ctx = g };
	int resumes = 0, nh = 0;

	if (s3_hdr_add(h, &r, s->cfg, S3_HDR_READ, 0) < 0)
		return s3_fail(s, &r, e, "too many headers");
	while (r.headers[nh])
		nh++;		/* the Range header's place */

	g->s = s;
	g->written = g->total = 0;
	g->have_total = g->changed = 0;
	for (;;) {
		g->checked = 0;
		if (g->written > 0) {
			snprintf(range, sizeof range, "range: bytes=%llu-",
			    (unsigned long long)g->written);
			r.headers[nh] = range;
		}
		if (s3_call(s, &r, e) == 0) {
			if (g->written == 0 && !g->checked && !same_object(g))
				return log_fail(e, EXIT_TEMP, "unable to download %s: HTTP %ld",
				    s3_cfg_url(s->cfg), s->x.resp.status);
			if (!g->have_total || g->written == g->total)
				return 0;
			/* the body ended early without an error: resume as after one */
			log_fail(e, EXIT_TEMP, "unable to download %s: %llu of %llu bytes",
			    s3_cfg_url(s->cfg), (unsigned long long)g->written,
			    (unsigned long long)g->total);
		} else if (s->x.sink_errno && !g->changed) {
			errno = s->x.sink_errno;
			return log_fail_sys(e, EXIT_TEMP, "unable to write %s to %s",
			    s3_cfg_url(s->cfg), g->sink_name ? g->sink_name : "its reader");
		} else if (g->changed) {
			return log_fail(e, EXIT_TEMP, "unable to download %s: the object changed "
			    "after %llu bytes were written", s3_cfg_url(s->cfg),
			    (unsigned long long)g->written);
		} else if (g->written == 0 && s->x.resp.status == 404 &&
		    strcmp(s->x.resp.code, "NoSuchBucket") != 0) {
			return 1;
		} else if (!s->x.retryable || s->x.resp.sunk == 0) {
			s3_hdr_sse_c_refused(s, &s->x.resp, key, e);
			return -1;
		}
		if (++resumes > S3_GET_RESUMES)
			return -1;
		if (g->resumed)
			g->resumed(g->sink_ctx, e->msg, g->written);
		if (s3_sleep_ms(s3_backoff_ms(1)) < 0)
			return -1;
	}
}

int
s3_get(struct s3 *s, const char *key, struct s3_get *g, struct log_err *e)
{
	struct s3_hdr h;
	int rc = get(s, key, g, &h, e);

	s3_hdr_wipe(&h);
	return rc;
}
