/*
 * pgbak-put: standard input, of any length, to exactly one S3 object, or
 * to none.
 *
 * A backup that failed half-way must not look like a backup: the object
 * appears only when the whole input was read, every part was stored and
 * verified, and (with -C) the caller said "commit" after seeing its
 * producers exit 0.  On any failure or signal the multipart upload is
 * aborted, so nothing is left behind to pay for either.  Memory is the
 * parts in flight (parallel x part size), never the input.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf.h"
#include "log.h"
#include "s3open.h"
#include "upload.h"

#define STALE_AGE 3600L		/* --abort-stale without =AGE: one hour */

#define USAGE "usage: pgbak-put [-v] [-c FILE] [-b BUCKET] [-e URL] [-r REGION] [-C FD] " \
	"[options] KEY < data"

static noreturn void
usage(void)
{
	printf("%s\n"
	    "Store standard input as the object KEY, all or nothing.\n"
	    "  -C, --commit-fd FD        after EOF, store only if FD then says \"commit\"\n"
	    "      --expected-size SIZE  plan the parts for SIZE bytes\n"
	    "      --part-size SIZE      parts of SIZE bytes (5M to 5G)\n"
	    "      --parallel N          parts in flight (1 to 64)\n"
	    "      --max-rate RATE       send at most RATE bytes/s in all, e.g. 40MB, 40MiB\n"
	    "      --if-absent           store only if KEY does not exist yet (else exit 1)\n"
	    "      --abort-stale[=AGE]   only abort uploads of KEY older than AGE (1h)\n"
	    "      --any-date            with --abort-stale: also KEY's name on other days\n"
	    S3_FLAGS_HELP
	    S3_WRITE_FLAGS_HELP
	    "  -v, --verbose             report each part and the rate (live on a terminal)\n"
	    "      --help                print this help\n"
	    "      --version             print the version\n", USAGE);
	log_help_done();
}

static long
number(const char *opt, const char *s, long min, long max)
{
	char *end;
	long v = strtol(s, &end, 10);

	if (*s == '\0' || *end != '\0' || v < min || v > max)
		die(EXIT_USAGE, "%s %s: want a number from %ld to %ld", opt, s, min, max);
	return v;
}

static uint64_t
size_arg(const char *opt, const char *s)
{
	uint64_t v;

	if (strcmp(s, "0") == 0)
		return 0;
	if (conf_size(s, &v) < 0)
		die(EXIT_USAGE, "%s %s: want a size in bytes, or with K, M, G, T (KiB, MiB...)",
		    opt, s);
	return v;
}

int
main(int argc, char **argv)
{
	enum { O_EXPECTED = 256, O_PART_SIZE, O_PARALLEL, O_IF_ABSENT, O_ABORT_STALE,
		O_ANY_DATE, O_MAX_RATE };
	static const struct option longopts[] = {
		S3_FLAGS_LONG,
		{ "commit-fd", required_argument, NULL, 'C' },
		{ "expected-size", required_argument, NULL, O_EXPECTED },
		{ "part-size", required_argument, NULL, O_PART_SIZE },
		{ "parallel", required_argument, NULL, O_PARALLEL },
		{ "max-rate", required_argument, NULL, O_MAX_RATE },
		{ "if-absent", no_argument, NULL, O_IF_ABSENT },
		{ "abort-stale", optional_argument, NULL, O_ABORT_STALE },
		{ "any-date", no_argument, NULL, O_ANY_DATE },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 }
	};
	struct s3_flags flags = { 0 };
	struct s3put_opts o = { .commit_fd = -1 };
	struct s3_cfg cfg;
	struct log_err e;
	struct s3 s;
	uint64_t part_size = 0, max_rate = 0;
	long parallel = 0, stale = -1;
	int c, rc, n, any_date = 0;

	log_init(argv[0]);
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":" S3_FLAGS_SHORT "C:vh", longopts, NULL)) != -1) {
		switch (c) {
		case 'C': o.commit_fd = (int)number("-C", optarg, 0, 1 << 20); break;
		case O_EXPECTED:
			o.has_expected = 1;
			o.expected = size_arg("--expected-size", optarg);
			break;
		case O_PART_SIZE: part_size = size_arg("--part-size", optarg); break;
		case O_PARALLEL: parallel = number("--parallel", optarg, 1, 64); break;
		case O_MAX_RATE:
			if (conf_rate(optarg, &max_rate) < 0)
				die(EXIT_USAGE, "--max-rate %s: want %s", optarg, CONF_RATE_HELP);
			break;
		case O_IF_ABSENT: o.if_absent = 1; break;
		case O_ABORT_STALE:
			if (optarg == NULL)
				stale = STALE_AGE;
			else if (strcmp(optarg, "0") == 0)
				stale = 0;
			else if (conf_duration(optarg, &stale) < 0)
				die(EXIT_USAGE, "--abort-stale=%s: want an age like 3600, 90m, 2h",
				    optarg);
			break;
		case O_ANY_DATE: any_date = 1; break;
		case 'v': log_verbose++; break;
		case 'h': usage();
		case 'V': log_version();
		default:
			if (c == ':' || !s3_flags_set(&flags, c, optarg))
				die_badopt(c, argv, USAGE);
		}
	}
	if (argc - optind != 1)
		die(EXIT_USAGE, "%s; %s", argc == optind ? "missing KEY" : "too many arguments",
		    USAGE);
	if (o.commit_fd == 0)
		die(EXIT_USAGE, "-C 0: the commit fd cannot be standard input");
	if (o.commit_fd > 0 && fcntl(o.commit_fd, F_GETFD) < 0)
		die(EXIT_USAGE, "-C %d: not an open file descriptor", o.commit_fd);
	if (any_date && stale < 0)
		die(EXIT_USAGE, "--any-date goes with --abort-stale; %s", USAGE);
	if (stale < 0 && log_stdin_closed)
		die(EXIT_USAGE, "standard input is closed: nothing to store; give the backup "
		    "on standard input (</dev/null stores an empty object)");
	/* every signal that would end us ends the upload cleanly, aborted first */
	if (s3_open(&s, &cfg, &flags, argv[optind], S3_CATCH_ALL, &e) < 0)
		s3_die(&e);	/* by the signal, if one stopped a credential_process */
	if (any_date && put_dated(cfg.key) == 0) {
		s3_close(&s, &cfg);
		die(EXIT_USAGE, "--any-date: the key must end with -YYYYMMDD.gz or "
		    "-YYYYMMDD.gz.age, as pgbak-run names it");
	}
	if (part_size)
		cfg.part_size = part_size;
	if (parallel)
		cfg.parallel = (int)parallel;
	if (max_rate)
		cfg.max_rate = max_rate;
	o.key = cfg.key;
	put_report(&o, log_verbose && isatty(2));
	o.wake_fd = s3_wake_fd;

	if (stale >= 0) {
		rc = put_abort_stale(&s, cfg.key, stale, any_date, &n, &e);
		if (rc == 0)
			info("%d stale upload%s of %s%s aborted", n, n == 1 ? "" : "s",
			    s3_cfg_url(&cfg), any_date ? " (any date)" : "");
	} else {
		rc = s3put_upload(&s, &o, &e);
	}
	if (rc == EXIT_NO)
		warn("%s exists; nothing stored", s3_cfg_url(&cfg));
	s3_close(&s, &cfg);
	if (rc < 0)
		s3_die(&e);
	return log_stdout_done(rc);
}
