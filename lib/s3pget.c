/*
 * s3pget: an object in ranges, several in flight, to a sink in order (see
 * s3get.h, s3_get_ranges).
 *
 * One stream at a high round trip is bound by its window, not by the link:
 * N ranged GETs at once fill it.  Each of the N slots is a curl handle in
 * one multi handle, as lib/s3put drives its parts; the slot that holds the
 * next bytes of the object (the head) gives them to the sink as they come,
 * without a copy; a range is given to a slot only when one is free.
 *
 * Only the bytes that came before their turn are held, each slot's in a
 * buffer of one range, taken when its first such byte comes and given back
 * once the head has written them.  At 50 ms round trip a range spends more
 * of its time waiting for its first byte (66-91 ms) than receiving (45 ms
 * for 6 MiB; bench case 8c), so N slots share fewer buffers, at most
 * S3_GET_BUFFERS: a slot that has bytes and no buffer free pauses (curl
 * keeps them, TCP stops the server) until the head frees one, or it is the
 * head.  So memory is min(N, S3_GET_BUFFERS) x range, whatever the object.
 *
 * The first request asks for the first range: its Content-Range tells the
 * object's length and its ETag is the object every other range must come
 * from.  An object of one range or less is that one request.  A server
 * that ignores Range (200), or an empty object (416), is fetched by
 * s3_get's one GET instead.
 *
 * That first answer's first byte also tells whether the round trip bounds
 * one stream: if so the other ranges are opened at once.  If not, the first
 * range's rate tells whether the server serves one stream slowly (S3 does,
 * about 90 MB/s): if so, they are opened when it is done.  Else (loopback,
 * a LAN, a fast server) one stream is as fast, and N ranges only cost the
 * server and us CPU (bench case 8a: RGW and pgbak-get a third more per GiB
 * on loopback), so the rest of the object comes as one more range, in the
 * one slot, which is always the head and needs no buffer.
 *
 * A range broken mid-body is resumed from its first byte not yet received,
 * as s3_get resumes a body.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "s3get.h"
#include "s3hdr.h"

#define WHOLE	EDOM		/* the sink's "fetch it with one GET" (not a real errno here) */

enum rstate { R_FREE, R_RUNNING, R_WAITING, R_DONE };

struct rslot {
	enum rstate st;
	uint64_t start, len;	/* the range: bytes start .. start + len - 1 */
	uint64_t got, out;	/* of it: received, given to the sink */
	char *buf;		/* len bytes */
	int fresh;		/* start() asks anew, for what is missing */
	int checked;		/* this answer's headers were checked */
	int changed;		/* ...and are not of this object or range */
	int sink_errno;		/* the sink failed, taking bytes straight from curl */
	char hdr[80];		/* "range: bytes=A-B" */
	char what[64];		/* "download bytes A-B of" */
	struct s3_hdr sh;	/* the SSE-C key's headers, as every GET of the object */
	struct s3_req req;
	struct s3_xfer x;
	long long wake;		/* R_WAITING: ms when to try again */
	long long sent;		/* ms this attempt was started */
	int paused;		/* bytes came, no buffer was free: curl holds them */
	struct pget *pg;
};

struct pget {
	struct s3 *s;
	struct s3_get *g;
	const char *key;
	CURLM *multi;
	struct rslot *slots;
	int n;
	uint64_t range;
	uint64_t next;		/* the first byte no slot was given */
	int resumes;
	int width;		/* slots given ranges: 1 until the first byte says n */
	int decided;		/* ...which it did */
	long long first;	/* ms the object's first byte came, or 0 */
	long long latency;	/* ...and how long after it was asked for */
	char **pool;		/* buffers free */
	int npool;
	int nbufs;		/* buffers made, at most maxbufs */
	int maxbufs;
	int paused;		/* slots paused */
	int waits;		/* times a slot paused */
};

