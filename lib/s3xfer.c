/* s3xfer: signed requests on curl, retries and deadlines (see s3xfer.h). */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "s3xfer.h"
#include "s3xml.h"
#include "sigv4.h"

#define CONNECT_TIMEOUT 15L	/* seconds to set up TCP and TLS */
#define LOW_SPEED 1024L		/* bytes/s under which a transfer counts as stalled */
#define DEADLINE_SLACK_MS 1000	/* a timeout this close to the deadline is the deadline */
#define BACKOFF_BASE 500L	/* ms before the second attempt, doubled each time */
#define BACKOFF_CAP 20000L

/* Where S3's PermanentRedirect (no Location) says the bucket lives */
#define XML_ERROR_ENDPOINT "Error/Endpoint"
/* The S3 error code of any failed request's body */
#define XML_ERROR_CODE "Error/Code"

volatile sig_atomic_t s3_stop;

int
s3_xfer_init(struct s3_xfer *x, struct log_err *e)
{
	memset(x, 0, sizeof *x);
	if ((x->h = curl_easy_init()) == NULL)
		return log_fail(e, EXIT_TEMP, "unable to start libcurl");
	return 0;
}

static void
resp_clear(struct s3_resp *r)
{
	free(r->body);
	memset(r, 0, sizeof *r);
}

void
s3_xfer_free(struct s3_xfer *x)
{
	if (x->h)
		curl_easy_cleanup(x->h);
	curl_slist_free_all(x->hdrs);
	free(x->url);
	resp_clear(&x->resp);
	memset(x, 0, sizeof *x);
}

long long
s3_mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int
s3_timeout_arg(const char *arg, long *secs, struct log_err *e)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(arg, &end, 10);
	if (errno || end == arg || *end || v < 0 || v > S3_TIMEOUT_MAX)
		return log_fail(e, EXIT_USAGE, "--timeout wants whole seconds from 0 (no limit) "
		    "to %ld, not \"%.32s\"", S3_TIMEOUT_MAX, arg);
	*secs = v;
	return 0;
}

void
s3_set_timeout(struct s3 *s, long secs)
{
	s->timeout = secs;
	s->deadline = secs > 0 ? s3_mono_ms() + secs * 1000LL : 0;
}

int
s3_init(struct s3 *s, const struct s3_cfg *cfg, struct log_err *e)
{
	static int inited;

	if (!inited) {
		if (curl_global_init(CURL_GLOBAL_DEFAULT) != 0)
			return log_fail(e, EXIT_TEMP, "unable to start libcurl");
		srandom((unsigned)time(NULL) ^ (unsigned)getpid());
		inited = 1;
	}
	s->cfg = cfg;
	memset(&s->pace, 0, sizeof s->pace);
	s->creds = NULL;
	s3_set_timeout(s, 0);
	return s3_xfer_init(&s->x, e);
}

void
s3_free(struct s3 *s)
{
	s3_xfer_free(&s->x);
	creds_close(s->creds);
	s->creds = NULL;
}

/* The object's name in messages: "s3://bucket/key" or "s3://bucket/". */
static void
object_name(char *buf, size_t n, const struct s3 *s, const char *key)
{
	snprintf(buf, n, "s3://%s/%s", s->cfg->bucket, key ? key : "");
}

int
s3_fail(const struct s3 *s, const struct s3_req *r, struct log_err *e, const char *fmt, ...)
{
	char obj[1400];
	va_list ap;
	size_t n;

	if (e == NULL)
		return -1;
	object_name(obj, sizeof obj, s, r->key);
	e->status = EXIT_TEMP;
	n = (size_t)snprintf(e->msg, sizeof e->msg, "unable to %s %s at %s: ", r->what, obj,
	    s->cfg->endpoint);
	if (n < sizeof e->msg) {
		va_start(ap, fmt);
		vsnprintf(e->msg + n, sizeof e->msg - n, fmt, ap);
		va_end(ap);
	}
	return -1;
}

