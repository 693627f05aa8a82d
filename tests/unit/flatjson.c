/* Unit tests of lib/flatjson: the credential documents the AWS endpoints send. */
#include <string.h>

#include "flatjson.h"
#include "tap.h"

static int
parses(const char *doc)
{
	struct flatjson j;
	int r = flatjson_parse(&j, doc, strlen(doc));

	if (r == 0)
		flatjson_free(&j);
	return r == 0;
}

int
main(void)
{
	/* As IMDS and the container endpoint answer (AWS docs' example). */
	const char *imds = "{\n  \"Code\" : \"Success\",\n  \"LastUpdated\" : \"2012-04-26T16:39:16Z\",\n"
	    "  \"Type\" : \"AWS-HMAC\",\n  \"AccessKeyId\" : \"ASIAIOSFODNN7EXAMPLE\",\n"
	    "  \"SecretAccessKey\" : \"wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\",\n"
	    "  \"Token\" : \"tok\\u0041\\/en\",\n  \"Expiration\" : \"2017-05-17T15:09:54Z\"\n}";
	struct flatjson j;

	ok(flatjson_parse(&j, imds, strlen(imds)) == 0, "IMDS credentials document parses");
	is_str(flatjson_get(&j, "AccessKeyId"), "ASIAIOSFODNN7EXAMPLE", "AccessKeyId");
	is_str(flatjson_get(&j, "SecretAccessKey"), "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
	    "SecretAccessKey");
	is_str(flatjson_get(&j, "Token"), "tokA/en", "\\u and \\/ escapes decoded");
	is_str(flatjson_get(&j, "Expiration"), "2017-05-17T15:09:54Z", "Expiration");
	ok(flatjson_get(&j, "Missing") == NULL, "an absent member is NULL");
	flatjson_free(&j);

	/* credential_process: Version is a number, nested values are skipped. */
	const char *proc = "{\"Version\": 1, \"Extra\": {\"AccessKeyId\": \"inner\"}, "
	    "\"List\": [1, 2], \"AccessKeyId\": \"AKID\", \"SecretAccessKey\": \"s\"}";
	ok(flatjson_parse(&j, proc, strlen(proc)) == 0, "credential_process output parses");
	is_str(flatjson_get(&j, "Version"), "1", "a number member reads as its text");
	is_str(flatjson_get(&j, "AccessKeyId"), "AKID", "a nested object's member is not top-level");
	ok(flatjson_get(&j, "Extra") == NULL && flatjson_get(&j, "List") == NULL,
	    "nested objects and arrays are skipped");
	flatjson_free(&j);

	/* Negative twins: what is not a JSON object. */
	ok(!parses("[\"AccessKeyId\", \"x\"]"), "an array is refused");
	ok(!parses("\"AccessKeyId\""), "a string is refused");
	ok(!parses(""), "nothing is refused");
	ok(!parses("{\"AccessKeyId\": \"x\""), "a cut object is refused");
	ok(!parses("{\"a\": &x 1, \"b\": *x}"), "YAML aliases are refused");
	ok(!parses("<html>404</html>"), "an HTML error page is refused");
	ok(parses("{}"), "an empty object parses");
	return tap_done();
}