/* A buffer of one range for r, or -1: none free, none more to make. */
static int
take_buf(struct pget *pg, struct rslot *r)
{
	if (pg->npool > 0)
		r->buf = pg->pool[--pg->npool];
	else if (pg->nbufs < pg->maxbufs && (r->buf = malloc(pg->range)) != NULL)
		pg->nbufs++;
	return r->buf ? 0 : -1;
}

/* r holds nothing the sink has not taken: its buffer back to the pool. */
static void
put_buf(struct pget *pg, struct rslot *r)
{
	if (r->buf != NULL) {
		pg->pool[pg->npool++] = r->buf;
		r->buf = NULL;
	}
}

/* The first byte of the object came: open the other slots if it was late. */
static void
first_byte(struct pget *pg, struct rslot *r)
{
	pg->first = s3_mono_ms();
	pg->latency = pg->first - r->sent;
	if (pg->latency < pg->s->cfg->get_latency && pg->g->total > r->len)
		return;		/* first_range() decides */
	pg->decided = 1;
	pg->width = pg->n;
	if (pg->g->total > r->len)
		info("first byte after %lld ms: ranges in flight", pg->latency);
}

/* The first range came whole, its first byte soon: open the other slots
 * if it came slowly, else the rest is one stream. */
static void
first_range(struct pget *pg, struct rslot *r)
{
	long long ms = s3_mono_ms() - pg->first;
	double mibs = (double)r->len / (1 << 20) / (ms > 0 ? (double)ms / 1000 : 0.001);

	pg->decided = 1;
	if (mibs < (double)pg->s->cfg->get_stream_mibs)
		pg->width = pg->n;
	info("first byte after %lld ms, the first range at %.0f MiB/s: %s", pg->latency, mibs,
	    pg->width > 1 ? "ranges in flight" : "one stream");
}

/* Is this answer bytes start + got .. of the object we started? The first
 * one tells the object: its length and ETag. */
static int
range_ok(struct rslot *r)
{
	struct s3_get *g = r->pg->g;
	const struct s3_resp *p = &r->x.resp;
	unsigned long long a, b, total;

	if (p->status != 206 || sscanf(p->content_range, "bytes %llu-%llu/%llu", &a, &b,
	    &total) != 3 || a != r->start + r->got || b >= total)
		return 0;
	if (!g->have_total) {
		g->total = total;
		g->have_total = 1;
		snprintf(g->etag, sizeof g->etag, "%s", p->etag);
		if (r->len > total)
			r->len = r->pg->next = total;	/* one range holds it all */
	}
	return total == g->total && strcmp(p->etag, g->etag) == 0 &&
	    b - a + 1 == r->len - r->got;
}

static int
to_slot(void *ctx, const char *p, size_t n)
{
	struct rslot *r = ctx;
	struct s3_get *g = r->pg->g;

	if (!r->checked) {
		r->checked = 1;
		if (!r->pg->g->have_total && r->x.resp.status == 200) {
			errno = WHOLE;	/* Range ignored: the whole object comes */
			return -1;
		}
		if (!range_ok(r)) {
			r->changed = 1;
			errno = ESTALE;
			return -1;
		}
		if (!r->pg->decided && r->pg->first == 0)
			first_byte(r->pg, r);
	}
	if (n > r->len - r->got) {
		r->changed = 1;
		errno = EIO;	/* more than the range */
		return -1;
	}
	if (r->out == r->got && r->start + r->out == g->written) {
		/* the next bytes of the object, nothing before them held: no copy */
		if (g->sink(g->sink_ctx, p, n) < 0) {
			r->sink_errno = errno;
			return -1;
		}
		r->got = r->out += n;
		g->written += n;
		return 0;
	}
	if (r->buf == NULL && take_buf(r->pg, r) < 0) {
		r->paused = 1;
		r->pg->paused++;
		if (r->pg->waits++ == 0)	/* said once, as it happens (tests wait on it) */
			info("range from byte %" PRIu64 " waits for one of %d buffers", r->start + r->got,
			    r->pg->maxbufs);
		return 1;	/* curl keeps p until unpause() */
	}
	memcpy(r->buf + r->got, p, n);
	r->got += n;
	return 0;
}

