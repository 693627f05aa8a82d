/*
 * creds_http: the three credential sources that ask the network (see
 * creds.h): STS AssumeRoleWithWebIdentity, the container endpoint and EC2
 * instance metadata (IMDSv2 only).
 *
 * Each request is a curl easy handle of its own, never the S3 transport: a
 * credential fetch has its own short deadline, its own headers (no SigV4)
 * and, for the link-local endpoints, never a proxy.  Replies hold secrets,
 * so every buffer they pass through here is wiped before it is freed.
 */
#include <ctype.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <curl/curl.h>
#include <openssl/crypto.h>

#include "creds.h"
#include "flatjson.h"
#include "log.h"
#include "s3xml.h"

#define REPLY_MAX (64 * 1024)	/* a credentials reply is a few KiB */
#define TOKEN_FILE_MAX (64 * 1024)	/* a Kubernetes token is 1-2 KiB */

#define IMDS_TIMEOUT_MS 1000	/* outside EC2 nothing answers: fall through at once */
#define CONTAINER_TIMEOUT_MS 2000	/* the agent is local, as the SDKs allow */
#define STS_TIMEOUT_MS 10000	/* a regional endpoint over the internet */

#define IMDS_DEFAULT "http://169.254.169.254"
#define IMDS_TOKEN_PATH "/latest/api/token"
#define IMDS_ROLE_PATH "/latest/meta-data/iam/security-credentials/"
#define IMDS_TTL_HEADER "X-aws-ec2-metadata-token-ttl-seconds: 21600"
#define IMDS_TOKEN_HEADER "X-aws-ec2-metadata-token: "
#define CONTAINER_HOST "http://169.254.170.2"

/* STS's reply (the root, AssumeRoleWithWebIdentityResponse, is left out:
 * paths are matched by their ends) and its error. */
#define STS_CREDS "AssumeRoleWithWebIdentityResult/Credentials/"
#define STS_ERROR_CODE "Error/Code"

/* The JSON members of the container endpoint's and IMDS's reply. */
#define J_KEY "AccessKeyId"
#define J_SECRET "SecretAccessKey"
#define J_TOKEN "Token"
#define J_EXPIRATION "Expiration"
#define J_CODE "Code"

struct reply {
	long status;
	char *body;		/* NUL-terminated; wiped when freed */
	size_t len;
	int toolong;
	char err[CURL_ERROR_SIZE];
};

static void
wipe_free(char *s)
{
	if (s != NULL) {
		OPENSSL_cleanse(s, strlen(s));
		free(s);
	}
}

static void
reply_free(struct reply *r)
{
	if (r->body != NULL) {
		OPENSSL_cleanse(r->body, r->len);
		free(r->body);
	}
	r->body = NULL;
	r->len = 0;
}

/* A variable that is set and not empty, else NULL. */
static const char *
env(const char *name)
{
	const char *v = getenv(name);

	return v != NULL && *v != '\0' ? v : NULL;
}

/* Free a header list one of whose headers is a secret. */
static void
slist_wipe_free(struct curl_slist *l)
{
	for (struct curl_slist *t = l; t != NULL; t = t->next)
		OPENSSL_cleanse(t->data, strlen(t->data));
	curl_slist_free_all(l);
}

static size_t
on_write(char *p, size_t size, size_t n, void *data)
{
	struct reply *r = data;
	size_t add = size * n;
	char *nb;

	if (r->len + add > REPLY_MAX) {
		r->toolong = 1;
		return 0;
	}
	/* a fresh buffer each time, so the old one can be wiped, not left by realloc */
	if ((nb = malloc(r->len + add + 1)) == NULL)
		return 0;
	if (r->body != NULL)
		memcpy(nb, r->body, r->len);
	memcpy(nb + r->len, p, add);
	nb[r->len + add] = '\0';
	reply_free(r);
	r->body = nb;
	r->len += add;
	return add;
}