/* The deadline passed: the one failure no retry can mend. */
static int
timed_out(const struct s3 *s, const struct s3_req *r, struct log_err *e)
{
	return s3_fail(s, r, e, "timed out after %ld s (--timeout)", s->timeout);
}

long
s3_retry_delay_ms(const struct s3 *s, int n)
{
	long long ms = s3_backoff_ms(n), left = s->deadline - s3_mono_ms();

	if (s->deadline && left < ms)
		ms = left > 0 ? left : 0;
	return (long)ms;
}

int
s3_retry_wait(const struct s3 *s, int n)
{
	return s3_sleep_ms(s3_retry_delay_ms(s, n));
}

/* Wait as max_rate wants after n bytes moved (lib/pace): 0, or -1 when
 * a signal stops us meanwhile. */
static int
paced(struct s3_xfer *x, size_t n)
{
	struct timespec now, ts;
	long long ns;

	if (x->pace == NULL || n == 0)
		return 0;
	clock_gettime(CLOCK_MONOTONIC, &now);
	ns = pace_take(x->pace, n, (long long)now.tv_sec * 1000000000LL + now.tv_nsec);
	ts.tv_sec = (time_t)(ns / 1000000000LL);
	ts.tv_nsec = (long)(ns % 1000000000LL);
	while (ns > 0 && !s3_stop && nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
	return s3_stop ? -1 : 0;
}

static size_t
on_read(char *buf, size_t size, size_t nmemb, void *data)
{
	struct s3_xfer *x = data;
	size_t n = size * nmemb, left = x->req->len - x->off;

	if (n > left)
		n = left;
	if (x->pace)
		n = pace_chunk(x->pace, n);
	if (n)
		memcpy(buf, x->req->body + x->off, n);
	x->off += n;
	return paced(x, n) < 0 ? CURL_READFUNC_ABORT : n;
}

static int
on_seek(void *data, curl_off_t off, int origin)
{
	struct s3_xfer *x = data;

	if (origin != SEEK_SET || off < 0 || (uint64_t)off > x->req->len)
		return CURL_SEEKFUNC_CANTSEEK;
	x->off = (size_t)off;
	return CURL_SEEKFUNC_OK;
}

/* Copy a header's value (trimmed) when line is "name: value". */
static int
header_value(const char *line, size_t n, const char *name, char *out, size_t cap)
{
	size_t k = strlen(name);

	if (n <= k || strncasecmp(line, name, k) != 0 || line[k] != ':')
		return 0;
	line += k + 1;
	n -= k + 1;
	while (n && (*line == ' ' || *line == '\t'))
		line++, n--;
	while (n && (line[n - 1] == '\r' || line[n - 1] == '\n' || line[n - 1] == ' '))
		n--;
	if (n >= cap)
		n = cap - 1;
	memcpy(out, line, n);
	out[n] = '\0';
	return 1;
}

static size_t
on_header(char *line, size_t size, size_t nmemb, void *data)
{
	struct s3_xfer *x = data;
	struct s3_resp *r = &x->resp;
	size_t n = size * nmemb;
	char num[32];

	if (n >= 5 && strncmp(line, "HTTP/", 5) == 0) {
		/* a new response (after 100 Continue): forget the last one's headers */
		r->etag[0] = r->last_modified[0] = r->content_range[0] = r->location[0] = '\0';
		r->lock_until[0] = '\0';
		r->has_length = 0;
	} else if (header_value(line, n, "location", r->location, sizeof r->location)) {
		/* a presigned redirect carries credentials in its query: never shown */
		r->location[strcspn(r->location, "?#")] = '\0';
	} else if (header_value(line, n, "content-length", num, sizeof num)) {
		r->length = strtoull(num, NULL, 10);
		r->has_length = 1;
	} else if (!header_value(line, n, "etag", r->etag, sizeof r->etag) &&
	    !header_value(line, n, "last-modified", r->last_modified, sizeof r->last_modified) &&
	    /* the lock S3 applied, as a HEAD tells it */
	    !header_value(line, n, S3_LOCK_UNTIL, r->lock_until, sizeof r->lock_until)) {
		header_value(line, n, "content-range", r->content_range, sizeof r->content_range);
	}
	return n;
}

static size_t
take_body(char *p, size_t size, size_t nmemb, void *data)
{
	struct s3_xfer *x = data;
	struct s3_resp *r = &x->resp;
	size_t n = size * nmemb, keep;
	char *b;

	/* the sink may look at the status and headers of the answer it takes */
	curl_easy_getinfo(x->h, CURLINFO_RESPONSE_CODE, &r->status);
	if (r->status / 100 == 2 && x->req->sink) {
		int rc = x->req->sink(x->req->sink_ctx, p, n);

		if (rc < 0) {
			x->sink_errno = errno ? errno : EIO;
			return 0;
		}
		if (rc > 0)
			return CURL_WRITEFUNC_PAUSE;
		r->sunk += n;
		return n;
	}
	if (r->len == S3_BODY_MAX && n > 0) {
		/* an error body that goes on and on: what it says is in the start */
		r->cut = 1;
		return 0;
	}
	keep = n;
	if (keep > S3_BODY_MAX - r->len)
		keep = S3_BODY_MAX - r->len;
	if (keep) {
		if ((b = realloc(r->body, r->len + keep + 1)) == NULL)
			return 0;
		memcpy(b + r->len, p, keep);
		r->len += keep;
		b[r->len] = '\0';
		r->body = b;
	}
	return n;
}

static size_t
on_write(char *p, size_t size, size_t nmemb, void *data)
{
	size_t n = take_body(p, size, nmemb, data);

	return paced(data, n) < 0 ? 0 : n;
}

static int
on_progress(void *data, curl_off_t dt, curl_off_t dn, curl_off_t ut, curl_off_t un)
{
	(void)data, (void)dt, (void)dn, (void)ut, (void)un;
	return s3_stop != 0;
}

/* Sized to fit: a session token can be a few KiB. */
static int
add_header(struct s3_xfer *x, const char *name, const char *value)
{
	size_t n = strlen(name) + strlen(value) + 3;
	struct curl_slist *l;
	char *buf;

	if ((buf = malloc(n)) == NULL)
		return -1;
	snprintf(buf, n, "%s: %s", name, value);
	l = curl_slist_append(x->hdrs, buf);
	OPENSSL_cleanse(buf, n);
	free(buf);
	if (l == NULL)
		return -1;
	x->hdrs = l;
	return 0;
}

/* The path sent and signed: base path, '/', the encoded key. */
static char *
request_path(const struct s3 *s, const char *key)
{
	const char *bp = s->cfg->base_path;
	char *ek, *p;
	size_t n;

	if (key == NULL)
		return strdup(*bp ? bp : "/");
	if ((ek = sigv4_encode(key, 1)) == NULL)
		return NULL;
	n = strlen(bp) + strlen(ek) + 2;
	if ((p = malloc(n)) != NULL)
		snprintf(p, n, "%s/%s", bp, ek);
	free(ek);
	return p;
}

static void
md5_base64(char out[25], const unsigned char *p, size_t n)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int len = 0;

	EVP_Digest(p, n, md, &len, EVP_md5(), NULL);
	EVP_EncodeBlock((unsigned char *)out, md, (int)len);
}