/* Ask for what is missing of r's range: a new request (attempt 1). */
static int
start(struct pget *pg, struct rslot *r, struct log_err *e)
{
	CURLMcode mc;

	if (r->fresh) {
		snprintf(r->hdr, sizeof r->hdr, "range: bytes=%" PRIu64 "-%" PRIu64,
		    r->start + r->got, r->start + r->len - 1);
		/* the first request reads as s3_get's one: most objects are one range */
		if (pg->g->have_total)
			snprintf(r->what, sizeof r->what, "download bytes %" PRIu64 "-%" PRIu64
			    " of", r->start + r->got, r->start + r->len - 1);
		else
			snprintf(r->what, sizeof r->what, "download");
		r->req = (struct s3_req){ .what = r->what, .method = "GET", .key = pg->key,
		    .sink = to_slot, .sink_ctx = r };
		r->req.headers[0] = r->hdr;
		if (s3_hdr_add(&r->sh, &r->req, pg->s->cfg, S3_HDR_READ, 0) < 0)
			return s3_fail(pg->s, &r->req, e, "too many headers");
		r->x.req = NULL;
		r->fresh = 0;
	}
	r->checked = 0;
	r->sent = s3_mono_ms();
	if (s3_xfer_start(pg->s, &r->x, &r->req, e) < 0)
		return -1;
	if ((mc = curl_multi_add_handle(pg->multi, r->x.h)) != CURLM_OK)
		return log_fail(e, EXIT_TEMP, "unable to start a transfer: %s",
		    curl_multi_strerror(mc));
	r->st = R_RUNNING;
	return 0;
}

/* Give the next range of the object to r: all the rest, when one stream
 * was found enough (it is the head, so it never takes a buffer). */
static int
assign(struct pget *pg, struct rslot *r, struct log_err *e)
{
	uint64_t left = pg->g->have_total ? pg->g->total - pg->next : pg->range;

	r->start = pg->next;
	r->len = left < pg->range || (pg->decided && pg->width == 1) ? left : pg->range;
	r->got = r->out = 0;
	r->changed = r->sink_errno = 0;
	r->fresh = 1;
	pg->next += r->len;
	return start(pg, r, e);
}

/* The slot whose range holds the first byte not yet given to the sink. */
static struct rslot *
head(struct pget *pg)
{
	int i;

	for (i = 0; i < pg->n; i++)
		if (pg->slots[i].st != R_FREE && pg->slots[i].out < pg->slots[i].len &&
		    pg->slots[i].start + pg->slots[i].out == pg->g->written)
			return &pg->slots[i];
	return NULL;
}

static int
write_failed(struct pget *pg, struct log_err *e)
{
	return log_fail_sys(e, EXIT_TEMP, "unable to write %s to %s", s3_cfg_url(pg->s->cfg),
	    pg->g->sink_name ? pg->g->sink_name : "its reader");
}

/* Give the sink what the head slots hold, in order; free the written. */
static int
flush(struct pget *pg, struct log_err *e)
{
	struct s3_get *g = pg->g;
	struct rslot *r;

	while ((r = head(pg)) != NULL && r->got > r->out) {
		if (g->sink(g->sink_ctx, r->buf + r->out, (size_t)(r->got - r->out)) < 0)
			return write_failed(pg, e);
		g->written += r->got - r->out;
		r->out = r->got;
		put_buf(pg, r);	/* the rest of its range comes straight */
		if (r->st == R_DONE && r->out == r->len)
			r->st = R_FREE;
	}
	return 0;
}

/* Let paused slots go on, nearest the head first, while they can hold
 * their bytes (curl may give them at once, from curl_easy_pause). */
