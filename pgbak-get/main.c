/*
 * pgbak-get: an S3 object to standard output, for restores:
 * pgbak-get KEY | gunzip | psql.
 *
 * A restore that silently stops early is worse than one that fails, so the
 * byte count is checked against Content-Length, and a connection that breaks
 * mid-body is resumed with a Range request from the first byte not yet
 * written, after checking that the object is still the same one (ETag).
 * "Absent" (exit 1) is told apart from "could not fetch" (111).
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "s3.h"

#define RESUMES_MAX 1000	/* Range requests after broken connections (each made progress) */

struct out {
	struct s3 *s;
	uint64_t written;
	uint64_t total;		/* Content-Length of the first answer */
	int have_total;
	char etag[128];
	int checked;		/* this answer's headers were checked */
	int changed;		/* ...and do not continue what was written */
};

#define USAGE "usage: pgbak-get [-v] [-c FILE] [-b BUCKET] [-e URL] [-r REGION] KEY > FILE"

static noreturn void
usage(void)
{
	printf("%s\n"
	    "Write the object KEY to standard output; exit 1 when it does not exist.\n"
	    "  -c, --config FILE         read the s3 section of tasks.postgres in FILE\n"
	    "  -b, --bucket NAME         the bucket (also s3://BUCKET/KEY, PGBAK_BUCKET)\n"
	    "  -e, --endpoint URL        the S3 endpoint, e.g. https://minio.example:9000\n"
	    "  -r, --region NAME         the signing region (default us-east-1)\n"
	    "  -v, --verbose             report resumed transfers and the rate\n"
	    "      --help                print this help\n"
	    "      --version             print the version\n", USAGE);
	if (fflush(stdout) == EOF || ferror(stdout))
		die_sys(EXIT_TEMP, "unable to write to standard output");
	exit(EXIT_OK);
}

static void
on_signal(int sig)
{
	s3_stop = sig;
}

/* SIGINT, SIGTERM, SIGHUP end the transfer; a closed stdout is a write error. */
static void
catch_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
}

/* Is this answer the object we started, from the first byte not yet written? */
static int
same_object(struct out *o)
{
	const struct s3_resp *r = &o->s->x.resp;
	unsigned long long start, end, total;

	if (o->written == 0 && !o->have_total) {
		o->total = r->length;
		o->have_total = r->has_length;
		snprintf(o->etag, sizeof o->etag, "%s", r->etag);
		return r->status == 200;
	}
	return r->status == 206 && strcmp(r->etag, o->etag) == 0 &&
	    sscanf(r->content_range, "bytes %llu-%llu/%llu", &start, &end, &total) == 3 &&
	    start == o->written && (!o->have_total || total == o->total);
}

static int
to_stdout(void *ctx, const char *p, size_t n)
{
	struct out *o = ctx;
	ssize_t w;

	if (!o->checked) {
		o->checked = 1;
		if (!same_object(o)) {
			o->changed = 1;
			errno = ESTALE;
			return -1;
		}
	}
	while (n > 0) {
		if ((w = write(1, p, n)) < 0) {
			if (errno == EINTR && !s3_stop)
				continue;
			return -1;
		}
		p += w;
		n -= (size_t)w;
		o->written += (uint64_t)w;
	}
	return 0;
}

/* GET from o->written on; 0 done, 1 absent, -1 failed (e). */
static int
fetch(struct s3 *s, const char *key, struct out *o, struct log_err *e)
{
	char range[64];
	struct s3_req r = { .what = "download", .method = "GET", .key = key, .sink = to_stdout,
	    .sink_ctx = o };
	int resumes = 0;

	for (;;) {
		o->checked = 0;
		if (o->written > 0) {
			snprintf(range, sizeof range, "range: bytes=%llu-",
			    (unsigned long long)o->written);
			r.headers[0] = range;
		}
		if (s3_call(s, &r, e) == 0) {
			if (o->written == 0 && !o->checked && !same_object(o))
				return log_fail(e, EXIT_TEMP, "unable to download %s: HTTP %ld",
				    s3_cfg_url(s->cfg), s->x.resp.status);
			if (!o->have_total || o->written == o->total)
				return 0;
			/* the body ended early without an error: resume as after one */
			log_fail(e, EXIT_TEMP, "unable to download %s: %llu of %llu bytes",
			    s3_cfg_url(s->cfg), (unsigned long long)o->written,
			    (unsigned long long)o->total);
		} else if (s->x.sink_errno && !o->changed) {
			errno = s->x.sink_errno;
			return log_fail_sys(e, EXIT_TEMP, "unable to write %s to standard output",
			    s3_cfg_url(s->cfg));
		} else if (o->changed) {
			return log_fail(e, EXIT_TEMP, "unable to download %s: the object changed "
			    "after %llu bytes were written", s3_cfg_url(s->cfg),
			    (unsigned long long)o->written);
		} else if (o->written == 0 && s->x.resp.status == 404 &&
		    strcmp(s->x.resp.code, "NoSuchBucket") != 0) {
			return 1;
		} else if (!s->x.retryable || s->x.resp.sunk == 0) {
			return -1;
		}
		if (++resumes > RESUMES_MAX)
			return -1;
		info("%s; resuming at byte %llu", e->msg, (unsigned long long)o->written);
		if (s3_sleep_ms(s3_backoff_ms(1)) < 0)
			return -1;
	}
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		S3_FLAGS_LONG,
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 }
	};
	struct s3_flags flags = { 0 };
	struct out o = { 0 };
	struct s3_cfg cfg;
	struct log_err e;
	struct s3 s;
	struct timespec t0, t1;
	double secs;
	int c, rc;

	log_init(argv[0]);
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":" S3_FLAGS_SHORT "vh", longopts, NULL)) != -1) {
		switch (c) {
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
	if (s3_cfg_load(&cfg, &flags, argv[optind], &e) < 0)
		die_err(&e);
	catch_signals();
	if (s3_init(&s, &cfg, &e) < 0) {
		s3_cfg_free(&cfg);	/* wipes the secret */
		die_err(&e);
	}

	o.s = &s;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	rc = fetch(&s, cfg.key, &o, &e);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	if (rc == 0)
		info("fetched %s: %llu bytes, %.2f s, %.1f MiB/s", s3_cfg_url(&cfg),
		    (unsigned long long)o.written, secs,
		    secs > 0 ? (double)o.written / (1 << 20) / secs : 0.0);
	else if (rc > 0)
		warn("%s does not exist", s3_cfg_url(&cfg));
	s3_free(&s);
	s3_cfg_free(&cfg);
	if (rc < 0) {
		warn("%s", e.msg);
		if (s3_stop) {
			signal(s3_stop, SIG_DFL);
			raise(s3_stop);
		}
		exit(e.status ? e.status : EXIT_TEMP);
	}
	return rc > 0 ? EXIT_NO : EXIT_OK;
}