/* Stop the transfer once the cancel descriptor is readable (a signal came). */
static int
on_progress(void *data, curl_off_t dt, curl_off_t dn, curl_off_t ut, curl_off_t un)
{
	struct pollfd pf = { *(const int *)data, POLLIN, 0 };

	(void)dt, (void)dn, (void)ut, (void)un;
	return poll(&pf, 1, 0) > 0;
}

/*
 * One request: method on url with headers hdrs and body post (or NULL),
 * timeout_ms for all of it (connecting included).  0 when an HTTP answer
 * came (any status, in r), -1 when none did (r->err says why).  Redirects
 * are not followed; a proxy is used only when use_proxy.  A readable
 * in->cancel_fd ends it at once.
 */
static int
http_call(const struct creds_src *in, const char *method, const char *url,
    struct curl_slist *hdrs, const char *post, long timeout_ms, int use_proxy, struct reply *r)
{
	CURL *h;
	CURLcode rc;

	memset(r, 0, sizeof *r);
	if ((h = curl_easy_init()) == NULL) {
		snprintf(r->err, sizeof r->err, "unable to start libcurl");
		return -1;
	}
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
	if (post != NULL) {
		curl_easy_setopt(h, CURLOPT_POSTFIELDS, post);
		curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, (long)strlen(post));
	}
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, r->err);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 2L);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, timeout_ms);
	curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, timeout_ms);
	if (!use_proxy)
		curl_easy_setopt(h, CURLOPT_PROXY, "");
	if (env("AWS_CA_BUNDLE") != NULL)
		curl_easy_setopt(h, CURLOPT_CAINFO, env("AWS_CA_BUNDLE"));
	curl_easy_setopt(h, CURLOPT_USERAGENT, "pgbak/" PGBAK_VERSION);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_write);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, r);
	if (in->cancel_fd > 2) {
		curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
		curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, on_progress);
		curl_easy_setopt(h, CURLOPT_XFERINFODATA, &in->cancel_fd);
	}
	rc = curl_easy_perform(h);
	if (rc == CURLE_OK)
		curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &r->status);
	else if (r->toolong)
		snprintf(r->err, sizeof r->err, "reply longer than %d bytes", REPLY_MAX);
	else if (r->err[0] == '\0')
		snprintf(r->err, sizeof r->err, "%s", curl_easy_strerror(rc));
	curl_easy_cleanup(h);
	if (rc != CURLE_OK) {
		reply_free(r);
		return -1;
	}
	if (r->body == NULL && (r->body = calloc(1, 1)) == NULL) {
		snprintf(r->err, sizeof r->err, "out of memory");
		return -1;
	}
	return 0;
}

/* "1 s", "500 ms": a timeout as the "no answer in ..." line says it. */
static void
say_ms(char *out, size_t n, long ms)
{
	if (ms % 1000 == 0)
		snprintf(out, n, "%ld s", ms / 1000);
	else
		snprintf(out, n, "%ld ms", ms);
}

/*
 * The contents of file path, surrounding white space cut, malloc'd (wipe
 * it): a token file, read again at each fetch since it is rotated.  NULL
 * with e when it cannot be read, is empty, or is not one line.
 */