static void
unpause(struct pget *pg)
{
	struct rslot *r, *h;
	int i;

	while (pg->paused > 0) {
		for (r = NULL, i = 0; i < pg->n; i++)
			if (pg->slots[i].paused && (r == NULL || pg->slots[i].start < r->start))
				r = &pg->slots[i];
		if (r == NULL) {
			pg->paused = 0;	/* cannot be: the count is of flags set */
			return;
		}
		h = head(pg);
		if (r != h && pg->npool == 0 && pg->nbufs == pg->maxbufs)
			return;
		r->paused = 0;
		pg->paused--;
		curl_easy_pause(r->x.h, CURLPAUSE_CONT);
		if (r->paused)
			return;	/* a buffer it counted on went to another (cannot be) */
	}
}

/*
 * Judge a finished transfer: 0 go on, 1 fetch the object with one GET (a
 * server that ignores Range, an empty object), 2 absent, -1 failed (e).
 */
static int
judge(struct pget *pg, struct rslot *r, CURLcode cc, struct log_err *e)
{
	struct s3_resp *p = &r->x.resp;
	int rc, first = !pg->g->have_total;

	curl_multi_remove_handle(pg->multi, r->x.h);
	r->st = R_WAITING;
	if (r->paused) {
		r->paused = 0;
		pg->paused--;
	}
	rc = s3_xfer_end(pg->s, &r->x, cc, e);
	if (rc == 0 && r->got == r->len && r->checked) {
		if (!pg->decided)
			first_range(pg, r);
		r->st = r->out == r->len ? R_FREE : R_DONE;
		if (r->out == r->len)
			put_buf(pg, r);
		return 0;
	}
	if (r->x.sink_errno == WHOLE || (rc == 0 && first && !r->checked))
		return 1;
	if (r->sink_errno) {
		errno = r->sink_errno;
		return write_failed(pg, e);
	}
	if (r->changed)
		return log_fail(e, EXIT_TEMP, "unable to download %s: the object changed, or "
		    "the server sent other bytes than bytes %" PRIu64 "-%" PRIu64 " asked for",
		    s3_cfg_url(pg->s->cfg), r->start + r->got, r->start + r->len - 1);
	if (rc > 0) {
		r->wake = s3_mono_ms() + s3_retry_delay_ms(pg->s, r->x.attempt);
		return 0;
	}
	if (rc < 0 && first && r->got == 0 && p->status == 404 &&
	    strcmp(p->code, "NoSuchBucket") != 0)
		return 2;
	if (rc < 0 && first && r->got == 0 && p->status == 416)
		return 1;
	if (rc == 0) {
		/* the body ended early without an error: resume as after one */
		log_fail(e, EXIT_TEMP, "unable to download %s: %" PRIu64 " of bytes %" PRIu64
		    "-%" PRIu64, s3_cfg_url(pg->s->cfg), r->got, r->start, r->start + r->len - 1);
	} else if (!r->x.retryable || p->sunk == 0) {
		if (first && r->got == 0)
			s3_hdr_sse_c_refused(pg->s, p, pg->key, e);
		return -1;
	}
	if (++pg->resumes > S3_GET_RESUMES)
		return -1;
	if (pg->g->resumed)
		pg->g->resumed(pg->g->sink_ctx, e->msg, r->start + r->got);
	r->wake = s3_mono_ms() + s3_backoff_ms(1);
	r->fresh = 1;
	return 0;
}

/* Start what is due: new ranges into free slots, waiting slots whose time
 * came.  The ms to the next wake-up (at most 1000). */
