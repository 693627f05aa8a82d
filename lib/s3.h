/*
 * s3: a small S3 client on libcurl: signed requests (sigv4), retries with
 * backoff, S3 error codes from the XML body (s3xml), and the object and
 * multipart-upload operations the pgbak programs need.
 *
 * One request runs on one curl easy handle, a struct s3_xfer, which is
 * reused so connections are kept alive.  s3_call() runs a request to its end
 * on the client's own handle, retrying as S3 asks; a caller that wants
 * several requests in flight (pgbak-put's parts) drives its own s3_xfers in
 * a curl multi handle with s3_xfer_start() and s3_xfer_end(), which hold
 * the same signing and retry rules.
 *
 * Errors read "unable to WHAT s3://BUCKET/KEY at ENDPOINT: CAUSE", where
 * CAUSE is "HTTP 403 SignatureDoesNotMatch", a curl message, or
 * "interrupted by signal 15".
 */
#ifndef PGBAK_S3_H
#define PGBAK_S3_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

#include <curl/curl.h>

#include "log.h"
#include "s3cfg.h"

#define S3_BODY_MAX (256 * 1024)	/* a reply body kept for its XML; the rest is dropped */

/* Set to a signal number (from a handler) to end transfers and retries at once. */
extern volatile sig_atomic_t s3_stop;

/* What pgbak-put says when it stops with a multipart upload it could not
 * abort (the one text pgbak-run looks for in what it says). */
#define S3_UPLOAD_LEFT "multipart upload left behind"

struct s3_resp {
	long status;		/* HTTP status; 0: no answer */
	char code[64];		/* S3 error Code of an XML body, or "" */
	char etag[128];		/* as sent, quotes and all */
	char last_modified[64];
	char content_range[96];
	char location[1024];	/* a redirect's Location, without query or fragment */
	uint64_t length;	/* Content-Length, when has_length */
	int has_length;
	char *body;		/* the body no sink took (first S3_BODY_MAX bytes) */
	int cut;		/* ...and the rest was not read: the transfer was ended */
	size_t len;
	uint64_t sunk;		/* bytes given to the sink */
};

/* Takes a 2xx response body (resp.status and headers are set by then);
 * 0, or -1 with errno set (the transfer ends). */
typedef int s3_sink_fn(void *ctx, const char *p, size_t n);

struct s3_req {
	const char *what;	/* for messages: "upload part 3 of", "check" */
	const char *method;	/* GET HEAD PUT POST DELETE */
	const char *key;	/* NULL: the bucket */
	const char *query;	/* canonical query string (sigv4_query), or NULL */
	const unsigned char *body; /* PUT/POST body; NULL: none (empty) */
	size_t len;
	const char *sha256;	/* hex SHA-256 of body; NULL: computed */
	const char *md5;	/* base64 MD5 of body for Content-MD5; NULL: computed */
	const char *headers[4];	/* more "name: value" headers to send and sign, NULL-ended */
	s3_sink_fn *sink;	/* NULL: 2xx bodies go to resp.body */
	void *sink_ctx;
	int slow;		/* the server may think long before answering (Complete) */
};

struct s3_xfer {
	CURL *h;
	struct curl_slist *hdrs;
	char *url;
	const struct s3_req *req; /* must live until s3_xfer_end */
	size_t off;		/* of the body sent */
	int attempt;		/* attempts started for req */
	int retryable;		/* after s3_xfer_end: the failure was transient */
	int sink_errno;
	struct s3_resp resp;
	char errbuf[CURL_ERROR_SIZE];
};

struct s3 {
	const struct s3_cfg *cfg;
	struct s3_xfer x;	/* s3_call's */
	long timeout;		/* seconds s3_set_timeout gave; 0: none */
	long long deadline;	/* CLOCK_MONOTONIC ms when every request stops; 0: none */
};

int s3_init(struct s3 *s, const struct s3_cfg *cfg, struct log_err *e);
void s3_free(struct s3 *s);

/* --timeout SECONDS, for the programs that take it: getopt_long's entry
 * (the user includes getopt.h), its value, its --help line. */
#define S3_TIMEOUT_OPT 0x7400
#define S3_TIMEOUT_LONG { "timeout", required_argument, NULL, S3_TIMEOUT_OPT }
#define S3_TIMEOUT_HELP \
	"      --timeout SECONDS     give up after SECONDS in all (default: no limit)\n"
#define S3_TIMEOUT_MAX (366L * 24 * 3600)

/* --timeout's argument: whole seconds, 0 to S3_TIMEOUT_MAX (0: none).
 * 0, or -1 with e (EXIT_USAGE). */
int s3_timeout_arg(const char *arg, long *secs, struct log_err *e);

/* From now on every request of s, with its retries and waits, ends within
 * secs seconds in all, and then fails naming the timeout; 0: no deadline.
 * Without one, a transfer still ends when it stalls (PGBAK_S3_STALL). */
void s3_set_timeout(struct s3 *s, long secs);

int s3_xfer_init(struct s3_xfer *x, struct log_err *e);
void s3_xfer_free(struct s3_xfer *x);

/* Sign r and set x's handle up for it (a new attempt when r is x's last
 * request, attempt 1 otherwise); then run x->h (easy or multi). */