#define MAX_SIGNED (6 + S3_REQ_HEADERS)

/* The credentials to sign with now: the chain's, refreshed as it sees fit
 * (a long multipart upload outlives one role session), or cfg's own. */
static int
sign_creds(struct s3 *s, const struct s3_req *r, const struct creds **k, struct creds *own,
    struct log_err *e)
{
	struct log_err ce;

	if (s->creds == NULL) {
		*own = (struct creds){ s->cfg->access_key, s->cfg->secret, s->cfg->token, 0 };
		*k = own;
		return 0;
	}
	switch (creds_get(s->creds, k, &ce)) {
	case 1:		/* a library warns only here: the upload goes on, the user must know */
		warn("%s", ce.msg);
		return 0;
	case 0:
		return 0;
	default:
		s3_fail(s, r, e, "%s", ce.msg);
		e->status = ce.status;
		return -1;
	}
}

/* Headers, signature and URL of one attempt. */
static int
sign(struct s3 *s, struct s3_xfer *x, const struct s3_req *r, const char *path,
    const struct creds *kc)
{
	const struct s3_cfg *c = s->cfg;
	struct sigv4_header h[MAX_SIGNED];
	struct sigv4_cred cred = { kc->access_key, kc->secret, c->region, "s3" };
	struct sigv4_request sr = { r->method, path, r->query, h, 0, NULL };
	char date[17], sha[65], md5[25], names[S3_REQ_HEADERS][64], *auth;
	size_t i, n = 0, k;
	int rc = 0;

	sigv4_amz_date(date, (long long)time(NULL));
	if (r->sha256)
		snprintf(sha, sizeof sha, "%s", r->sha256);
	else
		sigv4_sha256_hex(sha, r->body ? r->body : (const unsigned char *)"", r->len);
	h[n++] = (struct sigv4_header){ "host", c->host };
	h[n++] = (struct sigv4_header){ "x-amz-date", date };
	h[n++] = (struct sigv4_header){ "x-amz-content-sha256", sha };
	if (r->body && !r->no_md5) {
		if (r->md5)
			snprintf(md5, sizeof md5, "%s", r->md5);
		else
			md5_base64(md5, r->body, r->len);
		h[n++] = (struct sigv4_header){ "content-md5", md5 };
	}
	if (kc->token)
		h[n++] = (struct sigv4_header){ "x-amz-security-token", kc->token };
	for (i = 0; i < S3_REQ_HEADERS && r->headers[i]; i++) {
		k = strcspn(r->headers[i], ":");
		snprintf(names[i], sizeof names[i], "%.*s", (int)k, r->headers[i]);
		h[n].name = names[i];
		h[n++].value = r->headers[i][k] ? r->headers[i] + k + 1 : "";
	}
	sr.nheaders = n;
	sr.payload_hash = sha;
	if ((auth = sigv4_authorization(&cred, date, &sr)) == NULL)
		return -1;
	for (i = 0; i < n && rc == 0; i++)
		rc = add_header(x, h[i].name, h[i].value);
	if (rc == 0)
		rc = add_header(x, "authorization", auth);
	free(auth);
	/* no 100-continue round trip: a refused body is re-sent from memory anyway */
	if (rc == 0 && (x->hdrs = curl_slist_append(x->hdrs, "Expect:")) == NULL)
		rc = -1;
	return rc;
}

