/*
 * s3xfer: the transport of lib/s3: one signed request (sigv4) on a curl
 * easy handle, with the retry rule, backoff, stall and deadline that hold
 * for every S3 request pgbak makes.  It knows HTTP and S3's error replies
 * (s3xml), not what any operation means: that is lib/s3 (head, multipart
 * upload, list, delete), lib/s3get and lib/s3put.
 *
 * One request runs on one curl easy handle, a struct s3_xfer, which is
 * reused so connections are kept alive.  s3_call() runs a request to its end
 * on the client's own handle, retrying as S3 asks; a caller that wants
 * several requests in flight (lib/s3put's parts) drives its own s3_xfers in
 * a curl multi handle with s3_xfer_start() and s3_xfer_end(), which hold
 * the same signing and retry rules.
 *
 * Errors read "unable to WHAT s3://BUCKET/KEY at ENDPOINT: CAUSE", where
 * CAUSE is "HTTP 403 SignatureDoesNotMatch", a curl message, or
 * "interrupted by signal 15".
 */
#ifndef PGBAK_S3XFER_H
#define PGBAK_S3XFER_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

#include <curl/curl.h>

#include "creds.h"
#include "log.h"
#include "pace.h"
#include "s3cfg.h"

/* The header a HEAD of a locked object tells how long it is locked by. */
#define S3_LOCK_UNTIL "x-amz-object-lock-retain-until-date"

#define S3_BODY_MAX (256 * 1024)	/* a reply body kept for its XML; the rest is dropped */

/* Set to a signal number (from a handler) to end transfers and retries at once. */
extern volatile sig_atomic_t s3_stop;

struct s3_resp {
	long status;		/* HTTP status; 0: no answer */
	char code[64];		/* S3 error Code of an XML body, or "" */
	char etag[128];		/* as sent, quotes and all */
	char last_modified[64];
	char content_range[96];
	char lock_until[64];	/* x-amz-object-lock-retain-until-date, or "" */
	char location[1024];	/* a redirect's Location, without query or fragment */
	uint64_t length;	/* Content-Length, when has_length */
	int has_length;
	char *body;		/* the body no sink took (first S3_BODY_MAX bytes) */
	int cut;		/* ...and the rest was not read: the transfer was ended */
	size_t len;
	uint64_t sunk;		/* bytes given to the sink */
};

/* Takes a 2xx response body (resp.status and headers are set by then);
 * 0, or -1 with errno set (the transfer ends), or 1: not now, the same
 * bytes again after curl_easy_pause(CURLPAUSE_CONT) (the transfer waits). */
typedef int s3_sink_fn(void *ctx, const char *p, size_t n);

/* Room for the extra headers of one request: lib/s3hdr's for a new object
 * (S3_HDR_MAX) and one more (If-None-Match, Range). */
#define S3_REQ_HEADERS 12

struct s3_req {
	const char *what;	/* for messages: "upload part 3 of", "check" */
	const char *method;	/* GET HEAD PUT POST DELETE */
	const char *key;	/* NULL: the bucket */
	const char *query;	/* canonical query string (sigv4_query), or NULL */
	const unsigned char *body; /* PUT/POST body; NULL: none (empty) */
	size_t len;
	const char *sha256;	/* hex SHA-256 of body; NULL: computed */
	const char *md5;	/* base64 MD5 of body for Content-MD5; NULL: computed */
	int no_md5;		/* no Content-MD5: the signed SHA-256 proves the body */
	const char *headers[S3_REQ_HEADERS]; /* more "name: value" to send and sign, NULL-ended */
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
	struct pace *pace;	/* the client's cap (max_rate), or NULL */
	struct s3_resp resp;
	char errbuf[CURL_ERROR_SIZE];
};

struct s3 {
	const struct s3_cfg *cfg;
	struct creds_chain *creds; /* asked at each signing; NULL: cfg's keys (s3_init) */
	struct s3_xfer x;	/* s3_call's */
	long timeout;		/* seconds s3_set_timeout gave; 0: none */
	long long deadline;	/* CLOCK_MONOTONIC ms when every request stops; 0: none */
	struct pace pace;	/* cfg->max_rate over every transfer of this client */
};

/* Start s with cfg's own keys (s->creds NULL); s3_open adds the chain. */
int s3_init(struct s3 *s, const struct s3_cfg *cfg, struct log_err *e);
/* Free s, its chain included. */
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

/* The one retry rule: a failed attempt (cc from curl, status the HTTP
 * status, 2xx when it carried an <Error> body) that S3 or the network asks
 * to try again: a transient transport error, 5xx, 408, 429, an <Error> in
 * a 2xx.  Never a 3xx or another 4xx, nor TLS trust. */
int s3_retryable(CURLcode cc, long status);

/* Judge x's finished transfer (cc from curl): 0 success (2xx and not an
 * <Error> body), 1 try again (s3_retryable, fewer than cfg->tries attempts
 * and no byte given to the sink) after s3_retry_delay_ms(s, x->attempt),
 * -1 failed (e).
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

/* "unable to WHAT s3://BUCKET/KEY at ENDPOINT: " + cause, into e (EXIT_TEMP);
 * -1.  The one shape of every S3 failure message. */
int s3_fail(const struct s3 *s, const struct s3_req *r, struct log_err *e, const char *fmt,
    ...) __attribute__((format(printf, 4, 5)));

/* The clock of s->deadline and of every wait here: CLOCK_MONOTONIC, in ms. */
long long s3_mono_ms(void);

/* Milliseconds before attempt n + 1: s3_backoff_ms(n), but not past the
 * deadline (where that attempt fails at once).  Whoever retries, s3_call or
 * a caller driving its own s3_xfers, waits this long. */
long s3_retry_delay_ms(const struct s3 *s, int n);

/* Sleep s3_retry_delay_ms(s, n).  0, or -1 when s3_stop is set. */
int s3_retry_wait(const struct s3 *s, int n);

#endif
