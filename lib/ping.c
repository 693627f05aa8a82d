/* ping: a healthchecks-style GET with retries (see ping.h). */
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>
#include <openssl/crypto.h>

#include "ping.h"

/* The parts of a URL that may hold its token: never in a message. */
static const CURLUPart secret_parts[] = {
	CURLUPART_USER, CURLUPART_PASSWORD, CURLUPART_PATH, CURLUPART_QUERY,
	CURLUPART_FRAGMENT,
};

static void
wipe_free(char *s)
{
	if (s) {
		OPENSSL_cleanse(s, strlen(s));
		free(s);
	}
}

static CURLU *
parse(const char *url)
{
	CURLU *u = curl_url();

	if (u && curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK) {
		curl_url_cleanup(u);
		u = NULL;
	}
	return u;
}

int
ping_check(const char *url, struct log_err *e)
{
	CURLU *u = parse(url);
	char *scheme = NULL, *host = NULL;
	int ok = 0;

	if (u && curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) == CURLUE_OK &&
	    curl_url_get(u, CURLUPART_HOST, &host, 0) == CURLUE_OK && *host)
		ok = strcmp(scheme, "http") == 0 || strcmp(scheme, "https") == 0;
	/* curl guesses a scheme for "host/path" and a host for "https:///x":
	 * we want both written. */
	if (ok && strncasecmp(url, "http://", 7) != 0 && strncasecmp(url, "https://", 8) != 0)
		ok = 0;
	if (ok && strstr(url, ":///") != NULL)
		ok = 0;
	curl_free(scheme);
	curl_free(host);
	curl_url_cleanup(u);
	if (!ok)
		return log_fail(e, EXIT_USAGE, "not an http:// or https:// URL with a host");
	return 0;
}

char *
ping_fail_url(const char *url)
{
	CURLU *u = parse(url);
	char *path = NULL, *out = NULL, *np = NULL, *r = NULL;
	size_t n;

	if (u == NULL || curl_url_get(u, CURLUPART_PATH, &path, 0) != CURLUE_OK)
		goto done;
	n = strlen(path);
	while (n > 0 && path[n - 1] == '/')
		n--;
	if ((np = malloc(n + sizeof "/fail")) == NULL)
		goto done;
	memcpy(np, path, n);
	memcpy(np + n, "/fail", sizeof "/fail");
	if (curl_url_set(u, CURLUPART_PATH, np, 0) == CURLUE_OK &&
	    curl_url_get(u, CURLUPART_URL, &out, 0) == CURLUE_OK)
		r = strdup(out);
done:
	if (path)
		OPENSSL_cleanse(path, strlen(path));
	if (out)
		OPENSSL_cleanse(out, strlen(out));
	curl_free(path);
	curl_free(out);
	wipe_free(np);
	curl_url_cleanup(u);
	return r;
}

static size_t
discard(char *p, size_t size, size_t n, void *arg)
{
	(void)p, (void)arg;
	return size * n;
}

static int
cancelled(int fd, int ms)
{
	struct pollfd pf = { .fd = fd, .events = POLLIN };

	if (fd < 0)
		return poll(NULL, 0, ms), 0;
	return poll(&pf, 1, ms) > 0;
}

static int
progress(void *arg, curl_off_t a, curl_off_t b, curl_off_t c, curl_off_t d)
{
	(void)a, (void)b, (void)c, (void)d;
	return cancelled(*(int *)arg, 0);
}

/* curl's message when it shows none of the URL's secret parts, else its
 * generic text for the code. */
static const char *
curl_reason(CURLU *u, CURLcode rc, const char *errbuf)
{
	char *part;
	size_t i;
	int leak = 0;

	if (*errbuf == '\0')
		return curl_easy_strerror(rc);
	for (i = 0; u && i < sizeof secret_parts / sizeof secret_parts[0]; i++) {
		part = NULL;
		if (curl_url_get(u, secret_parts[i], &part, 0) == CURLUE_OK && strlen(part) > 1 &&
		    strstr(errbuf, part) != NULL)
			leak = 1;
		if (part)
			OPENSSL_cleanse(part, strlen(part));
		curl_free(part);
	}
	return leak ? curl_easy_strerror(rc) : errbuf;
}

int
ping_get(const char *url, long timeout_s, int cancel_fd, struct log_err *e)
{
	static int inited;
	char errbuf[CURL_ERROR_SIZE], host[256] = "the ping_url";
	const char *ca = getenv("CURL_CA_BUNDLE");
	CURLU *u = parse(url);
	char *h = NULL;
	CURL *c;
	CURLcode rc = CURLE_OK;
	long code = 0;
	int try, again, stopped = 0;

	if (u && curl_url_get(u, CURLUPART_HOST, &h, 0) == CURLUE_OK)
		snprintf(host, sizeof host, "%s", h);
	curl_free(h);
	if (!inited) {
		if (curl_global_init(CURL_GLOBAL_DEFAULT) != 0) {
			curl_url_cleanup(u);
			return log_fail(e, EXIT_TEMP, "unable to start libcurl");
		}
		inited = 1;
	}
	if ((c = curl_easy_init()) == NULL) {
		curl_url_cleanup(u);
		return log_fail(e, EXIT_TEMP, "unable to start libcurl");
	}
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 1L);
	curl_easy_setopt(c, CURLOPT_MAXREDIRS, 3L);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L);
	if (ca && *ca)
		curl_easy_setopt(c, CURLOPT_CAINFO, ca);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, timeout_s);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, timeout_s);
	curl_easy_setopt(c, CURLOPT_USERAGENT, "pgbak/" PGBAK_VERSION);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, discard);
	curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
	curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, progress);
	curl_easy_setopt(c, CURLOPT_XFERINFODATA, &cancel_fd);

	for (try = 1; try <= PING_TRIES; try++) {
		errbuf[0] = '\0';
		code = 0;
		rc = curl_easy_perform(c);
		if (rc == CURLE_OK)
			curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
		if (rc == CURLE_OK && code >= 200 && code < 300)
			break;
		if (rc == CURLE_ABORTED_BY_CALLBACK) {
			stopped = 1;
			break;
		}
		again = rc != CURLE_OK || code == 429 || code >= 500;
		if (!again || try == PING_TRIES)
			break;
		if (cancelled(cancel_fd, 1000 * try)) {
			stopped = 1;
			break;
		}
	}
	if (stopped)
		log_fail(e, EXIT_TEMP, "%s: cancelled by a signal", host);
	else if (rc != CURLE_OK)
		log_fail(e, EXIT_TEMP, "%s: %s", host, curl_reason(u, rc, errbuf));
	else if (code < 200 || code >= 300)
		log_fail(e, EXIT_TEMP, "%s: HTTP %ld", host, code);
	curl_easy_cleanup(c);
	curl_url_cleanup(u);
	return !stopped && rc == CURLE_OK && code >= 200 && code < 300 ? 0 : -1;
}