int
s3_xfer_start(struct s3 *s, struct s3_xfer *x, const struct s3_req *r, struct log_err *e)
{
	const struct s3_cfg *c = s->cfg;
	const struct creds *k;
	struct creds own;
	CURL *h = x->h;
	long long left;
	char *path;
	size_t n;

	x->attempt = x->req == r ? x->attempt + 1 : 1;
	x->req = r;
	x->off = 0;
	x->retryable = 0;
	x->sink_errno = 0;
	s->pace.rate = c->max_rate;
	x->pace = c->max_rate ? &s->pace : NULL;
	x->errbuf[0] = '\0';
	resp_clear(&x->resp);
	curl_slist_free_all(x->hdrs);
	x->hdrs = NULL;
	free(x->url);
	x->url = NULL;

	/* what is left of the deadline, read once: 0 would mean "no limit" to curl */
	left = s->deadline ? s->deadline - s3_mono_ms() : 0;
	if (s->deadline && left <= 0)
		return timed_out(s, r, e);
	if (sign_creds(s, r, &k, &own, e) < 0)
		return -1;
	if ((path = request_path(s, r->key)) == NULL)
		return s3_fail(s, r, e, "out of memory");
	n = strlen(c->endpoint) + strlen(c->host) + strlen(path) +
	    (r->query ? strlen(r->query) : 0) + 16;
	if ((x->url = malloc(n)) == NULL || sign(s, x, r, path, k) < 0) {
		free(path);
		return s3_fail(s, r, e, "out of memory");
	}
	/* scheme://host + path: the host is the signed one, bucket included */
	snprintf(x->url, n, "%.*s%s%s%s%s", (int)(strstr(c->endpoint, "://") + 3 - c->endpoint),
	    c->endpoint, c->host, path, r->query && *r->query ? "?" : "",
	    r->query ? r->query : "");
	free(path);

	curl_easy_reset(h);
	curl_easy_setopt(h, CURLOPT_URL, x->url);
	/* the path as signed: "sp/./a.gz" is a key, not a path to tidy */
	curl_easy_setopt(h, CURLOPT_PATH_AS_IS, 1L);
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, x->hdrs);
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(h, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1);
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, x->errbuf);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 2L);
	if (c->ca_file)
		curl_easy_setopt(h, CURLOPT_CAINFO, c->ca_file);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, CONNECT_TIMEOUT);
	curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, LOW_SPEED);
	curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME, r->slow ? 10 * c->stall : c->stall);
	if (s->deadline)
		curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, (long)left);
	curl_easy_setopt(h, CURLOPT_TCP_KEEPALIVE, 1L);
	curl_easy_setopt(h, CURLOPT_USERAGENT, "pgbak/" PGBAK_VERSION);
	curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(h, CURLOPT_HEADERDATA, x);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_write);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, x);
	curl_easy_setopt(h, CURLOPT_BUFFERSIZE, 256L * 1024);
	curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
	curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, on_progress);
	if (strcmp(r->method, "HEAD") == 0) {
		curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
	} else if (strcmp(r->method, "PUT") == 0 || strcmp(r->method, "POST") == 0) {
		curl_easy_setopt(h, CURLOPT_UPLOAD, 1L);
		curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, r->method);
		curl_easy_setopt(h, CURLOPT_READFUNCTION, on_read);
		curl_easy_setopt(h, CURLOPT_READDATA, x);
		curl_easy_setopt(h, CURLOPT_SEEKFUNCTION, on_seek);
		curl_easy_setopt(h, CURLOPT_SEEKDATA, x);
		curl_easy_setopt(h, CURLOPT_INFILESIZE_LARGE, (curl_off_t)r->len);
		curl_easy_setopt(h, CURLOPT_UPLOAD_BUFFERSIZE, 512L * 1024);
	} else if (strcmp(r->method, "GET") != 0) {
		curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, r->method);
	}
	return 0;
}

