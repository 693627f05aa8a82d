/*
 * s3put: a stream to one S3 object (see s3put.h).
 *
 * One loop, one thread: curl_multi_poll waits at once for the parts in
 * flight, for standard input (only while a buffer is free to fill), for
 * the commit fd and for the signal pipe.  Each of the `parallel` slots owns
 * a part buffer and a curl handle; a part is read into a free slot, hashed
 * (SHA-256 for the signed payload) as it arrives, while it is in the cache,
 * and sent when full.  So memory is parallel x part size, whatever the input.
 *
 * Integrity, end to end, with one hash over each byte, not two.
 * - A part, and a single PUT, is signed with the SHA-256 of its bytes
 *   (x-amz-content-sha256 is a signed header).  S3 hashes the body it
 *   received and refuses a mismatch before storing anything (RGW: 400
 *   XAmzContentSHA256Mismatch), and the signature stops anyone on the way
 *   from changing body and hash together.  The hash is taken from the bytes
 *   as read() put them in the part buffer, which is what is sent: whatever
 *   changes a byte after that (our memory, curl, the network, a proxy) fails
 *   the part.  tests/0207-put-corrupt.t flips one byte on the way.
 * - Content-MD5 would prove the same bytes again with a slower hash (here
 *   MD5 1.2 s/GiB, SHA-256 0.5 with SHA-NI), so it is sent only when
 *   cfg->content_md5 says it is required (Object Lock).  UNSIGNED-PAYLOAD
 *   with an x-amz-checksum-* would be cheaper still, but RGW ignores those
 *   headers, and without TLS nothing would then prove the bytes.
 * - The object: Complete lists every part by the ETag the server gave it;
 *   after it, HEAD must show exactly the bytes read.  When Complete's answer
 *   is lost, the object is taken for ours only if its ETag is the multipart
 *   ETag of those part ETags (MD5 of their MD5s, "-", the count; the server's
 *   ETags, so no MD5 of the data is needed here) and its size is ours.  With
 *   SSE-KMS or SSE-C the part ETags are not MD5s: then the count and the size.
 * Hashing on worker threads would shorten the wall time on an idle machine,
 * not the CPU time per GiB, which is what a database host pays.
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "s3hdr.h"
#include "s3plan.h"
#include "s3put.h"
#include "sig.h"
#include "sigv4.h"

#define READ_CHUNK (1 << 20)	/* read at most this much between two looks at curl */
#define TICK_MS 1000		/* o->tick period */

enum state { FREE, FILLING, READY, SENDING, WAITING };

struct slot {
	enum state st;
	int part;
	unsigned char *buf;
	size_t cap, len, want;
	EVP_MD_CTX *md5, *sha;
	char md5_b64[25], sha_hex[65];
	struct s3_req req;
	struct s3_hdr hdr;	/* req's SSE-C headers */
	char *query;
	char what[40];		/* "upload part 3 of" */
	struct s3_xfer x;
	long long wake;		/* WAITING: ms when to try again */
	long long started;	/* ms, for -v */
};

struct up {
	struct s3 *s;
	const struct s3put_opts *o;
	struct s3_plan plan;
	struct slot *slots;
	int nslots;
	struct slot *fill;	/* the slot standard input goes to, or NULL */
	CURLM *multi;
	char *upload_id;
	int parts;		/* parts made so far */
	char **etags;		/* per part, from UploadPart */
	int cap;
	uint64_t bytes_read, bytes_sent;
	int eof;
	int commit;		/* 0 undecided, 1 "commit" read, -1 anything else */
	char cline[16];
	size_t clen;
	long long t0, last_tick;
	time_t created;		/* when CreateMultipartUpload was sent (Object Lock's date) */
};

static double
mib_per_s(uint64_t bytes, long long ms)
{
	return ms > 0 ? (double)bytes / (1 << 20) / ((double)ms / 1000) : 0;
}

/* About once a second: what was done so far, to o->tick. */
static void
tick(struct up *u)
{
	long long t = s3_mono_ms();
	struct s3put_progress p = { u->bytes_read, u->bytes_sent, u->parts, t - u->t0 };

	if (u->o->tick == NULL || t - u->last_tick < TICK_MS)
		return;
	u->last_tick = t;
	u->o->tick(u->o->ctx, &p);
}

