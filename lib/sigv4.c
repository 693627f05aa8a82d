/*
 * sigv4: AWS Signature Version 4 (see sigv4.h).
 *
 * Written here rather than taken from libcurl's CURLOPT_AWS_SIGV4: curl
 * 7.88 neither sorts nor encodes the query string it signs, takes the path
 * as given, and only signs a payload hash when the caller supplies it in a
 * header anyway.  Owning the canonical request keeps what we send and what
 * we sign the same string, and lets the documented examples test it.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "sigv4.h"

static int
unreserved(unsigned char c)
{
	return isascii(c) && (isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~');
}

char *
sigv4_encode(const char *s, int keep_slash)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t n = strlen(s);
	char *out, *o;

	if (n > (((size_t)-1) - 1) / 3 || (out = malloc(3 * n + 1)) == NULL)
		return NULL;
	for (o = out; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (unreserved(c) || (keep_slash && c == '/')) {
			*o++ = (char)c;
		} else {
			*o++ = '%';
			*o++ = hex[c >> 4];
			*o++ = hex[c & 15];
		}
	}
	*o = '\0';
	return out;
}

struct qpair {
	char *name;
	char *value;
};

static int
qpair_cmp(const void *a, const void *b)
{
	const struct qpair *x = a, *y = b;
	int r = strcmp(x->name, y->name);

	return r ? r : strcmp(x->value, y->value);
}

char *
sigv4_query(const struct sigv4_param *p, size_t n)
{
	struct qpair *q;
	char *out = NULL;
	size_t i, len = 1;

	if ((q = calloc(n ? n : 1, sizeof *q)) == NULL)
		return NULL;
	for (i = 0; i < n; i++) {
		q[i].name = sigv4_encode(p[i].name, 0);
		q[i].value = sigv4_encode(p[i].value ? p[i].value : "", 0);
		if (q[i].name == NULL || q[i].value == NULL)
			goto done;
		len += strlen(q[i].name) + strlen(q[i].value) + 2;
	}
	qsort(q, n, sizeof *q, qpair_cmp);
	if ((out = malloc(len)) == NULL)
		goto done;
	*out = '\0';
	for (i = 0; i < n; i++) {
		if (i)
			strcat(out, "&");
		strcat(out, q[i].name);
		strcat(out, "=");
		strcat(out, q[i].value);
	}
done:
	for (i = 0; i < n; i++) {
		free(q[i].name);
		free(q[i].value);
	}
	free(q);
	return out;
}

struct hdr {
	char *name;		/* lowercased copy */
	const char *value;
};

static int
hdr_cmp(const void *a, const void *b)
{
	return strcmp(((const struct hdr *)a)->name, ((const struct hdr *)b)->name);
}

/* Print a header value trimmed, with runs of spaces folded to one. */
static void
put_value(FILE *f, const char *v)
{
	int space = 0;

	while (*v == ' ' || *v == '\t')
		v++;
	for (; *v; v++) {
		if (*v == ' ' || *v == '\t') {
			space = 1;
			continue;
		}
		if (space)
			fputc(' ', f);
		space = 0;
		fputc(*v, f);
	}
}

/* Sorted, lowercased copies of r's header names; NULL on ENOMEM. */
static struct hdr *
sorted_headers(const struct sigv4_request *r)
{
	struct hdr *h;
	size_t i;
	char *c;

	if ((h = calloc(r->nheaders ? r->nheaders : 1, sizeof *h)) == NULL)
		return NULL;
	for (i = 0; i < r->nheaders; i++) {
		if ((h[i].name = strdup(r->headers[i].name)) == NULL) {
			while (i-- > 0)
				free(h[i].name);
			free(h);
			return NULL;
		}
		for (c = h[i].name; *c; c++)
			*c = (char)tolower((unsigned char)*c);
		h[i].value = r->headers[i].value;
	}
	qsort(h, r->nheaders, sizeof *h, hdr_cmp);
	return h;
}

static void
free_headers(struct hdr *h, size_t n)
{
	while (n-- > 0)
		free(h[n].name);
	free(h);
}