int s3_xfer_start(struct s3 *s, struct s3_xfer *x, const struct s3_req *r,
    struct log_err *e);

/* Judge x's finished transfer (cc from curl): 0 success (2xx and not an
 * <Error> body), 1 try again after s3_backoff_ms(x->attempt), -1 failed (e).
 * A request whose sink already took bytes is never tried again here
 * (x->retryable tells the caller it could resume). */
int s3_xfer_end(struct s3 *s, struct s3_xfer *x, CURLcode cc, struct log_err *e);

/* Milliseconds to wait after failed attempt n: exponential with jitter. */
long s3_backoff_ms(int attempt);

/* Sleep ms, cut short by s3_stop.  0, or -1 when s3_stop is set. */
int s3_sleep_ms(long ms);

/* Run r to its end with retries on s->x.  0 on success, else -1 and e;
 * s->x.resp holds the last answer (status 404 and all). */
int s3_call(struct s3 *s, const struct s3_req *r, struct log_err *e);

/* HEAD the object: 1 exists (s->x.resp has length, etag, last-modified),
 * 0 absent (the bucket exists), -1 anything else (e names the S3 code). */
int s3_head(struct s3 *s, const char *key, struct log_err *e);

/* CreateMultipartUpload; *upload_id malloc'd. */
int s3_mpu_create(struct s3 *s, const char *key, char **upload_id, struct log_err *e);

/* The UploadPart request for part n of body (sha256 hex, md5 base64 given);
 * query is a buffer the request points into (freed by the caller). */
int s3_mpu_part_req(struct s3_req *r, const char *key, const char *upload_id, int n,
    const unsigned char *body, size_t len, const char *sha256, const char *md5,
    char **query);

/* Store only if the key does not exist yet: 412 PreconditionFailed if it does
 * (AWS S3 on PUT and Complete; RGW 16 on PUT only). */
#define S3_IF_ABSENT "if-none-match: *"

/* CompleteMultipartUpload with parts 1..n and their ETags; if_absent sends
 * S3_IF_ABSENT. */
int s3_mpu_complete(struct s3 *s, const char *key, const char *upload_id,
    char *const *etags, int n, int if_absent, struct log_err *e);

/* AbortMultipartUpload; an upload already gone (404 NoSuchUpload) is success. */
int s3_mpu_abort(struct s3 *s, const char *key, const char *upload_id, struct log_err *e);

/* Called for each in-progress upload; non-zero stops the listing. */
typedef int s3_upload_fn(void *ctx, const char *key, const char *upload_id,
    const char *initiated);

/* ListMultipartUploads under prefix (all pages). */
int s3_mpu_list(struct s3 *s, const char *prefix, s3_upload_fn *fn, void *ctx,
    struct log_err *e);

/* "2025-09-09T10:00:00.000Z" (S3's Initiated) -> seconds since the epoch, -1 if not. */
long long s3_time(const char *iso);

/* One object of a listing. */
struct s3_object {
	const char *key;
	uint64_t size;
	const char *last_modified;	/* "2025-09-09T10:00:00.000Z", see s3_time() */
};

/* Called for each object, in key order; non-zero stops the listing. */
typedef int s3_object_fn(void *ctx, const struct s3_object *o);

/* ListObjectsV2 under prefix, every page.  A page (1000 keys) is streamed
 * into the parser, not kept whole, and its objects are passed to fn once
 * the page was read to its end: a page cut and asked again shows no object
 * twice.  A listing that cannot be followed to its end is an error. */
int s3_list(struct s3 *s, const char *prefix, s3_object_fn *fn, void *ctx,
    struct log_err *e);

/* One ListObjectsV2 page parsed: s3_list's pure part, for tests. */
struct s3_list_entry {
	char *key;
	uint64_t size;
	char last_modified[40];
};

struct s3_list_page {
	struct s3_list_entry *v;
	size_t n, cap;
	int truncated;		/* IsTruncated: another page follows */
	char *next;		/* NextContinuationToken, or NULL */
	int root;		/* 1 ListBucketResult, -1 another (an Error), 0 none yet */
	int nomem;
	struct s3_list_entry cur; /* the Contents being read */
};

/* 0, or -1 when doc is not XML or not a ListBucketResult (pg then holds
 * what was read; free it either way). */
int s3_list_parse(struct s3_list_page *pg, const char *doc, size_t len);
void s3_list_page_free(struct s3_list_page *pg);

#define S3_DELETE_MAX 1000	/* keys in one DeleteObjects request */

/* DeleteObjects in batches of S3_DELETE_MAX, quiet: success only when every
 * key was deleted (a key already gone counts as deleted); else e names the
 * first key S3 refused and its code. */
int s3_delete_many(struct s3 *s, char *const *keys, size_t n, struct log_err *e);

/* The pure parts of s3_delete_many, for tests: the request body for n keys
 * (malloc'd, *len set; NULL when out of memory), and the reply's verdict:
 * the number of <Error>s, the first one's Key and Code (cut to fit), -1
 * when doc is not a DeleteResult. */
char *s3_delete_body(char *const *keys, size_t n, size_t *len);
long s3_delete_errors(const char *doc, size_t len, char *key, size_t kcap, char *code,
    size_t ccap);

#endif