/* A transport failure worth another attempt (not TLS trust, not ours). */
static int
transient(CURLcode cc)
{
	switch (cc) {
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_CONNECT:
	case CURLE_OPERATION_TIMEDOUT:
	case CURLE_SEND_ERROR:
	case CURLE_RECV_ERROR:
	case CURLE_GOT_NOTHING:
	case CURLE_PARTIAL_FILE:
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_HTTP2:
	case CURLE_HTTP2_STREAM:
	case CURLE_WEIRD_SERVER_REPLY:
		return 1;
	default:
		return 0;
	}
}

int
s3_retryable(CURLcode cc, long status)
{
	if (cc != CURLE_OK)
		return transient(cc);
	/* 200 with <Error> (Complete) is a failure S3 asks to retry */
	return status >= 500 || status == 408 || status == 429 || status / 100 == 2;
}

/* A name for a status whose reply had no S3 code (HEAD has no body). */
static const char *
status_name(long status)
{
	switch (status) {
	case 301: return "Moved Permanently";
	case 307: return "Temporary Redirect";
	case 400: return "Bad Request";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 408: return "Request Timeout";
	case 409: return "Conflict";
	case 411: return "Length Required";
	case 412: return "Precondition Failed";
	case 416: return "Range Not Satisfiable";
	case 429: return "Too Many Requests";
	case 500: return "Internal Server Error";
	case 501: return "Not Implemented";
	case 502: return "Bad Gateway";
	case 503: return "Service Unavailable";
	case 504: return "Gateway Timeout";
	default: return "Error";
	}
}