static char *
read_token(const char *path, const char *what, struct log_err *e)
{
	FILE *f;
	char *buf;
	size_t n, b = 0;

	if ((f = fopen(path, "r")) == NULL) {
		log_fail_sys(e, EXIT_USAGE, "%s: unable to read token file %s", what, path);
		return NULL;
	}
	if ((buf = malloc(TOKEN_FILE_MAX + 1)) == NULL) {
		fclose(f);
		log_fail_sys(e, EXIT_TEMP, "%s: unable to read token file %s", what, path);
		return NULL;
	}
	n = fread(buf, 1, TOKEN_FILE_MAX + 1, f);
	if (ferror(f)) {
		fclose(f);
		OPENSSL_cleanse(buf, TOKEN_FILE_MAX + 1);
		free(buf);
		log_fail(e, EXIT_USAGE, "%s: unable to read token file %s", what, path);
		return NULL;
	}
	fclose(f);
	if (n > TOKEN_FILE_MAX) {
		OPENSSL_cleanse(buf, TOKEN_FILE_MAX + 1);
		free(buf);
		log_fail(e, EXIT_USAGE, "%s: token file %s is longer than %d bytes", what, path,
		    TOKEN_FILE_MAX);
		return NULL;
	}
	while (n > 0 && isspace((unsigned char)buf[n - 1]))
		n--;
	while (b < n && isspace((unsigned char)buf[b]))
		b++;
	memmove(buf, buf + b, n - b);
	n -= b;
	buf[n] = '\0';
	if (n == 0 || strpbrk(buf, "\r\n") != NULL) {
		OPENSSL_cleanse(buf, TOKEN_FILE_MAX + 1);
		free(buf);
		log_fail(e, EXIT_USAGE, "%s: token file %s is %s", what, path,
		    n == 0 ? "empty" : "not one line");
		return NULL;
	}
	return buf;
}

/* Fill c from the four values a source read; -1 with e when one is missing or bad. */
static int
take(struct creds *c, const char *key, const char *secret, const char *token,
    const char *expiration, const char *what, struct log_err *e)
{
	long long t = 0;

	if (key == NULL || *key == '\0' || secret == NULL || *secret == '\0')
		return log_fail(e, EXIT_TEMP, "%s: reply without %s", what,
		    key == NULL || *key == '\0' ? J_KEY : J_SECRET);
	if (expiration != NULL && (t = creds_time(expiration)) < 0)
		return log_fail(e, EXIT_TEMP, "%s: reply with a bad Expiration", what);
	memset(c, 0, sizeof *c);
	c->expires = t;
	if ((c->access_key = strdup(key)) == NULL || (c->secret = strdup(secret)) == NULL ||
	    (token != NULL && *token != '\0' && (c->token = strdup(token)) == NULL)) {
		creds_wipe(c);
		return log_fail(e, EXIT_TEMP, "%s: out of memory", what);
	}
	return 1;
}

/* The same from a JSON reply (container endpoint, IMDS). */
static int
take_json(struct creds *c, const struct reply *r, const char *what, struct log_err *e)
{
	struct flatjson j;
	int rc;

	if (flatjson_parse(&j, r->body, r->len) != 0)
		return log_fail(e, EXIT_TEMP, "%s: reply is not a JSON object", what);
	rc = take(c, flatjson_get(&j, J_KEY), flatjson_get(&j, J_SECRET),
	    flatjson_get(&j, J_TOKEN), flatjson_get(&j, J_EXPIRATION), what, e);
	flatjson_free(&j);
	return rc;
}

/* ---- web identity ---- */

struct sts {
	char *f[4];		/* AccessKeyId, SecretAccessKey, SessionToken, Expiration */
	char code[128];
};

static const char *const sts_field[4] = {
	STS_CREDS "AccessKeyId", STS_CREDS "SecretAccessKey", STS_CREDS "SessionToken",
	STS_CREDS "Expiration",
};

static int
ends_with(const char *s, const char *tail)
{
	size_t a = strlen(s), b = strlen(tail);

	return a >= b && strcmp(s + a - b, tail) == 0 && (a == b || s[a - b - 1] == '/');
}

static void
on_sts(void *ctx, const char *path, const char *text)
{
	struct sts *st = ctx;
	int i;

	for (i = 0; i < 4; i++)
		if (st->f[i] == NULL && ends_with(path, sts_field[i]))
			st->f[i] = strdup(text);
	if (st->code[0] == '\0' && ends_with(path, STS_ERROR_CODE))
		snprintf(st->code, sizeof st->code, "%s", text);
}

