/*
 * pgbak-verify: is a stored backup whole?  No database needed.
 *
 * pgbak-run publishes an object only when pg_dump and pgbak-gzip both
 * succeeded, but a backup is proven only by reading it back: storage can
 * lose or mangle bytes, a pg_dump wrapper can exit 0 after a failed dump,
 * an object can be replaced by hand.  So the object (or a local file) is
 * streamed through the checks of lib/verify: gzip magic, every member's
 * deflate data, CRC-32 and ISIZE, no truncation, nothing after the last
 * member, and pg_dump's completion comment at the end of the SQL; for a
 * custom or directory backup, its archive instead of the SQL (arc.h).
 *
 * Three answers, as in pgbak(7): 0 good, 1 damaged (one line says how),
 * 111 could not read it (no such object, S3, network, file errors): a
 * damaged backup needs a new backup, a failed read may just need a retry.
 * Downloads resume like pgbak-get's (lib/s3get); memory is fixed.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "name.h"
#include "s3.h"
#include "s3get.h"
#include "s3open.h"
#include "verify.h"
#include "arc.h"
#include "vz.h"

#define USAGE "usage: pgbak-verify [-v] [-c FILE] [-b BUCKET] [-e URL] [-r REGION] " \
	"[--timeout SECONDS] KEY | -f FILE"
#define READ_BUF (64 * 1024)

static struct verify v;		/* about 70 KiB: not on the stack */
static int damaged;
static struct log_err feed_err;

/* What the name says the backup is (lib/name's suffix): gzip (.gz, and any
 * name that is not a backup's, as before there were others), zstd (.zst:
 * through zstd -d, vz.h) or plain SQL (.sql, compression: none). */
enum { KIND_GZ, KIND_ZST, KIND_SQL };
static int kind;
static struct vz z;
/* A custom or directory backup (.dump*, .tar*): its archive is checked by
 * arc (archive.c) where a plain dump's SQL gets the completion line check. */
static int archive = -1;	/* ARC_CUSTOM, ARC_TAR; -1: plain SQL */
static struct arc arch;

static int
kind_of(const char *name)
{
	const char *base = strrchr(name, '/');
	struct name_parts p;

	if (name_parse(base ? base + 1 : name, &p, NULL) < 0 || (p.flags & NAME_AGE))
		return KIND_GZ;
	archive = p.flags & NAME_CUSTOM ? ARC_CUSTOM : p.flags & NAME_DIR ? ARC_TAR : -1;
	return p.flags & NAME_ZSTD ? KIND_ZST : p.flags & NAME_RAW ? KIND_SQL : KIND_GZ;
}

/* The next n bytes, to the checks of the kind: as verify_feed, 0 go on,
 * 1 damaged, -1 error (e). */
static int
feed(const void *p, size_t n, struct log_err *e)
{
	if (kind == KIND_ZST)
		return vz_feed(&z, &v, p, n, e);
	if (kind == KIND_SQL) {
		v.in += n;
		verify_sql(&v, p, n);
		return 0;
	}
	return verify_feed(&v, p, n, e);
}

/* End of the object: 0 whole, 1 damaged (v.why); dies when zstd could not
 * be talked to. */
static int
feed_end(void)
{
	struct log_err e;
	int rc;

	if (kind == KIND_SQL)
		return verify_sql_end(&v);
	if (kind == KIND_GZ)
		return verify_end(&v);
	if ((rc = vz_end(&z, &v, &e)) < 0)
		die_err(&e);
	return rc;
}

static noreturn void
usage(void)
{
	printf("%s\n"
	    "Check that the backup KEY (or FILE) is a whole gzip'd (.gz), zstd'd (.zst) or\n"
	    "plain (.sql) pg_dump, or custom archive (.dump*) or directory's tar (.tar*):\n"
	    "exit 0 good,\n"
	    "1 damaged, 111 when it cannot be read.\n"
	    "  -f, --file FILE           check a local file (- for standard input), not S3\n"
	    S3_FLAGS_HELP
	    S3_TIMEOUT_HELP
	    "  -v, --verbose             say \"ok\" with the sizes when it is good\n"
	    "      --help                print this help\n"
	    "      --version             print the version\n", USAGE);
	log_help_done();
}

/* The download's sink: the checker.  Once damage is seen the rest is not
 * worth fetching, so the transfer is ended. */
static int
to_verify(void *ctx, const char *p, size_t n)
{
	int rc = feed(p, n, &feed_err);

	(void)ctx;
	if (rc == 0)
		return 0;
	if (rc > 0)
		damaged = 1;
	errno = rc > 0 ? ECANCELED : ENOMEM;
	return -1;
}