/* A line for o->note (-v). */
static void
note(struct up *u, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void
note(struct up *u, const char *fmt, ...)
{
	char line[1200];	/* an error message and a few words */
	va_list ap;

	if (u->o->note == NULL)
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof line, fmt, ap);
	va_end(ap);
	u->o->note(u->o->ctx, line);
}

static int
slots_init(struct up *u, struct log_err *e)
{
	int i;

	if ((u->slots = calloc((size_t)u->nslots, sizeof *u->slots)) == NULL)
		return log_fail_sys(e, EXIT_TEMP, "unable to allocate the part buffers");
	for (i = 0; i < u->nslots; i++) {
		struct slot *sl = &u->slots[i];

		if (s3_xfer_init(&sl->x, e) < 0)
			return -1;
		/* MD5 only where Content-MD5 is required (see the top) */
		if (u->s->cfg->content_md5)
			sl->md5 = EVP_MD_CTX_new();
		sl->sha = EVP_MD_CTX_new();
		if ((u->s->cfg->content_md5 && sl->md5 == NULL) || sl->sha == NULL)
			return log_fail(e, EXIT_TEMP, "unable to set up MD5 and SHA-256");
	}
	return 0;
}

static void
up_free(struct up *u)
{
	int i;

	for (i = 0; u->slots && i < u->nslots; i++) {
		struct slot *sl = &u->slots[i];

		if (sl->st == SENDING)
			curl_multi_remove_handle(u->multi, sl->x.h);
		s3_xfer_free(&sl->x);
		s3_hdr_wipe(&sl->hdr);
		EVP_MD_CTX_free(sl->md5);
		EVP_MD_CTX_free(sl->sha);
		free(sl->buf);
		free(sl->query);
	}
	free(u->slots);
	if (u->multi)
		curl_multi_cleanup(u->multi);
	for (i = 0; i < u->parts && u->etags; i++)
		free(u->etags[i]);
	free(u->etags);
	free(u->upload_id);
}

/* Give a free slot the next part to fill; none free: reading waits. */
static int
next_fill(struct up *u, struct log_err *e)
{
	struct slot *sl = NULL;
	uint64_t want;
	int i;

	for (i = 0; i < u->nslots && sl == NULL; i++)
		if (u->slots[i].st == FREE)
			sl = &u->slots[i];
	if (sl == NULL)
		return 0;
	if ((want = s3_plan_part(&u->plan, u->parts + 1)) == 0)
		return log_fail(e, EXIT_TEMP, "input of %s is longer than %d parts hold (%llu "
		    "bytes): raise part_size or max_parts", s3_cfg_url(u->s->cfg),
		    u->plan.max_parts, (unsigned long long)s3_plan_reach(&u->plan));
	if (want > sl->cap) {
		free(sl->buf);
		if ((sl->buf = malloc((size_t)want)) == NULL) {
			sl->cap = 0;
			return log_fail_sys(e, EXIT_TEMP, "unable to allocate a part of %llu bytes",
			    (unsigned long long)want);
		}
		sl->cap = (size_t)want;
	}
	if (u->parts == u->cap) {
		int cap = u->cap ? 2 * u->cap : 64;
		char **t = realloc(u->etags, (size_t)cap * sizeof *t);

		if (t == NULL)
			return log_fail_sys(e, EXIT_TEMP, "unable to allocate the part list");
		u->etags = t;
		u->cap = cap;
	}
	u->parts++;
	u->etags[u->parts - 1] = NULL;
	sl->st = FILLING;
	sl->part = u->parts;
	sl->want = (size_t)want;
	sl->len = 0;
	if (sl->md5)
		EVP_DigestInit_ex(sl->md5, EVP_md5(), NULL);
	EVP_DigestInit_ex(sl->sha, EVP_sha256(), NULL);
	u->fill = sl;
	return 0;
}

