/*
 * pgbak-get: an S3 object to standard output, for restores:
 * pgbak-get KEY | gunzip | psql.
 *
 * A restore that silently stops early is worse than one that fails, so the
 * byte count is checked against Content-Length, and a connection that breaks
 * mid-body is resumed with a Range request from the first byte not yet
 * written, after checking that the object is still the same one (ETag).
 * "Absent" (exit 1) is told apart from "could not fetch" (111).  lib/s3get
 * does all that, for pgbak-verify too.
 *
 * Where one stream is bound by the round trip, not the link, -p N ranged
 * GETs in flight (lib/s3pget) fill it; they are written out in order, at
 * most 7 x 6 MiB of them held in memory.  The first byte's latency and the
 * first range's rate tell which case it is: on a short round trip, from a
 * fast server, the rest comes as one stream.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "conf.h"
#include "log.h"
#include "s3.h"
#include "s3get.h"
#include "s3open.h"

#define USAGE "usage: pgbak-get [-v] [-p N] [-c FILE] [-b BUCKET] [-e URL] [-r REGION] " \
	"[--timeout SECONDS] [--max-rate RATE] KEY > FILE"

static noreturn void
usage(void)
{
	printf("%s\n"
	    "Write the object KEY to standard output; exit 1 when it does not exist.\n"
	    S3_FLAGS_HELP
	    S3_TIMEOUT_HELP
	    "  -p, --parallel N          ranged GETs in flight, 1 to 64 (default 24; at most 7\n"
	    "                            of 6 MiB held)\n"
	    "      --max-rate RATE       receive at most RATE bytes/s, e.g. 40MB, 40MiB\n"
	    "  -v, --verbose             report resumed transfers and the rate\n"
	    "      --help                print this help\n"
	    "      --version             print the version\n", USAGE);
	log_help_done();
}

/* The sink: standard output, through short writes. */
static int
to_stdout(void *ctx, const char *p, size_t n)
{
	ssize_t w;

	(void)ctx;
	while (n > 0) {
		if ((w = write(1, p, n)) < 0) {
			if (errno == EINTR && !s3_stop)
				continue;
			return -1;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

static int
parallel_arg(const char *s)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < 1 || v > S3_GET_PARALLEL_MAX)
		die(EXIT_USAGE, "-p wants a number from 1 to %d, not \"%.32s\"",
		    S3_GET_PARALLEL_MAX, s);
	return (int)v;
}

static void
resumed(void *ctx, const char *why, uint64_t at)
{
	(void)ctx;
	info("%s; resuming at byte %llu", why, (unsigned long long)at);
}

int
main(int argc, char **argv)
{
	enum { O_MAX_RATE = 256 };
	static const struct option longopts[] = {
		S3_FLAGS_LONG,
		S3_TIMEOUT_LONG,
		{ "parallel", required_argument, NULL, 'p' },
		{ "max-rate", required_argument, NULL, O_MAX_RATE },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 }
	};
	struct s3_flags flags = { 0 };
	struct s3_get g = { .sink = to_stdout, .sink_name = "standard output",
	    .resumed = resumed };
	struct s3_cfg cfg;
	struct log_err e;
	struct s3 s;
	struct timespec t0, t1;
	double secs;
	uint64_t max_rate = 0;
	int c, rc, parallel = S3_GET_PARALLEL;

	log_init(argv[0]);
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":" S3_FLAGS_SHORT "p:vh", longopts, NULL)) != -1) {
		switch (c) {
		case 'p': parallel = parallel_arg(optarg); break;
		case 'v': log_verbose++; break;
		case 'h': usage();
		case 'V': log_version();
		case O_MAX_RATE:
			if (conf_rate(optarg, &max_rate) < 0)
				die(EXIT_USAGE, "--max-rate %s: want %s", optarg, CONF_RATE_HELP);
			break;
		default: s3_flag(&flags, c, argv, USAGE);
		}
	}
	if (argc - optind != 1)
		die(EXIT_USAGE, "%s; %s", argc == optind ? "missing KEY" : "too many arguments",
		    USAGE);
	if (s3_open(&s, &cfg, &flags, argv[optind], S3_CATCH_STOP, &e) < 0)
		s3_die(&e);	/* by the signal, if one stopped a credential_process */
	if (max_rate)
		cfg.max_rate = max_rate;
	signal(SIGPIPE, SIG_IGN);	/* a closed stdout is a write error */

	clock_gettime(CLOCK_MONOTONIC, &t0);
	rc = s3_get_ranges(&s, cfg.key, &g, parallel, &e);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	if (rc == 0)
		info("fetched %s: %llu bytes, %.2f s, %.1f MiB/s", s3_cfg_url(&cfg),
		    (unsigned long long)g.written, secs,
		    secs > 0 ? (double)g.written / (1 << 20) / secs : 0.0);
	else if (rc > 0)
		warn("%s does not exist", s3_cfg_url(&cfg));
	s3_close(&s, &cfg);
	if (rc < 0)
		s3_die(&e);
	return log_stdout_done(rc > 0 ? EXIT_NO : EXIT_OK);
}