/* A 3xx: say that the server sent us elsewhere, and where, rather than
 * an S3 code that reads like a failure of ours. */
static int
redirected(const struct s3 *s, const struct s3_req *r, const struct s3_resp *resp,
    struct log_err *e)
{
	char where[256] = "";
	const char *to = resp->location;

	if (*to == '\0' && resp->len && s3xml_get(resp->body, resp->len, XML_ERROR_ENDPOINT,
	    where, sizeof where) == 1)
		to = where;
	return s3_fail(s, r, e, "the server redirected %s%s (HTTP %ld %s)",
	    *to ? "to " : "without saying where", to, resp->status,
	    resp->code[0] ? resp->code : status_name(resp->status));
}

int
s3_xfer_end(struct s3 *s, struct s3_xfer *x, CURLcode cc, struct log_err *e)
{
	const struct s3_req *r = x->req;
	struct s3_resp *resp = &x->resp;
	char tries[32] = "";
	int rc;

	curl_easy_getinfo(x->h, CURLINFO_RESPONSE_CODE, &resp->status);
	if (resp->len)
		s3xml_get(resp->body, resp->len, XML_ERROR_CODE, resp->code, sizeof resp->code);
	if (x->attempt > 1)
		snprintf(tries, sizeof tries, " (after %d tries)", x->attempt);

	if (s3_stop)
		return s3_fail(s, r, e, "interrupted by signal %d", (int)s3_stop);
	if (x->sink_errno)
		return s3_fail(s, r, e, "write error: %s", strerror(x->sink_errno));
	/* curl's clock may end it a little early: nothing more fits in that little */
	if (cc == CURLE_OPERATION_TIMEDOUT && s->deadline &&
	    s3_mono_ms() + DEADLINE_SLACK_MS >= s->deadline)
		return timed_out(s, r, e);
	if (cc == CURLE_WRITE_ERROR && resp->cut)
		cc = CURLE_OK;	/* judged by its status and the start of its body */
	if (cc == CURLE_OK && resp->status / 100 == 2 && resp->code[0] == '\0')
		return 0;
	x->retryable = s3_retryable(cc, resp->status);
	if (cc != CURLE_OK) {
		rc = s3_fail(s, r, e, "%s%s", x->errbuf[0] ? x->errbuf : curl_easy_strerror(cc),
		    x->retryable ? tries : "");
	} else if (resp->status / 100 == 3) {
		rc = redirected(s, r, resp, e);
	} else {
		rc = s3_fail(s, r, e, "HTTP %ld %s%s", resp->status,
		    resp->code[0] ? resp->code : status_name(resp->status),
		    x->retryable ? tries : "");
	}
	if (x->retryable && x->attempt < s->cfg->tries && resp->sunk == 0)
		return 1;
	return rc;
}

long
s3_backoff_ms(int attempt)
{
	long max = BACKOFF_BASE;

	while (--attempt > 0 && max < BACKOFF_CAP)
		max *= 2;
	if (max > BACKOFF_CAP)
		max = BACKOFF_CAP;
	/* "equal jitter": half fixed, half random, so retries spread but still wait */
	return max / 2 + random() % (max / 2 + 1);
}

int
s3_sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L }, rem;

	while (!s3_stop && nanosleep(&ts, &rem) < 0 && errno == EINTR)
		ts = rem;
	return s3_stop ? -1 : 0;
}

int
s3_call(struct s3 *s, const struct s3_req *r, struct log_err *e)
{
	struct s3_xfer *x = &s->x;
	int rc;

	x->req = NULL;
	for (;;) {
		if (s3_xfer_start(s, x, r, e) < 0)
			return -1;
		rc = s3_xfer_end(s, x, curl_easy_perform(x->h), e);
		if (rc <= 0)
			return rc;
		if (s3_retry_wait(s, x->attempt) < 0)
			return s3_fail(s, r, e, "interrupted by signal %d", (int)s3_stop);
	}
}