/* The part is whole: finish its digests; it waits to be sent. */
static void
part_done(struct up *u, struct slot *sl)
{
	unsigned char sha[32], md5[16];
	unsigned int n;

	if (sl->md5) {
		EVP_DigestFinal_ex(sl->md5, md5, &n);
		EVP_EncodeBlock((unsigned char *)sl->md5_b64, md5, 16);
	}
	EVP_DigestFinal_ex(sl->sha, sha, &n);
	sigv4_hex(sl->sha_hex, sha, 32);
	sl->st = READY;
	u->fill = NULL;
}

/* One read of standard input into the filling slot. */
static int
read_input(struct up *u, struct log_err *e)
{
	struct slot *sl = u->fill;
	size_t want = sl->want - sl->len;
	ssize_t n;

	if (want > READ_CHUNK)
		want = READ_CHUNK;
	n = read(0, sl->buf + sl->len, want);
	if (n < 0) {
		if (errno == EINTR || errno == EAGAIN)
			return 0;
		return log_fail_sys(e, EXIT_TEMP, "unable to read standard input for %s",
		    s3_cfg_url(u->s->cfg));
	}
	if (n == 0) {
		u->eof = 1;
		/* the empty tail of a stream that ended on a part boundary */
		if (sl->len == 0 && sl->part > 1) {
			u->parts--;
			sl->st = FREE;
			u->fill = NULL;
		} else if (sl->part > 1) {
			part_done(u, sl);
		}
		return 0;
	}
	if (sl->md5)
		EVP_DigestUpdate(sl->md5, sl->buf + sl->len, (size_t)n);
	EVP_DigestUpdate(sl->sha, sl->buf + sl->len, (size_t)n);
	sl->len += (size_t)n;
	u->bytes_read += (uint64_t)n;
	if (sl->len == sl->want)
		part_done(u, sl);
	return 0;
}

/* One read of the commit fd: "commit" and a newline (or EOF) is yes. */
static int
read_commit(struct up *u, struct log_err *e)
{
	char c;
	ssize_t n = read(u->o->commit_fd, &c, 1);

	if (n < 0) {
		if (errno == EINTR || errno == EAGAIN)
			return 0;
		return log_fail_sys(e, EXIT_TEMP, "unable to read the commit fd %d",
		    u->o->commit_fd);
	}
	if (n == 0 || c == '\n') {
		u->commit = u->clen == 6 && memcmp(u->cline, "commit", 6) == 0 ? 1 : -1;
		return 0;
	}
	if (u->clen < sizeof u->cline)
		u->cline[u->clen++] = c;
	return 0;
}

static int
start_part(struct up *u, struct slot *sl, struct log_err *e)
{
	CURLMcode mc;

	if (sl->st == READY) {
		free(sl->query);
		sl->query = NULL;
		if (s3_mpu_part_req(&sl->req, u->o->key, u->upload_id, sl->part, sl->buf,
		    sl->len, sl->sha_hex, sl->md5 ? sl->md5_b64 : NULL, &sl->query) < 0 ||
		    s3_hdr_add(&sl->hdr, &sl->req, u->s->cfg, S3_HDR_PART, 0) < 0)
			return log_fail(e, EXIT_TEMP, "out of memory");
		sl->req.no_md5 = sl->md5 == NULL;
		snprintf(sl->what, sizeof sl->what, "upload part %d of", sl->part);
		sl->req.what = sl->what;
		sl->x.req = NULL;	/* a new request: attempt 1 */
		sl->started = s3_mono_ms();
	}
	if (s3_xfer_start(u->s, &sl->x, &sl->req, e) < 0)
		return -1;
	if ((mc = curl_multi_add_handle(u->multi, sl->x.h)) != CURLM_OK)
		return log_fail(e, EXIT_TEMP, "unable to start a transfer: %s",
		    curl_multi_strerror(mc));
	sl->st = SENDING;
	return 0;
}

static struct slot *
slot_of(struct up *u, CURL *h)
{
	int i;

	for (i = 0; i < u->nslots; i++)
		if (u->slots[i].x.h == h)
			return &u->slots[i];
	return NULL;
}

