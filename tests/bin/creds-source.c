/*
 * creds-source: ask one network credential source once (tests only).
 *
 *     creds-source web|container|imds [TIMEOUT_MS]
 *
 * Prints "ok ACCESS_KEY_ID EXPIRES token|notoken WHAT" and exits 0 when
 * the source yields; "none WHY" and exit 1 when it is not set up here;
 * "fail MESSAGE" and the error's exit status when it failed.  Never the
 * secret or the session token: the tests check that the program that uses
 * them does not print them either.  Region from AWS_REGION.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "creds.h"
#include "log.h"

int
main(int argc, char **argv)
{
	struct creds_src in = { .profile = "default", .cancel_fd = -1 };
	struct creds c = { 0 };
	struct log_err e = { 0, "" };
	char what[256] = "", why[256] = "";
	creds_source_fn *fn;
	int rc;

	log_init(argv[0]);
	if (argc < 2 || argc > 3)
		die(EXIT_USAGE, "usage: creds-source web|container|imds [TIMEOUT_MS]");
	if (strcmp(argv[1], "web") == 0)
		fn = creds_web_identity;
	else if (strcmp(argv[1], "container") == 0)
		fn = creds_container;
	else if (strcmp(argv[1], "imds") == 0)
		fn = creds_imds;
	else
		die(EXIT_USAGE, "unknown source %s", argv[1]);
	if (argc == 3)
		in.timeout_ms = atol(argv[2]);
	in.region = getenv("AWS_REGION");
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != 0)
		die(EXIT_TEMP, "unable to start libcurl");
	rc = fn(&in, &c, what, sizeof what, why, sizeof why, &e);
	if (rc == 1) {
		printf("ok %s %lld %s %s\n", c.access_key, c.expires,
		    c.token != NULL ? "token" : "notoken", what);
		creds_wipe(&c);
	} else if (rc == 0) {
		printf("none %s\n", why);
	} else {
		printf("fail %s\n", e.msg);
	}
	curl_global_cleanup();
	return log_stdout_done(rc == 1 ? 0 : rc == 0 ? 1 : e.status);
}