/* "Action=...&RoleArn=...": the form STS is posted, malloc'd (wipe it). */
static char *
sts_form(CURL *h, const char *role, const char *session, const char *token)
{
	char *r = NULL, *er, *es, *et;
	size_t n;

	er = curl_easy_escape(h, role, 0);
	es = curl_easy_escape(h, session, 0);
	et = curl_easy_escape(h, token, 0);
	if (er != NULL && es != NULL && et != NULL) {
		n = strlen(er) + strlen(es) + strlen(et) + 128;
		if ((r = malloc(n)) != NULL)
			snprintf(r, n, "Action=AssumeRoleWithWebIdentity&Version=2011-06-15"
			    "&RoleArn=%s&RoleSessionName=%s&WebIdentityToken=%s", er, es, et);
	}
	curl_free(er);
	curl_free(es);
	if (et != NULL) {
		OPENSSL_cleanse(et, strlen(et));
		curl_free(et);
	}
	return r;
}

int
creds_web_identity(const struct creds_src *in, struct creds *c, char *what, size_t wn,
    char *why, size_t yn, struct log_err *e)
{
	const char *file = env("AWS_WEB_IDENTITY_TOKEN_FILE"), *role = env("AWS_ROLE_ARN");
	const char *session = env("AWS_ROLE_SESSION_NAME"), *ep = env("AWS_ENDPOINT_URL_STS");
	char sbuf[64], url[512], *token, *form;
	struct curl_slist *hdrs = NULL;
	struct reply r;
	struct sts st;
	CURL *h;
	int rc, i;

	if (role == NULL || file == NULL) {
		snprintf(why, yn, "%s unset",
		    role == NULL ? "AWS_ROLE_ARN" : "AWS_WEB_IDENTITY_TOKEN_FILE");
		return 0;
	}
	if (session == NULL) {
		snprintf(sbuf, sizeof sbuf, "pgbak-%ld", (long)getpid());
		session = sbuf;
	}
	if (ep != NULL)
		snprintf(url, sizeof url, "%s", ep);
	else
		snprintf(url, sizeof url, "https://sts.%s.amazonaws.com/",
		    in->region != NULL && *in->region != '\0' ? in->region : "us-east-1");
	if ((token = read_token(file, "web identity", e)) == NULL)
		return -1;
	if ((h = curl_easy_init()) == NULL) {
		wipe_free(token);
		return log_fail(e, EXIT_TEMP, "web identity: unable to start libcurl");
	}
	form = sts_form(h, role, session, token);
	curl_easy_cleanup(h);
	wipe_free(token);
	if (form == NULL)
		return log_fail(e, EXIT_TEMP, "web identity: out of memory");
	hdrs = curl_slist_append(hdrs, "Content-Type: application/x-www-form-urlencoded");
	if (hdrs != NULL)
		hdrs = curl_slist_append(hdrs, "Expect:");
	if (hdrs == NULL) {
		wipe_free(form);
		return log_fail(e, EXIT_TEMP, "web identity: out of memory");
	}
	rc = http_call(in, "POST", url, hdrs, form, in->timeout_ms > 0 ? in->timeout_ms :
	    STS_TIMEOUT_MS, 1, &r);
	curl_slist_free_all(hdrs);
	wipe_free(form);
	if (rc != 0)
		return log_fail(e, EXIT_TEMP, "web identity: no answer from STS at %s: %s",
		    url, r.err);
	memset(&st, 0, sizeof st);
	if (s3xml_parse(r.body, r.len, on_sts, &st) != 0) {
		rc = log_fail(e, EXIT_TEMP, "web identity: STS at %s answered HTTP %ld, not XML",
		    url, r.status);
	} else if (r.status != 200 || st.code[0] != '\0') {
		/* refused: the fix is the role, its trust policy or the token,
		 * unless STS is throttling or failing */
		int st_temp = r.status >= 500 || r.status == 429 ||
		    strstr(st.code, "Throttl") != NULL ||
		    strcmp(st.code, "IDPCommunicationError") == 0;
		char why_sts[160];

		if (st.code[0] != '\0')
			snprintf(why_sts, sizeof why_sts, "%s", st.code);
		else
			snprintf(why_sts, sizeof why_sts, "HTTP %ld", r.status);
		rc = log_fail(e, st_temp ? EXIT_TEMP : EXIT_USAGE,
		    "web identity: STS refused role %s: %s", role, why_sts);
	} else {
		rc = take(c, st.f[0], st.f[1], st.f[2], st.f[3], "web identity", e);
		if (rc == 1)
			snprintf(what, wn, "web identity, role %s", role);
	}
	for (i = 0; i < 4; i++)
		wipe_free(st.f[i]);
	reply_free(&r);
	return rc;
}