/* Judge the transfers curl finished. */
static int
reap(struct up *u, struct log_err *e)
{
	struct slot *sl;
	CURLMsg *m;
	int left, rc;
	long long t;

	while ((m = curl_multi_info_read(u->multi, &left)) != NULL) {
		if (m->msg != CURLMSG_DONE || (sl = slot_of(u, m->easy_handle)) == NULL)
			continue;
		rc = m->data.result;	/* read before the message is freed */
		curl_multi_remove_handle(u->multi, sl->x.h);
		sl->st = WAITING;
		rc = s3_xfer_end(u->s, &sl->x, (CURLcode)rc, e);
		if (rc < 0)
			return -1;
		t = s3_mono_ms();
		if (rc > 0) {
			/* s3_call's wait, without blocking the other parts */
			sl->wake = t + s3_retry_delay_ms(u->s, sl->x.attempt);
			note(u, "%s; trying again in %.1f s", e->msg, (double)(sl->wake - t) / 1000);
			continue;
		}
		if (sl->x.resp.etag[0] == '\0')
			return log_fail(e, EXIT_TEMP, "unable to upload part %d of %s: no ETag in "
			    "the reply", sl->part, s3_cfg_url(u->s->cfg));
		if ((u->etags[sl->part - 1] = strdup(sl->x.resp.etag)) == NULL)
			return log_fail_sys(e, EXIT_TEMP, "unable to keep an ETag");
		u->bytes_sent += sl->len;
		note(u, "part %d: %zu bytes in %.2f s, %.1f MiB/s", sl->part, sl->len,
		    (double)(t - sl->started) / 1000, mib_per_s(sl->len, t - sl->started));
		sl->st = FREE;
	}
	return 0;
}

/* What is left to do before the loop may end. */
static int
busy(const struct up *u)
{
	int i;

	for (i = 0; i < u->nslots; i++)
		if (u->slots[i].st == READY || u->slots[i].st == SENDING ||
		    u->slots[i].st == WAITING)
			return 1;
	return 0;
}

static int
interrupted(const struct up *u, struct log_err *e)
{
	return log_fail(e, EXIT_TEMP, "upload of %s interrupted by signal %d",
	    s3_cfg_url(u->s->cfg), (int)s3_stop);
}

/* Wait for curl, standard input, the commit fd and signals; act on each. */
static int
step(struct up *u, struct log_err *e)
{
	struct pollfd pfd[3];
	struct curl_waitfd wfd[3];
	int nfd = 0, in = -1, cm = -1, i, running;
	long long t = s3_mono_ms(), timeout = TICK_MS;

	for (i = 0; i < u->nslots; i++) {
		struct slot *sl = &u->slots[i];

		if (sl->st == READY && u->upload_id && start_part(u, sl, e) < 0)
			return -1;
		if (sl->st == WAITING && sl->wake <= t && start_part(u, sl, e) < 0)
			return -1;
		if (sl->st == WAITING && sl->wake - t < timeout)
			timeout = sl->wake - t;
	}
	pfd[nfd++] = (struct pollfd){ u->o->wake_fd, POLLIN, 0 };
	if (u->fill && !u->eof) {
		in = nfd;
		pfd[nfd++] = (struct pollfd){ 0, POLLIN, 0 };
	}
	if (u->o->commit_fd >= 0 && u->commit == 0) {
		cm = nfd;
		pfd[nfd++] = (struct pollfd){ u->o->commit_fd, POLLIN, 0 };
	}
	for (i = 0; i < nfd; i++)
		wfd[i] = (struct curl_waitfd){ pfd[i].fd, CURL_WAIT_POLLIN, 0 };
	curl_multi_poll(u->multi, wfd, (unsigned)nfd, timeout > 0 ? (int)timeout : 0, NULL);
	curl_multi_perform(u->multi, &running);
	if (s3_stop)
		return interrupted(u, e);
	if (reap(u, e) < 0)
		return -1;
	/* curl does not report our fds' readiness reliably: ask poll itself */
	while (poll(pfd, (nfds_t)nfd, 0) < 0 && errno == EINTR)
		if (s3_stop)
			return interrupted(u, e);
	if (in >= 0 && pfd[in].revents && read_input(u, e) < 0)
		return -1;
	if (cm >= 0 && pfd[cm].revents && read_commit(u, e) < 0)
		return -1;
	tick(u);
	return 0;
}

