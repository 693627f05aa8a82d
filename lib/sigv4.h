/*
 * sigv4: AWS Signature Version 4 for S3 requests, header-based, with a
 * signed payload (x-amz-content-sha256 carries the SHA-256 of the body).
 *
 * Pure functions on libcrypto: no I/O, no clock, so that the published
 * worked examples can be checked byte for byte (tests/unit/sigv4.c).
 */
#ifndef PGBAK_SIGV4_H
#define PGBAK_SIGV4_H

#include <stddef.h>

/* Hex SHA-256 of the empty string: the payload hash of a request without a body. */
#define SIGV4_EMPTY_SHA256 \
	"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

struct sigv4_header {
	const char *name;	/* any case; signed lowercased */
	const char *value;	/* trimmed, inner runs of spaces folded */
};

struct sigv4_request {
	const char *method;	/* "GET", "PUT", ... */
	const char *path;	/* canonical URI: already encoded, see sigv4_encode() */
	const char *query;	/* canonical query string, see sigv4_query(); NULL is "" */
	const struct sigv4_header *headers; /* every header to sign, incl. host, x-amz-date */
	size_t nheaders;
	const char *payload_hash; /* hex SHA-256 of the body (or "UNSIGNED-PAYLOAD") */
};

struct sigv4_cred {
	const char *access_key;
	const char *secret;
	const char *region;
	const char *service;	/* "s3" */
};

/* Encode s per S3's URI rules: unreserved A-Za-z0-9-._~ kept, everything
 * else %XX (uppercase hex, space is %20); '/' kept when keep_slash (object
 * key paths), encoded otherwise (query names and values).  malloc'd. */
char *sigv4_encode(const char *s, int keep_slash);

struct sigv4_param {
	const char *name;
	const char *value;	/* NULL or "": "name=" */
};

/* The canonical query string of n parameters (raw, unencoded): each name and
 * value encoded, sorted by encoded name then value, "a=1&b=".  malloc'd; ""
 * for n == 0.  Use the same string in the URL, so what is sent is signed. */
char *sigv4_query(const struct sigv4_param *p, size_t n);

/* The canonical request (for tests and debugging).  malloc'd, NULL on ENOMEM. */
char *sigv4_canonical_request(const struct sigv4_request *r);

/* The Authorization header value for r signed at amz_date ("20130524T000000Z").
 * malloc'd, NULL on ENOMEM. */
char *sigv4_authorization(const struct sigv4_cred *c, const char *amz_date,
    const struct sigv4_request *r);

/* out = lowercase hex of n bytes. */
void sigv4_hex(char *out, const unsigned char *p, size_t n);

/* out = hex SHA-256 of p[0..n). */
void sigv4_sha256_hex(char out[65], const void *p, size_t n);

/* t (seconds since the epoch) as "YYYYMMDDTHHMMSSZ". */
void sigv4_amz_date(char out[17], long long t);

#endif
