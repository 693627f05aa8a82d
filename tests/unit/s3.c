/* s3: the pure parts of the client: backoff bounds, S3 timestamps, and the
 * ListObjectsV2, ListObjectVersions and DeleteObjects documents. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "s3.h"
#include "s3tap.h"

/* A page as Ceph RGW 16 writes it (owner and all), cut for the test. */
static const char page1[] =
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>"
    "<ListBucketResult xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
    "<Name>b</Name><Prefix>db/x-</Prefix><MaxKeys>2</MaxKeys>"
    "<IsTruncated>true</IsTruncated>"
    "<Contents><Key>db/x-20250101.gz</Key>"
    "<LastModified>2025-09-09T10:00:00.000Z</LastModified>"
    "<ETag>&quot;9e107d9d372bb6826bd81d3542a419d6&quot;</ETag><Size>12</Size>"
    "<StorageClass>STANDARD</StorageClass><Owner><ID>t</ID><DisplayName>t</DisplayName>"
    "</Owner><Type>Normal</Type></Contents>"
    "<Contents><Key>db/x-a&amp;b &lt;c&gt;</Key>"
    "<LastModified>2025-09-10T10:00:00.000Z</LastModified><Size>5368709120</Size>"
    "</Contents>"
    "<KeyCount>2</KeyCount>"
    "<NextContinuationToken>1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM=</NextContinuationToken>"
    "</ListBucketResult>";

static const char page_last[] =
    "<ListBucketResult xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
    "<Name>b</Name><Prefix>db/x-</Prefix><KeyCount>0</KeyCount>"
    "<IsTruncated>false</IsTruncated></ListBucketResult>";

static const char deleted_ok[] =
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>"
    "<DeleteResult xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"></DeleteResult>";

static const char deleted_verbose[] =
    "<DeleteResult><Deleted><Key>a</Key></Deleted><Deleted><Key>b</Key></Deleted>"
    "</DeleteResult>";

static const char deleted_some[] =
    "<DeleteResult><Deleted><Key>a</Key></Deleted>"
    "<Error><Key>db/x-20250102.gz</Key><Code>AccessDenied</Code><Message>no</Message></Error>"
    "<Error><Key>db/x-20250103.gz</Key><Code>InternalError</Code></Error>"
    "</DeleteResult>";

/* A ListObjectVersions page as Ceph RGW 16 writes it: a key with two
 * versions, a key whose current entry is a delete marker, cut for the test. */
static const char versions1[] =
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>"
    "<ListVersionsResult xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
    "<Name>b</Name><Prefix>d/</Prefix><MaxKeys>3</MaxKeys><IsTruncated>true</IsTruncated>"
    "<KeyMarker></KeyMarker><VersionIdMarker></VersionIdMarker>"
    "<NextKeyMarker>d/x-20250102.gz</NextKeyMarker>"
    "<NextVersionIdMarker>I4N12IwZMaqQeKb61sPE-xAOl6WeOTu</NextVersionIdMarker>"
    "<Version><Key>d/x-20250101.gz</Key><VersionId>slZZYlr463DcQ5lm9dGncmWwF5xWNv.</VersionId>"
    "<IsLatest>true</IsLatest><LastModified>2026-11-30T16:57:18.509Z</LastModified>"
    "<ETag>&quot;764efa883dda1e11db47671c4a3bbd9e&quot;</ETag><Size>3</Size>"
    "<StorageClass>STANDARD</StorageClass><Owner><ID>t</ID><DisplayName>t</DisplayName>"
    "</Owner><Type>Normal</Type></Version>"
    "<Version><Key>d/x-20250101.gz</Key><VersionId>rGl1W8KhMFDiKyckK8rxeHF.JVNuj00</VersionId>"
    "<IsLatest>false</IsLatest><LastModified>2026-11-30T16:57:17.319Z</LastModified>"
    "<Size>5368709120</Size></Version>"
    "<DeleteMarker><Key>d/x-20250102.gz</Key><VersionId>I4N12IwZMaqQeKb61sPE-xAOl6WeOTu"
    "</VersionId><IsLatest>true</IsLatest><LastModified>2026-11-30T16:57:20.794Z"
    "</LastModified><Owner><ID>t</ID></Owner></DeleteMarker>"
    "</ListVersionsResult>";

static const char deleted_versions[] =
    "<DeleteResult xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
    "<Error><Key>d/x-20250101.gz</Key><VersionId>slZZYlr463DcQ5lm9dGncmWwF5xWNv.</VersionId>"
    "<Code>AccessDenied</Code><Message>AccessDenied</Message></Error>"
    "<Error><Key>d/x-20250103.gz</Key><Code>InternalError</Code></Error></DeleteResult>";

static char refusals[512];

static void
refusal(void *ctx, const char *key, const char *version, const char *code)
{
	size_t n = strlen(refusals);

	(void)ctx;
	snprintf(refusals + n, sizeof refusals - n, "%s|%s|%s;", key, version, code);
}