/* ---- container endpoint ---- */

/*
 * Plain http only to where a container agent lives (loopback, ECS's and EKS
 * Pod Identity's link-local addresses), as the SDKs require: the reply is
 * a secret and the Authorization header one too.  1 allowed, 0 not.
 */
static int
container_host_ok(const char *url)
{
	static const char *const ok[] = {
		"127.", "localhost", "[::1]", "169.254.170.2", "169.254.170.23", "[fd00:ec2::23]",
	};
	const char *h, *end;
	size_t i, n;

	if (strncasecmp(url, "https://", 8) == 0)
		return 1;
	if (strncasecmp(url, "http://", 7) != 0)
		return 0;
	h = url + 7;
	if (strpbrk(h, "@") != NULL && strpbrk(h, "@") < h + strcspn(h, "/"))
		return 0;	/* userinfo: "http://127.0.0.1@evil/" */
	end = h[0] == '[' ? strchr(h, ']') : h + strcspn(h, ":/?#");
	if (end == NULL)
		return 0;
	if (h[0] == '[')
		end++;
	n = (size_t)(end - h);
	for (i = 0; i < sizeof ok / sizeof ok[0]; i++) {
		size_t m = strlen(ok[i]);

		if (ok[i][m - 1] == '.' ? n > m && strncmp(h, ok[i], m) == 0 :
		    n == m && strncasecmp(h, ok[i], m) == 0)
			return 1;
	}
	return 0;
}