static long
due(struct pget *pg, struct log_err *e)
{
	long long t = s3_mono_ms(), timeout = 1000;
	int i;

	for (i = 0; i < pg->n; i++) {
		struct rslot *r = &pg->slots[i];

		if (r->st == R_FREE && i < pg->width && pg->g->have_total &&
		    pg->next < pg->g->total && assign(pg, r, e) < 0)
			return -1;
		if (r->st != R_WAITING)
			continue;
		if (r->wake <= t) {
			if (start(pg, r, e) < 0)
				return -1;
		} else if (r->wake - t < timeout) {
			timeout = r->wake - t;
		}
	}
	return (long)timeout;
}

static int
run(struct pget *pg, struct log_err *e)
{
	struct s3_get *g = pg->g;
	long timeout;
	CURLMsg *m;
	int i, left, running, rc;

	if (assign(pg, &pg->slots[0], e) < 0)
		return -1;
	while (!g->have_total || g->written < g->total) {
		if ((timeout = due(pg, e)) < 0)
			return -1;
		curl_multi_poll(pg->multi, NULL, 0, (int)timeout, NULL);
		curl_multi_perform(pg->multi, &running);
		if (s3_stop)
			return log_fail(e, EXIT_TEMP, "download of %s interrupted by signal %d",
			    s3_cfg_url(pg->s->cfg), (int)s3_stop);
		while ((m = curl_multi_info_read(pg->multi, &left)) != NULL) {
			if (m->msg != CURLMSG_DONE)
				continue;
			for (i = 0; i < pg->n && pg->slots[i].x.h != m->easy_handle; i++)
				;
			if (i == pg->n || pg->slots[i].st != R_RUNNING)
				continue;
			if ((rc = judge(pg, &pg->slots[i], m->data.result, e)) != 0)
				return rc;
		}
		if (flush(pg, e) < 0)
			return -1;
		unpause(pg);
	}
	if (pg->waits > 0)
		info("ranges waited %d times for one of %d buffers", pg->waits, pg->maxbufs);
	return 0;
}

int
s3_get_ranges(struct s3 *s, const char *key, struct s3_get *g, int parallel,
    struct log_err *e)
{
	struct pget pg = { .s = s, .g = g, .key = key, .n = parallel, .width = 1,
	    .range = (uint64_t)s->cfg->get_range,
	    .maxbufs = parallel < S3_GET_BUFFERS ? parallel : S3_GET_BUFFERS };
	int i, rc = -1;

	if (parallel <= 1)
		return s3_get(s, key, g, e);
	g->s = s;
	g->written = g->total = 0;
	g->have_total = 0;
	if ((pg.multi = curl_multi_init()) == NULL)
		return log_fail(e, EXIT_TEMP, "unable to start libcurl");
	curl_multi_setopt(pg.multi, CURLMOPT_MAXCONNECTS, (long)parallel + 1);
	if ((pg.slots = calloc((size_t)parallel, sizeof *pg.slots)) == NULL ||
	    (pg.pool = calloc((size_t)pg.maxbufs, sizeof *pg.pool)) == NULL) {
		log_fail_sys(e, EXIT_TEMP, "unable to allocate the ranges");
		goto out;
	}
	for (i = 0; i < parallel; i++) {
		pg.slots[i].pg = &pg;
		if (s3_xfer_init(&pg.slots[i].x, e) < 0)
			goto out;
	}
	rc = run(&pg, e);
out:
	for (i = 0; pg.slots && i < parallel; i++) {
		if (pg.slots[i].st == R_RUNNING)
			curl_multi_remove_handle(pg.multi, pg.slots[i].x.h);
		s3_xfer_free(&pg.slots[i].x);
		s3_hdr_wipe(&pg.slots[i].sh);
		free(pg.slots[i].buf);
	}
	while (pg.pool && pg.npool > 0)
		free(pg.pool[--pg.npool]);
	free(pg.pool);
	free(pg.slots);
	curl_multi_cleanup(pg.multi);
	if (rc == 1 && g->written == 0)
		return s3_get(s, key, g, e);	/* one GET, from the start */
	return rc == 2 ? 1 : rc;
}
