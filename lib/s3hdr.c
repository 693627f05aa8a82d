/* s3hdr: the headers for what the objects written must be (see s3hdr.h). */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>

#include "s3hdr.h"

#define DAY 86400L

/* One "name: value" line into h, appended to r's headers. */
static int
add(struct s3_hdr *h, struct s3_req *r, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int
add(struct s3_hdr *h, struct s3_req *r, const char *fmt, ...)
{
	va_list ap;
	size_t i = 0, room = sizeof h->buf - h->used;
	int n;

	while (i < S3_REQ_HEADERS && r->headers[i])
		i++;
	if (i == S3_REQ_HEADERS)
		return -1;
	va_start(ap, fmt);
	n = vsnprintf(h->buf + h->used, room, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= room)
		return -1;
	r->headers[i] = h->buf + h->used;
	h->used += (size_t)n + 1;
	return 0;
}

int
s3_hdr_until(const struct s3_cfg *c, time_t now, char out[32])
{
	time_t t = now + (time_t)c->lock_days * DAY;
	struct tm tm;

	/* ISO 8601 in UTC, as S3 writes its own dates */
	if (gmtime_r(&t, &tm) == NULL || strftime(out, 32, "%Y-%m-%dT%H:%M:%S.000Z", &tm) == 0)
		return -1;
	return 0;
}

int
s3_hdr_add(struct s3_hdr *h, struct s3_req *r, const struct s3_cfg *c, enum s3_hdr_for k,
    time_t now)
{
	char until[32];
	int rc = 0;

	h->used = 0;

	if (k == S3_HDR_NEW && c->storage_class)
		rc |= add(h, r, "x-amz-storage-class: %s", c->storage_class);
	if (k == S3_HDR_NEW && c->sse)
		rc |= add(h, r, "x-amz-server-side-encryption: %s", c->sse);
	if (k == S3_HDR_NEW && c->sse_kms_key_id)
		rc |= add(h, r, "x-amz-server-side-encryption-aws-kms-key-id: %s",
		    c->sse_kms_key_id);
	if (c->sse_c_key) {
		rc |= add(h, r, "x-amz-server-side-encryption-customer-algorithm: AES256");
		rc |= add(h, r, "x-amz-server-side-encryption-customer-key: %s", c->sse_c_key);
		rc |= add(h, r, "x-amz-server-side-encryption-customer-key-md5: %s",
		    c->sse_c_key_md5);
	}
	if (k == S3_HDR_NEW && c->lock_mode) {
		if (s3_hdr_until(c, now, until) < 0)
			return -1;
		rc |= add(h, r, "x-amz-object-lock-mode: %s", c->lock_mode);
		rc |= add(h, r, "x-amz-object-lock-retain-until-date: %s", until);
	}
	return rc ? -1 : 0;
}

void
s3_hdr_wipe(struct s3_hdr *h)
{
	OPENSSL_cleanse(h->buf, sizeof h->buf);
	h->used = 0;
}

/*
 * What S3 answers a read of an SSE-C object (found on RGW 16 and in AWS's
 * documentation): without the key, 400 InvalidRequest (AWS) or 400
 * InvalidArgument (RGW); with another key, 403 AccessDenied (AWS) or 400
 * InvalidArgument (RGW: "the calculated MD5 hash of the key did not match").
 * A HEAD's answer has no body, so its code is "" (s3_head asks again by GET).
 */
int
s3_hdr_sse_c_refused(const struct s3 *s, const struct s3_resp *r, const char *key,
    struct log_err *e)
{
	const char *b = s->cfg->bucket;
	int bad = strcmp(r->code, "InvalidRequest") == 0 ||
	    strcmp(r->code, "InvalidArgument") == 0;

	if (s->cfg->sse_c_key == NULL && r->status == 400 && bad) {
		log_fail(e, EXIT_TEMP, "s3://%s/%s is encrypted with a customer key (SSE-C): "
		    "set sse_customer_key (or --sse-customer-key-file) to the key it was written "
		    "with (HTTP 400 %s)", b, key, r->code);
		return 1;
	}
	if (s->cfg->sse_c_key && ((r->status == 400 && bad) || (r->status == 403 &&
	    strcmp(r->code, "AccessDenied") == 0))) {
		log_fail(e, EXIT_TEMP, "s3://%s/%s cannot be read with this customer key "
		    "(SSE-C): check sse_customer_key is the key it was written with (HTTP %ld %s)",
		    b, key, r->status, r->code);
		return 1;
	}
	return 0;
}