static void
put_signed_names(FILE *f, const struct hdr *h, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		fprintf(f, "%s%s", i ? ";" : "", h[i].name);
}

/* Close a memstream; its buffer (set only by fclose), or NULL when a write failed. */
static char *
memstream_done(FILE *f, char **buf)
{
	int bad = ferror(f);

	if (fclose(f) != 0 || bad) {
		free(*buf);
		return NULL;
	}
	return *buf;
}

char *
sigv4_canonical_request(const struct sigv4_request *r)
{
	struct hdr *h;
	char *buf = NULL;
	size_t len, i;
	FILE *f;

	if ((h = sorted_headers(r)) == NULL)
		return NULL;
	if ((f = open_memstream(&buf, &len)) == NULL) {
		free_headers(h, r->nheaders);
		return NULL;
	}
	fprintf(f, "%s\n%s\n%s\n", r->method, r->path, r->query ? r->query : "");
	for (i = 0; i < r->nheaders; i++) {
		fprintf(f, "%s:", h[i].name);
		put_value(f, h[i].value);
		fputc('\n', f);
	}
	fputc('\n', f);
	put_signed_names(f, h, r->nheaders);
	fprintf(f, "\n%s", r->payload_hash);
	free_headers(h, r->nheaders);
	return memstream_done(f, &buf);
}

void
sigv4_hex(char *out, const unsigned char *p, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < n; i++) {
		out[2 * i] = hex[p[i] >> 4];
		out[2 * i + 1] = hex[p[i] & 15];
	}
	out[2 * n] = '\0';
}

void
sigv4_sha256_hex(char out[65], const void *p, size_t n)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int len = 0;

	EVP_Digest(p, n, md, &len, EVP_sha256(), NULL);
	sigv4_hex(out, md, len);
}

static void
hmac(unsigned char out[32], const void *key, size_t klen, const char *msg)
{
	unsigned int len = 32;

	HMAC(EVP_sha256(), key, (int)klen, (const unsigned char *)msg, strlen(msg), out, &len);
}

void
sigv4_amz_date(char out[17], long long t)
{
	time_t tt = (time_t)t;
	struct tm tm;

	gmtime_r(&tt, &tm);
	strftime(out, 17, "%Y%m%dT%H%M%SZ", &tm);
}

char *
sigv4_authorization(const struct sigv4_cred *c, const char *amz_date,
    const struct sigv4_request *r)
{
	unsigned char k[32], sig[32];
	char date[9], scope[256], sts[512], hash[65], sighex[65], *kk, *canon, *out = NULL;
	struct hdr *h;
	size_t len;
	FILE *f;

	if ((canon = sigv4_canonical_request(r)) == NULL)
		return NULL;
	sigv4_sha256_hex(hash, canon, strlen(canon));
	free(canon);
	memcpy(date, amz_date, 8);
	date[8] = '\0';
	snprintf(scope, sizeof scope, "%s/%s/%s/aws4_request", date, c->region, c->service);
	snprintf(sts, sizeof sts, "AWS4-HMAC-SHA256\n%s\n%s\n%s", amz_date, scope, hash);

	len = strlen(c->secret) + 5;
	if ((kk = malloc(len)) == NULL)
		return NULL;
	snprintf(kk, len, "AWS4%s", c->secret);
	hmac(k, kk, len - 1, date);
	OPENSSL_cleanse(kk, len);
	free(kk);
	hmac(k, k, 32, c->region);
	hmac(k, k, 32, c->service);
	hmac(k, k, 32, "aws4_request");
	hmac(sig, k, 32, sts);
	OPENSSL_cleanse(k, sizeof k);
	sigv4_hex(sighex, sig, 32);

	if ((h = sorted_headers(r)) == NULL)
		return NULL;
	if ((f = open_memstream(&out, &len)) != NULL) {
		fprintf(f, "AWS4-HMAC-SHA256 Credential=%s/%s,SignedHeaders=", c->access_key, scope);
		put_signed_names(f, h, r->nheaders);
		fprintf(f, ",Signature=%s", sighex);
		out = memstream_done(f, &out);
	}
	free_headers(h, r->nheaders);
	return out;
}