static void
versions_tests(void)
{
	struct s3_versions_page pg;
	char *keys[] = { "d/x-20250101.gz", "d/x&y" }, *ids[] = { "v1.", "m<2>" }, *doc;
	size_t len;

	memset(&pg, 0, sizeof pg);
	tap_ok(s3_versions_parse(&pg, versions1, strlen(versions1)) == 0,
	    "a truncated ListVersionsResult page parses");
	tap_ok(pg.n == 3, "...two versions and a delete marker, in order");
	tap_ok(pg.n == 3 && strcmp(pg.v[0].key, "d/x-20250101.gz") == 0 &&
	    strcmp(pg.v[0].version_id, "slZZYlr463DcQ5lm9dGncmWwF5xWNv.") == 0 &&
	    pg.v[0].is_latest && !pg.v[0].is_marker && pg.v[0].size == 3 &&
	    strcmp(pg.v[0].last_modified, "2026-11-30T16:57:18.509Z") == 0,
	    "...the current version: key, id, IsLatest, size, LastModified");
	tap_ok(pg.n == 3 && strcmp(pg.v[1].version_id, "rGl1W8KhMFDiKyckK8rxeHF.JVNuj00") == 0 &&
	    !pg.v[1].is_latest && !pg.v[1].is_marker && pg.v[1].size == 5368709120ULL,
	    "...the older version: not latest, a size over 4 GiB");
	tap_ok(pg.n == 3 && pg.v[2].is_marker && pg.v[2].is_latest &&
	    strcmp(pg.v[2].key, "d/x-20250102.gz") == 0 &&
	    strcmp(pg.v[2].version_id, "I4N12IwZMaqQeKb61sPE-xAOl6WeOTu") == 0,
	    "...the delete marker: a marker, latest, its version id");
	tap_ok(pg.truncated, "...IsTruncated true");
	tap_is(pg.next_key, "d/x-20250102.gz", "...NextKeyMarker");
	tap_is(pg.next_version, "I4N12IwZMaqQeKb61sPE-xAOl6WeOTu", "...NextVersionIdMarker");
	s3_versions_page_free(&pg);
	tap_ok(s3_versions_parse(&pg, page1, strlen(page1)) == -1,
	    "a ListBucketResult is not a versions page");
	s3_versions_page_free(&pg);
	tap_ok(s3_versions_parse(&pg, versions1, strlen(versions1) - 40) == -1,
	    "a cut versions page is refused");
	s3_versions_page_free(&pg);
	tap_ok(s3_versions_parse(&pg, "<ListVersionsResult><Version><Key>k</Key></Version>"
	    "<DeleteMarker><VersionId>v</VersionId></DeleteMarker><IsTruncated>false"
	    "</IsTruncated></ListVersionsResult>", 157) == 0 && pg.n == 0 && !pg.truncated,
	    "an entry without its Key or VersionId is skipped");
	s3_versions_page_free(&pg);

	doc = s3_delete_body(keys, ids, 2, &len);
	tap_is(doc, "<Delete><Quiet>true</Quiet><Object><Key>d/x-20250101.gz</Key>"
	    "<VersionId>v1.</VersionId></Object><Object><Key>d/x&amp;y</Key>"
	    "<VersionId>m&lt;2&gt;</VersionId></Object></Delete>",
	    "DeleteObjects body with version ids, escaped");
	tap_ok(doc && len == strlen(doc), "...its length");
	free(doc);

	tap_ok(s3_delete_refusals(deleted_versions, strlen(deleted_versions), refusal, NULL) == 2,
	    "every refusal of a DeleteResult counted");
	tap_is(refusals, "d/x-20250101.gz|slZZYlr463DcQ5lm9dGncmWwF5xWNv.|AccessDenied;"
	    "d/x-20250103.gz||InternalError;", "...each with its key, version id and code");
	refusals[0] = '\0';
	tap_ok(s3_delete_refusals(deleted_versions, strlen(deleted_versions) - 30, refusal,
	    NULL) == -1, "a cut DeleteResult is no verdict: a refusal may be missing");
	tap_ok(s3_delete_refusals(deleted_ok, strlen(deleted_ok), refusal, NULL) == 0,
	    "a quiet DeleteResult: no refusals");
	tap_ok(s3_delete_refusals("<Error><Code>SlowDown</Code></Error>", 36, refusal, NULL) ==
	    -1, "an <Error> document is not a DeleteResult");
}