/* The single PUT of an input shorter than one part. */
static int
put_single(struct up *u, struct slot *sl, struct log_err *e)
{
	struct s3_req r = { .what = "upload", .method = "PUT", .key = u->o->key,
	    .body = sl->buf ? sl->buf : (const unsigned char *)"", .len = sl->len,
	    .headers = { u->o->if_absent ? S3_IF_ABSENT : NULL } };
	int rc;

	part_done(u, sl);
	r.sha256 = sl->sha_hex;
	r.md5 = sl->md5 ? sl->md5_b64 : NULL;
	r.no_md5 = sl->md5 == NULL;
	if (s3_hdr_add(&sl->hdr, &r, u->s->cfg, S3_HDR_NEW, time(NULL)) < 0)
		return log_fail(e, EXIT_TEMP, "out of memory");
	rc = s3_call(u->s, &r, e);
	s3_hdr_wipe(&sl->hdr);
	if (rc == 0) {
		u->bytes_sent = sl->len;
		return EXIT_OK;
	}
	return u->o->if_absent && u->s->x.resp.status == 412 ? EXIT_NO : -1;
}

/* A part's ETag as the MD5 it is without SSE-KMS and SSE-C: 1, else 0. */
static int
etag_md5(const char *etag, unsigned char md[16])
{
	size_t n = strlen(etag), i;
	unsigned int b;

	if (n == 34 && etag[0] == '"' && etag[33] == '"')
		etag++, n -= 2;
	if (n != 32 || strspn(etag, "0123456789abcdefABCDEF") != 32)
		return 0;
	for (i = 0; i < 16; i++) {
		sscanf(etag + 2 * i, "%2x", &b);
		md[i] = (unsigned char)b;
	}
	return 1;
}

/*
 * Whether etag (from HEAD) is the one S3 gives the object Complete made of
 * our parts: the MD5 of the parts' MD5s (their ETags), "-", the count.  When
 * a part's ETag is no MD5 (SSE-KMS, SSE-C), only "-count" can be checked.
 */
static int
multipart_etag_is(const struct up *u, const char *etag)
{
	unsigned char md[EVP_MAX_MD_SIZE], *all;
	unsigned int n = 0;
	char hex[33], want[48];
	const char *dash;
	int i, md5s = 1;

	if ((all = malloc((size_t)u->parts * 16)) == NULL)
		return 0;
	for (i = 0; i < u->parts && md5s; i++)
		md5s = etag_md5(u->etags[i], all + 16 * i);
	if (md5s) {
		EVP_Digest(all, (size_t)u->parts * 16, md, &n, EVP_md5(), NULL);
		sigv4_hex(hex, md, 16);
	}
	free(all);
	if (md5s) {
		snprintf(want, sizeof want, "\"%s-%d\"", hex, u->parts);
		return strcmp(etag, want) == 0;
	}
	snprintf(want, sizeof want, "-%d\"", u->parts);
	return (dash = strrchr(etag, '-')) != NULL && strcmp(dash, want) == 0;
}

/*
 * Complete did not say it published the object, but it may have: its answer
 * was lost or garbled (an empty 200, a cut connection), or a retry found
 * the upload gone.  The object then holds exactly our parts: the multipart
 * ETag and the bytes read.  Anything else is not ours, and the caller
 * aborts the upload, which cannot touch a published object.
 */
static int
published_anyway(struct up *u)
{
	struct s3 *s = u->s;
	struct log_err he;

	return s3_head(s, u->o->key, &he) == 1 && multipart_etag_is(u, s->x.resp.etag) &&
	    s->x.resp.has_length && s->x.resp.length == u->bytes_read;
}

/* 0 published, EXIT_NO a 412 to --if-absent (another writer's object is
 * there), -1 failed. */
static int
complete(struct up *u, struct log_err *e)
{
	long status;

	if (s3_mpu_complete(u->s, u->o->key, u->upload_id, u->etags, u->parts, u->o->if_absent,
	    e) == 0)
		return 0;
	status = u->s->x.resp.status;	/* published_anyway's HEAD replaces it */
	if (published_anyway(u))
		return 0;
	return u->o->if_absent && status == 412 ? EXIT_NO : -1;
}

