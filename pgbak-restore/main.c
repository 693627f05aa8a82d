/*
 * pgbak-restore: restore one database from its backup, with every stage of
 * the pipeline checked:
 *   pgbak-get KEY | [age -d -i IDENTITY] | gzip -d -c | relay | psql
 * the reverse of pgbak-run.  A hand-typed `gunzip | psql` exits with psql's
 * status alone, and only stops at an error when ON_ERROR_STOP was
 * remembered; here the restore succeeds only when every stage exited 0,
 * and a failure names the stage to blame (lib/culprit) and leaves the
 * target database as it is, for inspection.
 *
 * A custom or directory backup goes through pg_restore -j instead of psql,
 * from a temporary file or directory (archive.c); -t restores one table.
 *
 * --check restores into a scratch database instead and proves that every
 * row of every table in the dump came back (check.c).  The relay stage is
 * this program again (--relay): it counts rows, makes an existing role no
 * error for --globals, and shows progress on a terminal (relay.c).
 */
#define _GNU_SOURCE 1		/* pipe2 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "name.h"
#include "restore.h"
#include "sig.h"

#define USAGE "usage: pgbak-restore -c settings.yml [-D DATE | --latest] [--into NEWDB] " \
	"[--force] [--globals] [-i IDENTITY] [--check [--keep]] [-j JOBS] [-t TABLE]... " \
	"[-nv] DATABASE"

static volatile sig_atomic_t got_stop;
static int cancel_pipe[2] = { -1, -1 };

static noreturn void
usage(void)
{
	printf("%s\n"
	    "Restore DATABASE from its backup: pgbak-get | [age] | gunzip | psql (a custom\n"
	    "or directory backup: fetched to temp_dir, then pg_restore -j), successful\n"
	    "only when every stage is.\n"
	    "  -c, --config FILE     the settings file (the database's entry, the s3 section)\n"
	    "  -D, --date DATE       the backup of DATE (YYYYMMDD or YYYY-MM-DD)\n"
	    "      --latest          the newest backup (the default)\n"
	    "      --into NEWDB      restore into NEWDB, created when missing\n"
	    "      --force           restore into a database that is not empty, or the source\n"
	    "      --globals         restore the globals object (roles) first\n"
	    "  -i, --identity FILE   the age identity of an encrypted backup\n"
	    "      --host HOST, --port PORT, --user USER\n"
	    "                        the server to restore to (default: the entry, PG*)\n"
	    "      --check           restore into a scratch database and compare every\n"
	    "                        table's rows with the dump's, then drop it\n"
	    "      --keep            --check: keep the scratch database\n"
	    "  -j, --jobs JOBS       pg_restore -j for a custom or directory backup\n"
	    "                        (default: the entry's jobs key, else 1)\n"
	    "  -t, --table TABLE     restore this table alone (pg_restore -t; custom\n"
	    "                        or directory backups); may be given again\n"
	    "  -n, --dry-run         print the commands, run nothing\n"
	    "  -v, --verbose         more messages\n"
	    "  -h, --help            this text\n"
	    "  -V, --version         the version\n", USAGE);
	log_help_done();
}

/* -j JOBS: 1 to CONF_JOBS_MAX, as the jobs key */
static int
jobs_arg(const char *s)
{
	char *end;
	long n;

	errno = 0;
	n = strtol(s, &end, 10);
	if (*s < '0' || *s > '9' || *end || errno || n < 1 || n > CONF_JOBS_MAX)
		die(EXIT_USAGE, "-j %s: expected a number of jobs from 1 to %d", s,
		    CONF_JOBS_MAX);
	return (int)n;
}

static void
on_signal(int sig)
{
	int saved = errno;

	if (!got_stop)
		got_stop = sig;
	(void)!write(cancel_pipe[1], "x", 1);
	errno = saved;
}

static void
signals(void)
{
	if (pipe2(cancel_pipe, O_CLOEXEC | O_NONBLOCK) < 0)
		die_sys(EXIT_TEMP, "unable to make a pipe");
	if (sig_catch(on_signal, SA_RESTART) < 0)
		die_sys(EXIT_TEMP, "unable to catch the signals");
	signal(SIGPIPE, SIG_IGN);	/* a dead stage shows as EPIPE in spawn's relay */
}

