/* s3hdr: which headers each kind of request carries, and the lock's date. */
#include <stdlib.h>
#include <string.h>

#include "s3.h"
#include "s3hdr.h"
#include "s3tap.h"

/* r's headers joined with "|". */
static const char *
joined(const struct s3_req *r)
{
	static char buf[4096];
	size_t i, n = 0;

	buf[0] = '\0';
	for (i = 0; i < S3_REQ_HEADERS && r->headers[i]; i++)
		n += (size_t)snprintf(buf + n, sizeof buf - n, "%s%s", i ? "|" : "", r->headers[i]);
	return buf;
}

int
main(void)
{
	/* the SSE-C key: base64 of 32 zero bytes, and base64 of their MD5 */
	char key[] = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=";
	struct s3_cfg c;
	struct s3_req r;
	struct s3_hdr h;
	char until[32];
	int i;

	memset(&c, 0, sizeof c);
	memset(&r, 0, sizeof r);
	tap_ok(s3_hdr_add(&h, &r, &c, S3_HDR_NEW, 0) == 0 && r.headers[0] == NULL,
	    "no settings: no header");

	c.storage_class = "STANDARD_IA";
	c.sse = "aws:kms";
	c.sse_kms_key_id = "testkey-1";
	c.lock_mode = "COMPLIANCE";
	c.lock_days = 30;
	memset(&r, 0, sizeof r);
	r.headers[0] = S3_IF_ABSENT;
	tap_ok(s3_hdr_add(&h, &r, &c, S3_HDR_NEW, 1757412000) == 0, "a new object: added");
	tap_is(joined(&r), S3_IF_ABSENT "|x-amz-storage-class: STANDARD_IA"
	    "|x-amz-server-side-encryption: aws:kms"
	    "|x-amz-server-side-encryption-aws-kms-key-id: testkey-1"
	    "|x-amz-object-lock-mode: COMPLIANCE"
	    "|x-amz-object-lock-retain-until-date: 2025-10-09T10:00:00.000Z",
	    "...after the ones there: class, SSE-KMS, lock until upload + 30 days (UTC)");
	memset(&r, 0, sizeof r);
	s3_hdr_add(&h, &r, &c, S3_HDR_PART, 0);
	tap_ok(r.headers[0] == NULL, "UploadPart: none of those (they belong to the object)");
	memset(&r, 0, sizeof r);
	s3_hdr_add(&h, &r, &c, S3_HDR_READ, 0);
	tap_ok(r.headers[0] == NULL, "HEAD/GET: none of those either");
	tap_ok(s3_hdr_until(&c, 1767225599, until) == 0, "the date across a year's end");
	tap_is(until, "2026-01-30T23:59:59.000Z", "...is ISO 8601 UTC");

	memset(&c, 0, sizeof c);
	c.sse_c_key = key;
	snprintf(c.sse_c_key_md5, sizeof c.sse_c_key_md5, "%s", "cLyPS3KoaSFGi/joRB3OUQ==");
	for (i = S3_HDR_NEW; i <= S3_HDR_READ; i++) {
		memset(&r, 0, sizeof r);
		s3_hdr_add(&h, &r, &c, (enum s3_hdr_for)i, 0);
		tap_is(joined(&r), "x-amz-server-side-encryption-customer-algorithm: AES256"
		    "|x-amz-server-side-encryption-customer-key: " "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="
		    "|x-amz-server-side-encryption-customer-key-md5: cLyPS3KoaSFGi/joRB3OUQ==",
		    i == S3_HDR_NEW ? "SSE-C on a new object" : i == S3_HDR_PART ?
		    "SSE-C on UploadPart too" : "SSE-C on HEAD and GET too");
	}
	s3_hdr_wipe(&h);
	tap_ok(strstr(h.buf, "AAAA") == NULL && h.used == 0, "s3_hdr_wipe leaves no key behind");

	/* a full request has no room: an error, not an overflow */
	memset(&r, 0, sizeof r);
	for (i = 0; i < S3_REQ_HEADERS - 1; i++)
		r.headers[i] = "x-a: b";
	tap_ok(s3_hdr_add(&h, &r, &c, S3_HDR_READ, 0) == -1, "no room left: -1");
	return tap_done();
}