static void
resumed(void *ctx, const char *why, uint64_t at)
{
	(void)ctx;
	info("%s; resuming at byte %llu", why, (unsigned long long)at);
}

/* Feed the object KEY; 0 read whole or damaged, else exits 111. */
static void
from_s3(const struct s3_flags *flags, const char *keyarg, char *name, size_t cap)
{
	struct s3_get g = { .sink = to_verify, .sink_name = "the checker", .resumed = resumed };
	struct s3_cfg cfg;
	struct log_err e;
	struct s3 s;
	int rc;

	if (s3_open(&s, &cfg, flags, keyarg, S3_CATCH_STOP, &e) < 0)
		s3_die(&e);	/* by the signal, if one stopped a credential_process */
	snprintf(name, cap, "%s", s3_cfg_url(&cfg));
	rc = s3_get(&s, cfg.key, &g, &e);
	s3_close(&s, &cfg);
	if (rc < 0 && damaged)
		return;
	if (rc < 0 && s3_stop)
		s3_die(&e);
	if (rc < 0 && feed_err.msg[0])
		die(EXIT_TEMP, "%s: %s", name, feed_err.msg);
	if (rc < 0)
		die(e.status ? e.status : EXIT_TEMP, "%s", e.msg);
	if (rc > 0)
		die(EXIT_TEMP, "%s: no such object; nothing to verify", name);
}

/* Feed a file, or standard input for "-"; exits 111 when it cannot be read. */
static void
from_file(const char *path, char *name, size_t cap)
{
	static char buf[READ_BUF];
	struct log_err e;
	ssize_t n;
	int fd = 0;

	snprintf(name, cap, "%s", strcmp(path, "-") == 0 ? "standard input" : path);
	if (strcmp(path, "-") != 0 && (fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		die_sys(EXIT_TEMP, "unable to open %s", path);
	while ((n = read(fd, buf, sizeof buf)) != 0) {
		if (n < 0) {
			if (errno == EINTR)
				continue;
			die_sys(EXIT_TEMP, "unable to read %s", name);
		}
		if ((n = feed(buf, (size_t)n, &e)) < 0)
			die(EXIT_TEMP, "%s: %s", name, e.msg);
		if (n > 0) {
			damaged = 1;
			break;
		}
	}
	if (fd != 0)
		close(fd);
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		S3_FLAGS_LONG,
		S3_TIMEOUT_LONG,
		{ "file", required_argument, NULL, 'f' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 }
	};
	struct s3_flags flags = { 0 };
	const char *file = NULL;
	char name[2048];
	struct log_err e;
	int c, s3flag = 0;

	log_init(argv[0]);
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":" S3_FLAGS_SHORT "f:vh", longopts, NULL)) != -1) {
		switch (c) {
		case 'f': file = optarg; break;
		case 'v': log_verbose++; break;
		case 'h': usage();
		case 'V': log_version();
		default:
			s3_flag(&flags, c, argv, USAGE);
			s3flag = 1;
		}
	}
	if (file && (argc > optind || s3flag))
		die(EXIT_USAGE, "-f FILE checks a local file: %s; %s", argc > optind ?
		    "no KEY with it" : "-c, -b, -e, -r and --timeout do not apply", USAGE);
	if (!file && argc - optind != 1)
		die(EXIT_USAGE, "%s; %s", argc == optind ? "missing KEY" : "too many arguments",
		    USAGE);

	if (verify_init(&v, &e) < 0)
		die_err(&e);
	kind = kind_of(file ? file : argv[optind]);
	if (archive >= 0) {
		arc_init(&arch, archive);
		v.sink = arc_feed;	/* every byte out of the compression, to arc */
		v.sink_ctx = &arch;
	}
	if (kind == KIND_ZST && vz_start(&z, &e) < 0)
		die_err(&e);
	if (file)
		from_file(file, name, sizeof name);
	else
		from_s3(&flags, argv[optind], name, sizeof name);
	/* zstd's verdict comes at its end, even when it stopped reading early */
	if ((!damaged || kind == KIND_ZST) && feed_end() != 0)
		damaged = 1;
	if (!damaged && archive >= 0 && arc_end(&arch) != 0) {
		damaged = 1;
		snprintf(v.why, sizeof v.why, "%s", arch.why);
	}
	if (kind == KIND_ZST)
		vz_free(&z);
	verify_free(&v);
	if (damaged)
		die(EXIT_NO, "%s: %s", name, v.why);
	if (log_verbose)
		printf("%s: ok, %llu bytes compressed, %llu bytes of %s\n", name,
		    (unsigned long long)v.in, (unsigned long long)v.out,
		    archive == ARC_CUSTOM ? "custom archive" : archive == ARC_TAR ? "tar" : "SQL");
	return log_stdout_done(EXIT_OK);
}