int
main(int argc, char **argv)
{
	enum { O_LATEST = 0x100, O_INTO, O_FORCE, O_GLOBALS, O_CHECK, O_KEEP, O_HOST, O_PORT,
		O_USER };
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "date", required_argument, NULL, 'D' },
		{ "latest", no_argument, NULL, O_LATEST },
		{ "into", required_argument, NULL, O_INTO },
		{ "force", no_argument, NULL, O_FORCE },
		{ "globals", no_argument, NULL, O_GLOBALS },
		{ "identity", required_argument, NULL, 'i' },
		{ "host", required_argument, NULL, O_HOST },
		{ "port", required_argument, NULL, O_PORT },
		{ "user", required_argument, NULL, O_USER },
		{ "check", no_argument, NULL, O_CHECK },
		{ "keep", no_argument, NULL, O_KEEP },
		{ "jobs", required_argument, NULL, 'j' },
		{ "table", required_argument, NULL, 't' },
		{ "dry-run", no_argument, NULL, 'n' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 }
	};
	struct opts o = { 0 };
	struct conf c;
	struct conn base = { 0 };
	struct ctx x = { 0 };
	struct plan p;
	struct log_err e;
	char port[16];
	int ch, latest = 0, rc;

	log_init(argv[0]);
	if (argc > 1 && strcmp(argv[1], "--relay") == 0)
		return relay_main(argc, argv);
	opterr = 0;
	while ((ch = getopt_long(argc, argv, ":c:D:i:j:t:nvhV", longopts, NULL)) != -1) {
		switch (ch) {
		case 'c': o.settings = optarg; break;
		case 'D': o.date = optarg; break;
		case O_LATEST: latest = 1; break;
		case O_INTO: o.into = optarg; break;
		case O_FORCE: o.force = 1; break;
		case O_GLOBALS: o.globals = 1; break;
		case 'i': o.identity = optarg; break;
		case O_HOST: o.host = optarg; break;
		case O_PORT: o.port = optarg; break;
		case O_USER: o.user = optarg; break;
		case O_CHECK: o.check = 1; break;
		case O_KEEP: o.keep = 1; break;
		case 'j': o.jobs = jobs_arg(optarg); break;
		case 't':
			if (o.ntables == OPT_TABLES_MAX)
				die(EXIT_USAGE, "-t TABLE: at most %d tables", OPT_TABLES_MAX);
			if (*optarg == '\0')
				die(EXIT_USAGE, "-t: empty table name");
			o.tables[o.ntables++] = optarg;
			break;
		case 'n': o.dry_run = 1; break;
		case 'v': log_verbose++; break;
		case 'h': usage();
		case 'V': log_version();
		default: die_badopt(ch, argv, USAGE);
		}
	}
	if (argc - optind != 1)
		die(EXIT_USAGE, "%s; %s", argc == optind ? "missing DATABASE" : "too many arguments",
		    USAGE);
	o.database = argv[optind];
	if (o.settings == NULL)
		die(EXIT_USAGE, "missing -c settings.yml; %s", USAGE);
	if (latest && o.date)
		die(EXIT_USAGE, "-D DATE and --latest exclude each other");
	if (o.check && (o.into || o.globals || o.force))
		die(EXIT_USAGE, "--check restores into its own scratch database: no --into, "
		    "--force or --globals");
	if (o.keep && !o.check)
		die(EXIT_USAGE, "--keep goes with --check");
	if (o.into && *o.into == '\0')
		die(EXIT_USAGE, "--into: empty database name");

	signals();
	if (conf_load(&c, o.settings, &e) < 0)
		die_err(&e);
	if (ctx_open(&x, &o, &c, &e) < 0)
		die_err(&e);
	x.cancel_fd = cancel_pipe[0];
	base.host = x.db->host;
	base.user = x.db->user;
	base.password = x.db->password;
	if (x.db->port > 0) {
		snprintf(port, sizeof port, "%d", x.db->port);
		base.port = port;
	}
	ctx_server(&x, &base, o.check ? &c.restore_check : NULL);
	if (plan_make(&x, &p, &e) < 0)
		die_err(&e);
	if (p.age && ctx_age(&x, &e) < 0)
		die_err(&e);
	if ((p.comp & NAME_ZSTD) && ctx_zstd(&x, &e) < 0)
		die_err(&e);
	if (p.comp & NAME_FORMATS) {
		/* pg_restore's data: --check counts the rows of a plain dump's COPY */
		if (o.check)
			die(EXIT_USAGE, "%s is a %s backup: --check reads the SQL of a plain one; "
			    "restore it with --into a scratch database instead", p.key,
			    p.comp & NAME_DIR ? "directory" : "custom");
		if (ctx_archive(&x, p.comp, &e) < 0)
			die_err(&e);
	} else if (o.ntables || o.jobs) {
		die(EXIT_USAGE, "%s is a plain backup, restored by psql whole: %s needs a "
		    "custom or directory backup (format: custom)", p.key, o.ntables ? "-t TABLE" :
		    "-j JOBS");
	}
	rc = o.check ? check_run(&x, &p) : restore_run(&x, &p);
	plan_free(&p);
	ctx_close(&x);
	conf_free(&c);
	die_by_signal(got_stop);
	return rc;
}