static void
list_tests(void)
{
	struct s3_list_page pg;
	char *keys[] = { "a/b-20250101.gz", "x&<y>\"'" }, *doc;
	char key[64], code[16];
	size_t len;

	memset(&pg, 0, sizeof pg);
	tap_ok(s3_list_parse(&pg, page1, strlen(page1)) == 0, "a truncated page parses");
	tap_ok(pg.n == 2, "...two objects");
	tap_is(pg.n > 0 ? pg.v[0].key : NULL, "db/x-20250101.gz", "...first key");
	tap_is_u64(pg.n > 0 ? pg.v[0].size : 0, 12, "...its size");
	tap_is(pg.n > 0 ? pg.v[0].last_modified : NULL, "2025-09-09T10:00:00.000Z",
	    "...its LastModified");
	tap_is(pg.n > 0 ? pg.v[0].storage_class : NULL, "STANDARD", "...its StorageClass");
	tap_is(pg.n > 1 ? pg.v[1].storage_class : NULL, "", "...none listed: empty");
	tap_is(pg.n > 1 ? pg.v[1].key : NULL, "db/x-a&b <c>", "...entities decoded in a key");
	tap_is_u64(pg.n > 1 ? pg.v[1].size : 0, 5368709120ULL, "...a size over 4 GiB");
	tap_ok(pg.truncated == 1, "...IsTruncated true");
	tap_is(pg.next, "1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM=",
	    "...NextContinuationToken as sent");
	s3_list_page_free(&pg);

	tap_ok(s3_list_parse(&pg, page_last, strlen(page_last)) == 0 && pg.n == 0 &&
	    !pg.truncated && pg.next == NULL, "an empty last page: no objects, not truncated");
	s3_list_page_free(&pg);
	tap_ok(s3_list_parse(&pg, "<Error><Code>AccessDenied</Code></Error>", 40) == -1,
	    "an <Error> document is not a page");
	s3_list_page_free(&pg);
	tap_ok(s3_list_parse(&pg, page1, strlen(page1) - 30) == -1, "a cut page is refused");
	s3_list_page_free(&pg);
	tap_ok(s3_list_parse(&pg, "<ListBucketResult><Contents><Size>1</Size></Contents>"
	    "</ListBucketResult>", 72) == 0 && pg.n == 0, "Contents without a Key is skipped");
	s3_list_page_free(&pg);

	doc = s3_delete_body(keys, NULL, 2, &len);
	tap_is(doc, "<Delete><Quiet>true</Quiet><Object><Key>a/b-20250101.gz</Key></Object>"
	    "<Object><Key>x&amp;&lt;y&gt;&quot;&apos;</Key></Object></Delete>",
	    "DeleteObjects body: quiet, keys escaped");
	tap_ok(doc && len == strlen(doc), "...its length");
	free(doc);
	doc = s3_delete_body(keys, NULL, 0, &len);
	tap_is(doc, "<Delete><Quiet>true</Quiet></Delete>", "...no keys");
	free(doc);

	tap_ok(s3_delete_errors(deleted_ok, strlen(deleted_ok), key, sizeof key, code,
	    sizeof code) == 0 && key[0] == '\0', "a quiet DeleteResult: no errors");
	tap_ok(s3_delete_errors(deleted_verbose, strlen(deleted_verbose), key, sizeof key, code,
	    sizeof code) == 0, "a verbose one (Quiet ignored): no errors");
	tap_ok(s3_delete_errors(deleted_some, strlen(deleted_some), key, sizeof key, code,
	    sizeof code) == 2, "two <Error>s counted");
	tap_is(key, "db/x-20250102.gz", "...the first refused key");
	tap_is(code, "AccessDenied", "...its code");
	tap_ok(s3_delete_errors(deleted_some, strlen(deleted_some) - 40, key, sizeof key, code,
	    sizeof code) == 1 && strcmp(key, "db/x-20250102.gz") == 0,
	    "a reply cut after the first <Error> still names it");
	tap_ok(s3_delete_errors("", 0, key, sizeof key, code, sizeof code) == -1,
	    "an empty reply is not a verdict");
	tap_ok(s3_delete_errors("<Error><Code>SlowDown</Code></Error>", 36, key, sizeof key,
	    code, sizeof code) == -1, "an <Error> document is not a DeleteResult");
}

int
main(void)
{
	long lo = 1L << 30, hi = 0, v;
	int i, in_range = 1;

	for (i = 0; i < 1000; i++) {
		v = s3_backoff_ms(1);
		lo = v < lo ? v : lo;
		hi = v > hi ? v : hi;
	}
	tap_ok(lo >= 250 && hi <= 500 && hi > lo, "first retry waits 250-500 ms, jittered");
	for (i = 0; i < 1000; i++) {
		v = s3_backoff_ms(4);
		in_range &= v >= 2000 && v <= 4000;
	}
	tap_ok(in_range, "fourth retry waits 2-4 s");
	for (i = 0, in_range = 1; i < 1000; i++) {
		v = s3_backoff_ms(30);
		in_range &= v >= 10000 && v <= 20000;
	}
	tap_ok(in_range, "backoff is capped at 20 s");

	tap_is_u64((unsigned long long)s3_time("2013-05-24T00:00:00.000Z"), 1369353600ULL,
	    "Initiated with milliseconds");
	tap_is_u64((unsigned long long)s3_time("2013-05-24T00:00:01Z"), 1369353601ULL,
	    "Initiated without milliseconds");
	tap_ok(s3_time("2013-05-24 00:00:00") == -1, "a space instead of T is refused");
	tap_ok(s3_time("yesterday") == -1, "not a time");
	list_tests();
	versions_tests();
	return tap_done();
}
