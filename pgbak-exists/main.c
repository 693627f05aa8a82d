/*
 * pgbak-exists: does an object exist?  One HEAD request.
 *
 * The answer has three values, not two: 0 it exists, 1 it does not (the
 * bucket answered 404 and the bucket itself exists), 111 we could not tell
 * (403, no such bucket, network, TLS).  pgbak-run skips a database whose
 * backup of the day exists, so "could not tell" must never read as "absent"
 * nor as "exists".
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include <curl/curl.h>

#include "log.h"
#include "s3open.h"

#define USAGE "usage: pgbak-exists [-v] [-c FILE] [-b BUCKET] [-e URL] [-r REGION] " \
	"[--timeout SECONDS] KEY"

static noreturn void
usage(void)
{
	printf("%s\n"
	    "Exit 0 when the object KEY exists, 1 when it does not, 111 when that cannot be told.\n"
	    S3_FLAGS_HELP
	    S3_TIMEOUT_HELP
	    "  -v, --verbose             print its size, ETag and modification time\n"
	    "      --help                print this help\n"
	    "      --version             print the version\n", USAGE);
	log_help_done();
}

/* -v: size, ETag and modification time of the object, one per line. */
static void
describe(const struct s3_resp *r)
{
	char when[32] = "";
	time_t t = curl_getdate(r->last_modified, NULL);
	struct tm tm;

	if (t != (time_t)-1 && gmtime_r(&t, &tm))
		strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm);
	printf("size: %llu\netag: %s\nlast-modified: %s\n",
	    (unsigned long long)r->length, r->etag, when);
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		S3_FLAGS_LONG,
		S3_TIMEOUT_LONG,
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 }
	};
	struct s3_flags flags = { 0 };
	struct s3_cfg cfg;
	struct log_err e;
	struct s3 s;
	int c, rc;

	log_init(argv[0]);
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":" S3_FLAGS_SHORT "vh", longopts, NULL)) != -1) {
		switch (c) {
		case 'v': log_verbose++; break;
		case 'h': usage();
		case 'V': log_version();
		default: s3_flag(&flags, c, argv, USAGE);
		}
	}
	if (argc - optind != 1)
		die(EXIT_USAGE, "%s; %s", argc == optind ? "missing KEY" : "too many arguments",
		    USAGE);
	if (s3_open(&s, &cfg, &flags, argv[optind], S3_CATCH_NONE, &e) < 0)
		die_err(&e);

	rc = s3_head(&s, cfg.key, &e);
	if (rc > 0 && log_verbose)
		describe(&s.x.resp);
	s3_close(&s, &cfg);
	if (rc < 0)
		die_err(&e);
	return log_stdout_done(rc > 0 ? EXIT_OK : EXIT_NO);
}