/*
 * Complete under --if-absent: EXIT_NO when the key exists just before, or
 * when S3 answers 412 (another writer completed meanwhile).  RGW ignores
 * If-None-Match on Complete, so the HEAD is all it gets: a writer that
 * completes between the two wins there, and the last Complete replaces
 * the object.
 */
static int
complete_absent(struct up *u, struct log_err *e)
{
	int rc;

	if ((rc = s3_head(u->s, u->o->key, e)) != 0)
		return rc > 0 ? EXIT_NO : -1;
	return complete(u, e);
}

/* HEAD the new object: it must hold exactly the bytes read. */
static int
verify(struct up *u, struct log_err *e)
{
	struct s3 *s = u->s;
	int rc = s3_head(s, u->o->key, e);

	if (rc < 0)
		return -1;
	if (rc == 0)
		return log_fail(e, EXIT_TEMP, "%s is missing after its upload completed",
		    s3_cfg_url(s->cfg));
	if (!s->x.resp.has_length || s->x.resp.length != u->bytes_read)
		return log_fail(e, EXIT_TEMP, "%s holds %llu bytes, but %llu were read",
		    s3_cfg_url(s->cfg), (unsigned long long)s->x.resp.length,
		    (unsigned long long)u->bytes_read);
	return 0;
}

/*
 * Object Lock on a multipart object: AWS applies the lock headers of
 * CreateMultipartUpload, but Ceph RGW 16 ignores them.  So when verify()'s
 * HEAD (the last answer) shows no retain-until date, the lock is put on
 * with PutObjectRetention, for the date CreateMultipartUpload asked for.
 * Where S3 applied it, no request is made: no s3:PutObjectRetention
 * permission is needed there.
 */
static int
lock_multipart(struct up *u, struct log_err *e)
{
	struct s3 *s = u->s;
	struct log_err le;

	if (u->upload_id == NULL || s->cfg->lock_mode == NULL || s->x.resp.lock_until[0])
		return 0;
	if (s3_retain(s, u->o->key, u->created, &le) < 0)
		return log_fail(e, EXIT_TEMP, "%s was stored but not locked: %s", s3_cfg_url(s->cfg),
		    le.msg);
	return 0;
}

/*
 * CreateMultipartUpload with the stop signals held.  Cut short by a signal,
 * the request may still make the upload at S3 while its id, in the answer,
 * is lost: nobody could abort it.  So a signal that lands meanwhile waits
 * for the answer (bounded like any request: the stall time, the tries), and
 * the upload is then aborted like any other.
 */
static int
create(struct up *u, struct log_err *e)
{
	sigset_t stop, old;
	int rc;

	sig_stop_set(&stop);
	pthread_sigmask(SIG_BLOCK, &stop, &old);
	if (s3_stop)		/* already stopping: make nothing */
		rc = interrupted(u, e);
	else
		rc = s3_mpu_create(u->s, u->o->key, u->created = time(NULL), &u->upload_id, e);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return rc;
}

/*
 * Abort the upload.  The parts in flight are dropped first, so that none
 * lands after the abort.  The stop signals are held meanwhile: a signal now
 * (pgbak-run's SIGTERM after systemd's, a second ^C) must not cut short the
 * one request that removes the upload; it takes effect once it is answered.
 * When it fails, say that the upload is left, in the words pgbak-run looks
 * for (S3_UPLOAD_LEFT).
 */
static void
abort_upload(struct up *u)
{
	struct log_err ae;
	sigset_t stop, old;
	int i, sig;

	for (i = 0; i < u->nslots; i++)
		if (u->slots[i].st == SENDING) {
			curl_multi_remove_handle(u->multi, u->slots[i].x.h);
			u->slots[i].st = FREE;
		}
	sig_stop_set(&stop);
	pthread_sigmask(SIG_BLOCK, &stop, &old);
	sig = s3_stop;
	s3_stop = 0;
	if (s3_mpu_abort(u->s, u->o->key, u->upload_id, &ae) < 0)
		warn("%s; " S3_UPLOAD_LEFT " (id %s): pgbak-put --abort-stale removes it",
		    ae.msg, u->upload_id);
	s3_stop = sig;
	pthread_sigmask(SIG_SETMASK, &old, NULL);
}

