/*
 * sigv4: the worked examples of the S3 documentation ("Signature
 * Calculations for the Authorization Header: Transferring Payload in a
 * Single Chunk"), byte for byte, and S3's URI-encoding rules.
 */
#include <stdlib.h>
#include <string.h>

#include "sigv4.h"
#include "s3tap.h"

#define HOST "examplebucket.s3.amazonaws.com"
#define DATE "20130524T000000Z"
#define CRED "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/" \
	"aws4_request,SignedHeaders="

static const struct sigv4_cred cred = {
	"AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "us-east-1", "s3"
};

static void
check_auth(const struct sigv4_cred *c, const struct sigv4_request *r, const char *want,
    const char *desc)
{
	char *got = sigv4_authorization(c, DATE, r);

	tap_is(got, want, desc);
	free(got);
}

/* A bucket request with the empty payload and query q (raw parameters). */
static void
check_bucket_get(const struct sigv4_param *q, size_t nq, const char *want_query,
    const char *want, const char *desc)
{
	struct sigv4_header h[] = {
		{ "Host", HOST }, { "x-amz-date", DATE },
		{ "x-amz-content-sha256", SIGV4_EMPTY_SHA256 },
	};
	struct sigv4_request r = { "GET", "/", NULL, h, 3, SIGV4_EMPTY_SHA256 };
	char *query = sigv4_query(q, nq);

	tap_is(query, want_query, "canonical query string");
	r.query = query;
	check_auth(&cred, &r, want, desc);
	free(query);
}

static void
test_get_object(void)
{
	struct sigv4_header h[] = {
		{ "Host", HOST }, { "Range", "bytes=0-9" },
		{ "x-amz-content-sha256", SIGV4_EMPTY_SHA256 }, { "x-amz-date", DATE },
	};
	struct sigv4_request r = { "GET", "/test.txt", NULL, h, 4, SIGV4_EMPTY_SHA256 };
	struct sigv4_cred bad = cred;
	char *canon, hash[65];

	canon = sigv4_canonical_request(&r);
	tap_is(canon, "GET\n/test.txt\n\nhost:" HOST "\nrange:bytes=0-9\n"
	    "x-amz-content-sha256:" SIGV4_EMPTY_SHA256 "\nx-amz-date:" DATE "\n\n"
	    "host;range;x-amz-content-sha256;x-amz-date\n" SIGV4_EMPTY_SHA256,
	    "GET Object: canonical request");
	sigv4_sha256_hex(hash, canon, canon ? strlen(canon) : 0);
	tap_is(hash, "7344ae5b7ee6c3e7e6b0fe0640412a37625d1fbfff95c48bbb2dc43964946972",
	    "GET Object: hash of the canonical request");
	free(canon);
	check_auth(&cred, &r, CRED "host;range;x-amz-content-sha256;x-amz-date,Signature="
	    "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41",
	    "GET Object: Authorization");

	bad.secret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEz";
	canon = sigv4_authorization(&bad, DATE, &r);
	tap_ok(canon != NULL && strstr(canon, "Signature=f0e8bdb87c964420e857bd35b5d6") == NULL,
	    "GET Object: another secret gives another signature");
	free(canon);
}

static void
test_put_object(void)
{
	const char body[] = "Welcome to Amazon S3.";
	char hash[65], *path;
	struct sigv4_header h[] = {
		{ "Date", "Fri, 24 May 2013 00:00:00 GMT" }, { "Host", HOST },
		{ "x-amz-date", DATE }, { "x-amz-storage-class", "REDUCED_REDUNDANCY" },
		{ "x-amz-content-sha256", hash },
	};
	struct sigv4_request r = { "PUT", NULL, "", h, 5, hash };

	sigv4_sha256_hex(hash, body, strlen(body));
	tap_is(hash, "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072",
	    "PUT Object: payload hash");
	path = sigv4_encode("/test$file.text", 1);
	tap_is(path, "/test%24file.text", "PUT Object: '$' encoded in the path");
	r.path = path;
	check_auth(&cred, &r, CRED "date;host;x-amz-content-sha256;x-amz-date;"
	    "x-amz-storage-class,Signature="
	    "98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd",
	    "PUT Object: Authorization");
	free(path);
}

static void
test_bucket_requests(void)
{
	struct sigv4_param life[] = { { "lifecycle", NULL } };
	struct sigv4_param list[] = { { "prefix", "J" }, { "max-keys", "2" } };

	check_bucket_get(life, 1, "lifecycle=", CRED "host;x-amz-content-sha256;x-amz-date,"
	    "Signature=fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543",
	    "GET Bucket Lifecycle: Authorization");
	check_bucket_get(list, 2, "max-keys=2&prefix=J", CRED "host;x-amz-content-sha256;"
	    "x-amz-date,Signature="
	    "34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7",
	    "GET Bucket (List Objects): Authorization, parameters sorted");
}

static void
check_encode(const char *in, int keep_slash, const char *want, const char *desc)
{
	char *got = sigv4_encode(in, keep_slash);

	tap_is(got, want, desc);
	free(got);
}

static void
test_encoding(void)
{
	struct sigv4_param q[] = {
		{ "uploads", "" }, { "prefix", "a b/c+d" }, { "key-marker", "x" },
	};
	struct sigv4_header h[] = { { "X-Test", "  a   b\tc  " } };
	struct sigv4_request r = { "GET", "/", NULL, h, 1, SIGV4_EMPTY_SHA256 };
	char *s;

	check_encode("dir/sub dir/a+b%c~d=e&f.gz", 1, "dir/sub%20dir/a%2Bb%25c~d%3De%26f.gz",
	    "key path: space %20, + %2B, % %25, = and & encoded, ~ . / kept");
	check_encode("a/b", 0, "a%2Fb", "query value: '/' encoded");
	check_encode("AZaz09-._~", 1, "AZaz09-._~", "unreserved characters kept");
	check_encode("caf\xc3\xa9", 1, "caf%C3%A9", "UTF-8 as uppercase %XX per byte");
	check_encode("*!'()", 1, "%2A%21%27%28%29", "sub-delims encoded");
	check_encode("", 1, "", "empty string");

	s = sigv4_query(q, 3);
	tap_is(s, "key-marker=x&prefix=a%20b%2Fc%2Bd&uploads=",
	    "query: sorted by name, values encoded, empty value as 'name='");
	free(s);
	s = sigv4_query(NULL, 0);
	tap_is(s, "", "query: no parameters");
	free(s);

	s = sigv4_canonical_request(&r);
	tap_ok(s != NULL && strstr(s, "\nx-test:a b c\n") != NULL,
	    "header: name lowercased, value trimmed, inner spaces folded");
	free(s);
}

static void
test_helpers(void)
{
	char d[17], hash[65];

	sigv4_amz_date(d, 1369353600LL);
	tap_is(d, DATE, "amz date of 2013-05-24 00:00:00 UTC");
	sigv4_sha256_hex(hash, "", 0);
	tap_is(hash, SIGV4_EMPTY_SHA256, "SHA-256 of the empty string");
}

int
main(void)
{
	test_get_object();
	test_put_object();
	test_bucket_requests();
	test_encoding();
	test_helpers();
	return tap_done();
}