int
creds_container(const struct creds_src *in, struct creds *c, char *what, size_t wn,
    char *why, size_t yn, struct log_err *e)
{
	const char *rel = env("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI");
	const char *full = env("AWS_CONTAINER_CREDENTIALS_FULL_URI");
	const char *tok = env("AWS_CONTAINER_AUTHORIZATION_TOKEN");
	const char *tokfile = env("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE");
	char url[1024], *auth = NULL, *filetok = NULL;
	struct curl_slist *hdrs = NULL;
	struct reply r;
	size_t n;
	int rc;

	if (rel == NULL && full == NULL) {
		snprintf(why, yn, "unset");
		return 0;
	}
	if (rel != NULL)
		n = (size_t)snprintf(url, sizeof url, "%s%s%s", CONTAINER_HOST,
		    rel[0] == '/' ? "" : "/", rel);
	else
		n = (size_t)snprintf(url, sizeof url, "%s", full);
	if (n >= sizeof url)
		return log_fail(e, EXIT_USAGE, "container credentials: URI longer than %zu bytes",
		    sizeof url - 1);
	if (rel == NULL && !container_host_ok(url))
		return log_fail(e, EXIT_USAGE, "container credentials: AWS_CONTAINER_CREDENTIALS_"
		    "FULL_URI %s: plain http only to loopback or the container agent", url);
	/* the file wins, as in the SDKs: it is what EKS Pod Identity rotates */
	if (tokfile != NULL) {
		if ((filetok = read_token(tokfile, "container credentials", e)) == NULL)
			return -1;
		tok = filetok;
	}
	if (tok != NULL) {
		if (strpbrk(tok, "\r\n") != NULL) {
			wipe_free(filetok);
			return log_fail(e, EXIT_USAGE, "container credentials: "
			    "AWS_CONTAINER_AUTHORIZATION_TOKEN is not one line");
		}
		n = strlen(tok) + sizeof "Authorization: ";
		if ((auth = malloc(n)) != NULL)
			snprintf(auth, n, "Authorization: %s", tok);
		wipe_free(filetok);
		if (auth == NULL || (hdrs = curl_slist_append(hdrs, auth)) == NULL) {
			wipe_free(auth);
			return log_fail(e, EXIT_TEMP, "container credentials: out of memory");
		}
		wipe_free(auth);
	}
	{
		struct curl_slist *t = curl_slist_append(hdrs, "Accept: application/json");

		if (t == NULL) {
			slist_wipe_free(hdrs);
			return log_fail(e, EXIT_TEMP, "container credentials: out of memory");
		}
		hdrs = t;
	}
	rc = http_call(in, "GET", url, hdrs, NULL, in->timeout_ms > 0 ? in->timeout_ms :
	    CONTAINER_TIMEOUT_MS, 0, &r);
	slist_wipe_free(hdrs);	/* it holds a copy of the Authorization header */
	if (rc != 0)
		return log_fail(e, EXIT_TEMP, "container credentials: no answer from %s: %s",
		    url, r.err);
	if (r.status == 401 || r.status == 403)
		rc = log_fail(e, EXIT_USAGE, "container credentials refused: HTTP %ld from %s "
		    "(check AWS_CONTAINER_AUTHORIZATION_TOKEN or "
		    "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE)", r.status, url);
	else if (r.status != 200)
		rc = log_fail(e, r.status == 404 || r.status == 400 ? EXIT_USAGE : EXIT_TEMP,
		    "container credentials: HTTP %ld from %s", r.status, url);
	else if ((rc = take_json(c, &r, "container credentials", e)) == 1)
		snprintf(what, wn, "container endpoint %s", url);
	reply_free(&r);
	return rc;
}

/* ---- EC2 instance metadata, IMDSv2 ---- */

/* A role name as IAM allows it: letters, digits and +=,.@_- */
static int
role_name_ok(const char *s)
{
	if (*s == '\0' || strlen(s) > 128)
		return 0;
	for (; *s != '\0'; s++)
		if (!isalnum((unsigned char)*s) && strchr("+=,.@_-", *s) == NULL)
			return 0;
	return 1;
}

/*
 * IMDSv2 only, never v1: a token PUT that is refused (403, 404, 405: an
 * IMDSv1-only or disabled service) or fails otherwise means this source
 * is not available here (0), as the SDKs treat it, and nothing is then
 * asked without a token.  Once the token came, failures are -1.
 */