/* Everything from the first byte to the end of the input and the commit. */
static int
transfer(struct up *u, struct log_err *e)
{
	const struct s3put_opts *o = u->o;

	if (next_fill(u, e) < 0)
		return -1;
	for (;;) {
		if (u->commit < 0)
			return log_fail(e, EXIT_TEMP, "upstream failed; upload aborted: no "
			    "\"commit\" on fd %d for %s", o->commit_fd, s3_cfg_url(u->s->cfg));
		if (u->eof && !busy(u) && (o->commit_fd < 0 || u->commit > 0))
			return 0;
		/* part 1 is whole: this is a multipart upload (slot 0 holds part 1) */
		if (u->upload_id == NULL && u->slots[0].st == READY && create(u, e) < 0)
			return -1;
		if (!u->eof && u->fill == NULL && next_fill(u, e) < 0)
			return -1;
		if (step(u, e) < 0)
			return -1;
	}
}

/*
 * Standard input a regular file (a temp file, "< dump.gz"): its size from
 * here on is as good as --expected-size, and gives the smallest parts that
 * fit, so the least memory.  Should the file grow meanwhile, the plan still
 * holds max_parts such parts.
 */
static void
size_hint(const struct s3put_opts *o, int *has, uint64_t *size)
{
	struct stat st;
	off_t at;

	if (o->has_expected || fstat(0, &st) < 0 || !S_ISREG(st.st_mode) ||
	    (at = lseek(0, 0, SEEK_CUR)) < 0 || at > st.st_size)
		return;
	*has = 1;
	*size = (uint64_t)(st.st_size - at);
}

int
s3put_upload(struct s3 *s, const struct s3put_opts *o, struct log_err *e)
{
	struct up u;
	uint64_t expected = o->expected;
	int rc, published = 0, has_expected = o->has_expected;

	memset(&u, 0, sizeof u);
	u.s = s;
	u.o = o;
	u.nslots = s->cfg->parallel;
	u.t0 = u.last_tick = s3_mono_ms();
	size_hint(o, &has_expected, &expected);
	if (s3_plan_init(&u.plan, s->cfg->part_size, s->cfg->max_parts, has_expected,
	    expected, e) < 0)
		return -1;
	if (o->if_absent && (rc = s3_head(s, o->key, e)) != 0)
		return rc > 0 ? EXIT_NO : -1;
	if ((u.multi = curl_multi_init()) == NULL) {
		log_fail(e, EXIT_TEMP, "unable to start libcurl");
		return -1;
	}
	curl_multi_setopt(u.multi, CURLMOPT_MAXCONNECTS, (long)u.nslots + 1);
	if ((rc = slots_init(&u, e)) == 0)
		rc = transfer(&u, e);
	if (rc == 0 && u.upload_id == NULL) {
		rc = put_single(&u, &u.slots[0], e);
		published = rc == EXIT_OK;
	} else if (rc == 0) {
		rc = o->if_absent ? complete_absent(&u, e) : complete(&u, e);
		published = rc == 0;
	}
	/* failures from here on cannot take the object back: say so, no abort */
	if (published)
		rc = verify(&u, e);
	if (published && rc == 0)
		rc = lock_multipart(&u, e);
	if (o->note)
		o->note(o->ctx, NULL);	/* what follows goes to stderr as it is */
	if (!published && u.upload_id)
		abort_upload(&u);	/* even when a signal is why we stopped */
	if (rc == 0) {
		long long ms = s3_mono_ms() - u.t0;

		note(&u, "stored %s: %llu bytes in %d part%s, %.2f s, %.1f MiB/s", s3_cfg_url(s->cfg),
		    (unsigned long long)u.bytes_read, u.upload_id ? u.parts : 1,
		    u.upload_id && u.parts != 1 ? "s" : "", (double)ms / 1000,
		    mib_per_s(u.bytes_read, ms));
	}
	up_free(&u);
	return rc;
}
