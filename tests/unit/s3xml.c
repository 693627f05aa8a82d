/* s3xml: S3 replies as RGW and AWS write them, and what is not XML. */
#include <stdlib.h>
#include <string.h>

#include "s3xml.h"
#include "s3tap.h"

static const char rgw_error[] =
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>NoSuchKey</Code>"
    "<Message></Message><BucketName>b</BucketName>"
    "<RequestId>tx0000-1</RequestId><HostId>1-default</HostId></Error>";

static const char initiate[] =
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
    "<InitiateMultipartUploadResult xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
    "<Bucket>b</Bucket><Key>a/b c.gz</Key>"
    "<UploadId>2~Ab-cD_eF</UploadId></InitiateMultipartUploadResult>";

static const char list[] =
    "<ListMultipartUploadsResult xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
    "<Bucket>b</Bucket><IsTruncated>false</IsTruncated>"
    "<Upload><Key>k</Key><UploadId>u1</UploadId>"
    "<Initiated>2025-09-09T10:00:00.000Z</Initiated></Upload>"
    "<Upload><Key>k&amp;more</Key><UploadId>u2</UploadId>"
    "<Initiated>2025-09-09T11:00:00.000Z</Initiated></Upload>"
    "</ListMultipartUploadsResult>";

struct seen {
	char log[1024];
};

static void
collect(void *ctx, const char *path, const char *text)
{
	struct seen *s = ctx;
	size_t n = strlen(s->log);

	if (strstr(path, "/Upload"))
		snprintf(s->log + n, sizeof s->log - n, "%s=%s;", strrchr(path, '/') + 1, text);
}

/* depth <a> elements, well-formed, into buf (4096 bytes). */
static void
nest(char *buf, int depth)
{
	int i;

	buf[0] = '\0';
	for (i = 0; i < depth; i++)
		strcat(buf, "<a>");
	for (i = 0; i < depth; i++)
		strcat(buf, "</a>");
}

int
main(void)
{
	char out[64], deep[4096];
	struct seen s = { "" };
	char *e;

	tap_ok(s3xml_get(rgw_error, strlen(rgw_error), "Error/Code", out, sizeof out) == 1,
	    "Error/Code found");
	tap_is(out, "NoSuchKey", "Error/Code text");
	tap_ok(s3xml_get(rgw_error, strlen(rgw_error), "Error/Message", out, sizeof out) == 1 &&
	    out[0] == '\0', "empty Error/Message (RGW) found and empty");
	tap_ok(s3xml_get(rgw_error, strlen(rgw_error), "Code", out, sizeof out) == 0,
	    "a path must start at the root");
	tap_ok(s3xml_get(initiate, strlen(initiate), "InitiateMultipartUploadResult/UploadId",
	    out, sizeof out) == 1, "UploadId found under a default namespace");
	tap_is(out, "2~Ab-cD_eF", "UploadId text");
	tap_ok(s3xml_get(initiate, strlen(initiate), "Error/Code", out, sizeof out) == 0,
	    "a success reply has no Error/Code");
	tap_ok(s3xml_get(initiate, strlen(initiate), "InitiateMultipartUploadResult/UploadId",
	    out, 4) == 1 && strcmp(out, "2~A") == 0, "text cut to the buffer");

	tap_ok(s3xml_parse(list, strlen(list), collect, &s) == 0, "upload list parses");
	tap_is(s.log, "Key=k;UploadId=u1;Initiated=2025-09-09T10:00:00.000Z;Upload=;"
	    "Key=k&more;UploadId=u2;Initiated=2025-09-09T11:00:00.000Z;Upload=;",
	    "elements in order of their ends, entities decoded");

	tap_ok(s3xml_get("  \n  <?xml version=\"1.0\"?><Error><Code>InternalError</Code></Error>",
	    67, "Error/Code", out, sizeof out) == 1 && strcmp(out, "InternalError") == 0,
	    "spaces before the declaration (a kept-alive Complete) are skipped");
	tap_ok(s3xml_get("", 0, "Error/Code", out, sizeof out) == -1, "empty body is not XML");
	tap_ok(s3xml_get("<Error><Code>x</Error>", 22, "Error/Code", out, sizeof out) == -1,
	    "mismatched tags are not XML");
	tap_ok(s3xml_get("<html>Bad Gateway", 17, "Error/Code", out, sizeof out) == -1,
	    "a proxy's HTML page is not XML");
	nest(deep, 100);
	tap_ok(s3xml_parse(deep, strlen(deep), collect, &s) == 0,
	    "nesting 100 deep (path 199 bytes) is parsed");
	nest(deep, 300);
	tap_ok(s3xml_parse(deep, strlen(deep), collect, &s) == -1,
	    "nesting 300 deep (path 599 bytes) refused");

	{
		struct seen whole = { "" }, piece = { "" };
		struct s3xml *x = s3xml_new(collect, &piece);
		size_t i;
		int rc = x ? 0 : -1;

		s3xml_parse(list, strlen(list), collect, &whole);
		for (i = 0; i < strlen(list) && rc == 0; i++)
			rc = s3xml_feed(x, list + i, 1, 0);
		if (rc == 0)
			rc = s3xml_feed(x, "", 0, 1);
		s3xml_free(x);
		tap_ok(rc == 0, "fed one byte at a time, the list parses");
		tap_is(piece.log, whole.log, "...into the same elements as parsed whole");

		x = s3xml_new(collect, &piece);
		rc = s3xml_feed(x, "  \n<Error><Code>x</Code>", 24, 0);
		tap_ok(rc == 0, "spaces first, then a document begun: fine so far");
		tap_ok(s3xml_feed(x, "", 0, 1) == -1, "...but it never ends: not XML");
		tap_ok(s3xml_feed(x, "</Error>", 8, 1) == -1, "...and stays refused");
		s3xml_free(x);
	}

	tap_ok(s3xml_root(initiate, strlen(initiate), out, sizeof out) == 1 &&
	    strcmp(out, "InitiateMultipartUploadResult") == 0, "root of a reply, namespace and all");
	tap_ok(s3xml_root(rgw_error, strlen(rgw_error), out, 6) == 1 && strcmp(out, "Error") == 0,
	    "root of an Error");
	tap_ok(s3xml_root("", 0, out, sizeof out) == -1 && out[0] == '\0',
	    "an empty body has no root");
	tap_ok(s3xml_root("<html>Bad Gateway", 17, out, sizeof out) == -1 && out[0] == '\0',
	    "a proxy's HTML page has no root");
	tap_ok(s3xml_root("<Error><Code>x</Code>", 21, out, sizeof out) == -1 &&
	    out[0] == '\0', "a reply cut short has no root");

	e = s3xml_escape("\"etag\"&<x>'");
	tap_is(e, "&quot;etag&quot;&amp;&lt;x&gt;&apos;", "escape for element text");
	free(e);
	return tap_done();
}
