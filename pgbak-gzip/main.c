/*
 * pgbak-gzip: compress stdin to stdout as one gzip member, on every CPU.
 *
 * The middle stage of pg_dump | pgbak-gzip | pgbak-put.  A program of its
 * own (not a library call inside pgbak-run) so that shell users get the
 * same stage.  It differs from gzip and pigz where a backup needs it to:
 * after a read error it exits 111 without writing the gzip trailer, so a
 * truncated dump never passes for a complete one; a write error (EPIPE
 * included: SIGPIPE is ignored) is reported on one line and exits 111
 * instead of killing us silently.  Work and memory are in lib/gz.c.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "gz.h"
#include "log.h"

static noreturn void
usage(void)
{
	printf("usage: %s [-1..-9] [-p threads] [-b KiB] [-fv] < input > output.gz\n"
	    "  -1 .. -9, --fast, --best  compression level (default %d)\n"
	    "  -p, --threads N           compressing threads (default: online CPUs, %d)\n"
	    "  -b, --blocksize KIB       input block size in KiB (default %zu)\n"
	    "  -f, --force               write to a terminal all the same\n"
	    "  -v, --verbose             print bytes, ratio and speed at the end\n"
	    "      --help, --version\n",
	    log_prog, GZ_LEVEL_DEFAULT, gz_threads(), GZ_BLOCK_DEFAULT >> 10);
	log_help_done();
}

/* A whole decimal number in [lo, hi], or a usage error naming the option. */
static long
number(const char *s, long lo, long hi, const char *what)
{
	char *end;
	long n;

	errno = 0;
	n = strtol(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || n < lo || n > hi)
		die(EXIT_USAGE, "%s '%s' is not a number from %ld to %ld", what, s, lo, hi);
	return n;
}

/* The option getopt just rejected, as the user wrote it. */
static const char *
option(char **argv)
{
	static char opt[3] = "-";

	if (optopt == 0 || strncmp(argv[optind - 1], "--", 2) == 0)
		return argv[optind - 1];
	opt[1] = (char)optopt;
	return opt;
}

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void
report(const struct gz_stats *st, double secs)
{
	double mib = (double)st->bytes_in / (1024.0 * 1024.0);

	info("%llu bytes in, %llu bytes out, ratio %.3f, %.2f s, %.1f MiB/s",
	    (unsigned long long)st->bytes_in, (unsigned long long)st->bytes_out,
	    st->bytes_in ? (double)st->bytes_out / (double)st->bytes_in : 0.0,
	    secs, secs > 0 ? mib / secs : 0.0);
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "fast", no_argument, NULL, '1' },
		{ "best", no_argument, NULL, '9' },
		{ "threads", required_argument, NULL, 'p' },
		{ "blocksize", required_argument, NULL, 'b' },
		{ "force", no_argument, NULL, 'f' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 }
	};
	struct gz_opts o = { .in_name = "stdin", .out_name = "stdout" };
	struct gz_stats st;
	struct log_err e;
	int c, force = 0;
	double t0;

	log_init(argv[0]);
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":123456789p:b:fvh", longopts, NULL)) != -1) {
		switch (c) {
		case '1': case '2': case '3': case '4': case '5':
		case '6': case '7': case '8': case '9':
			o.level = c - '0';
			break;
		case 'p':
			o.threads = (int)number(optarg, 1, GZ_THREADS_MAX, "thread count");
			break;
		case 'b':
			o.block = (size_t)number(optarg, GZ_BLOCK_MIN >> 10, GZ_BLOCK_MAX >> 10,
			    "block size in KiB") << 10;
			break;
		case 'f':
			force = 1;
			break;
		case 'v':
			log_verbose++;
			break;
		case 'h':
			usage();
		case 'V':
			log_version();
		case ':':
			die(EXIT_USAGE, "option '%s' needs a value (see --help)", option(argv));
		default:
			die(EXIT_USAGE, "unknown option '%s' (see --help)", option(argv));
		}
	}
	if (optind != argc)
		die(EXIT_USAGE, "unexpected argument '%s': input is stdin, output is stdout",
		    argv[optind]);
	if (log_stdin_closed)
		die(EXIT_USAGE, "standard input is closed: nothing to compress; "
		    "give the data on standard input");
	if (!force && isatty(STDOUT_FILENO))
		die(EXIT_USAGE, "compressed data not written to a terminal: "
		    "redirect stdout, or use -f to force");
	/* a closed reader must be an error we report, not a silent death */
	signal(SIGPIPE, SIG_IGN);

	t0 = now();
	if (gz_compress(STDIN_FILENO, STDOUT_FILENO, &o, &st, &e) != 0)
		die_err(&e);
	report(&st, now() - t0);
	return log_stdout_done(EXIT_OK);
}