int
creds_imds(const struct creds_src *in, struct creds *c, char *what, size_t wn,
    char *why, size_t yn, struct log_err *e)
{
	const char *dis = getenv("AWS_EC2_METADATA_DISABLED");
	const char *ep = env("AWS_EC2_METADATA_SERVICE_ENDPOINT");
	long ms = in->timeout_ms > 0 ? in->timeout_ms : IMDS_TIMEOUT_MS;
	char base[512], url[1024], role[160], t[32], *tokhdr = NULL;
	struct curl_slist *hdrs = NULL;
	struct reply r;
	size_t n;
	int rc;

	if (dis != NULL && strcasecmp(dis, "true") == 0) {
		snprintf(why, yn, "disabled");
		return 0;
	}
	snprintf(base, sizeof base, "%s", ep != NULL ? ep : IMDS_DEFAULT);
	n = strlen(base);
	while (n > 0 && base[n - 1] == '/')
		base[--n] = '\0';

	/* the session token */
	snprintf(url, sizeof url, "%s%s", base, IMDS_TOKEN_PATH);
	if ((hdrs = curl_slist_append(NULL, IMDS_TTL_HEADER)) == NULL)
		return log_fail(e, EXIT_TEMP, "instance metadata: out of memory");
	rc = http_call(in, "PUT", url, hdrs, "", ms, 0, &r);
	curl_slist_free_all(hdrs);
	hdrs = NULL;
	if (rc != 0) {
		say_ms(t, sizeof t, ms);
		snprintf(why, yn, "no answer in %s", t);
		return 0;
	}
	if (r.status != 200 || r.len == 0 || strpbrk(r.body, "\r\n") != NULL) {
		if (r.status == 403 || r.status == 404 || r.status == 405)
			snprintf(why, yn, "IMDSv2 token refused: HTTP %ld; IMDSv1 is not used",
			    r.status);
		else
			snprintf(why, yn, "no IMDSv2 token: HTTP %ld", r.status);
		reply_free(&r);
		return 0;
	}
	n = r.len + sizeof IMDS_TOKEN_HEADER;
	if ((tokhdr = malloc(n)) != NULL)
		snprintf(tokhdr, n, "%s%s", IMDS_TOKEN_HEADER, r.body);
	reply_free(&r);
	if (tokhdr == NULL || (hdrs = curl_slist_append(NULL, tokhdr)) == NULL) {
		wipe_free(tokhdr);
		return log_fail(e, EXIT_TEMP, "instance metadata: out of memory");
	}
	wipe_free(tokhdr);

	/* the role name, then its credentials */
	snprintf(url, sizeof url, "%s%s", base, IMDS_ROLE_PATH);
	if (http_call(in, "GET", url, hdrs, NULL, ms, 0, &r) != 0) {
		rc = log_fail(e, EXIT_TEMP, "instance metadata: no answer from %s: %s", url, r.err);
		goto out;
	}
	if (r.status == 404) {
		snprintf(why, yn, "no instance role");
		rc = 0;
	} else if (r.status != 200) {
		rc = log_fail(e, EXIT_TEMP, "instance metadata: HTTP %ld from %s", r.status, url);
	} else {
		n = strcspn(r.body, "\r\n");
		snprintf(role, sizeof role, "%.*s", (int)(n < sizeof role ? n : sizeof role - 1),
		    r.body);
		if (n == 0) {
			snprintf(why, yn, "no instance role");
			rc = 0;
		} else if (n >= sizeof role || !role_name_ok(role)) {
			rc = log_fail(e, EXIT_TEMP, "instance metadata: %s answered a role name "
			    "IAM does not allow", url);
		} else {
			rc = 2;
		}
	}
	reply_free(&r);
	if (rc != 2)
		goto out;
	snprintf(url, sizeof url, "%s%s%s", base, IMDS_ROLE_PATH, role);
	if (http_call(in, "GET", url, hdrs, NULL, ms, 0, &r) != 0) {
		rc = log_fail(e, EXIT_TEMP, "instance metadata: no answer from %s: %s", url, r.err);
		goto out;
	}
	if (r.status != 200) {
		rc = log_fail(e, EXIT_TEMP, "instance metadata: HTTP %ld from %s", r.status, url);
	} else {
		struct flatjson j;
		const char *code;

		if (flatjson_parse(&j, r.body, r.len) != 0) {
			rc = log_fail(e, EXIT_TEMP, "instance metadata: role %s: reply is not a "
			    "JSON object", role);
		} else {
			code = flatjson_get(&j, J_CODE);
			if (code != NULL && strcmp(code, "Success") != 0)
				rc = log_fail(e, EXIT_TEMP, "instance metadata: role %s: %.64s",
				    role, code);
			else
				rc = take(c, flatjson_get(&j, J_KEY), flatjson_get(&j, J_SECRET),
				    flatjson_get(&j, J_TOKEN), flatjson_get(&j, J_EXPIRATION),
				    "instance metadata", e);
			flatjson_free(&j);
		}
		if (rc == 1)
			snprintf(what, wn, "instance metadata, role %s", role);
	}
	reply_free(&r);
out:
	slist_wipe_free(hdrs);
	return rc;
}
