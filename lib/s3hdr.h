/*
 * s3hdr: the one place that says which extra headers a request about an
 * object carries for what the settings ask of the objects pgbak writes:
 * storage class, server-side encryption (S3's or the customer's key,
 * SSE-C), and Object Lock.  S3 wants them on the request that makes the
 * object (PutObject, CreateMultipartUpload); the SSE-C key also on every
 * request that writes or reads its bytes (UploadPart, HEAD, GET), since S3
 * keeps only the key's MD5.  And the one place that words S3's refusal to
 * read an SSE-C object without its key.
 */
#ifndef PGBAK_S3HDR_H
#define PGBAK_S3HDR_H

#include <time.h>

#include "s3xfer.h"

#define S3_HDR_MAX 8		/* the most headers s3_hdr_add adds to one request */

enum s3_hdr_for {
	S3_HDR_NEW,		/* PutObject, CreateMultipartUpload: the new object's */
	S3_HDR_PART,		/* UploadPart: the SSE-C key */
	S3_HDR_READ		/* HEAD, GET: the SSE-C key */
};

/* The header lines of one request: must live as long as the request. */
struct s3_hdr {
	char buf[2560];		/* a KMS key id (2048 bytes at most) and the rest */
	size_t used;
};

/* Add to r->headers, after those already there, the headers of cfg c for a
 * request of kind k, their lines written anew into h; now is the upload
 * time (Object Lock's retain-until is now + c->lock_days).  0, or -1 when r
 * or h has no room (a bug). */
int s3_hdr_add(struct s3_hdr *h, struct s3_req *r, const struct s3_cfg *c, enum s3_hdr_for k,
    time_t now);

/* Object Lock's retain-until date for an upload at now: now + c->lock_days,
 * as "2025-09-09T10:00:00.000Z".  0, or -1. */
int s3_hdr_until(const struct s3_cfg *c, time_t now, char out[32]);

/* Wipe h: it may hold the SSE-C key. */
void s3_hdr_wipe(struct s3_hdr *h);

/* After a HEAD or GET of key failed (e set, r its last answer: s->x.resp,
 * or a ranged GET's own): when the answer is S3 refusing an SSE-C object
 * for a missing or wrong customer key, put that in e in one line, and 1;
 * else 0. */
int s3_hdr_sse_c_refused(const struct s3 *s, const struct s3_resp *r, const char *key,
    struct log_err *e);

#endif
