/*
 * pgbak-run: back up every database of a settings file, today, once.
 *
 * For each entry of tasks.postgres.dbs: skip it when today's object is
 * already stored (pgbak-exists), else run pg_dump | pgbak-gzip | pgbak-put
 * and let pgbak-put publish only after pg_dump and pgbak-gzip both exited 0
 * (the commit handshake on its descriptor 3).  A shell pipeline cannot do
 * that: gzip writes a valid trailer after pg_dump dies, and the upload
 * would look complete.  The programs are run from fixed argv arrays; the
 * password reaches pg_dump alone, through PGPASSWORD, and is never shown.
 * An entry with globals: true also gets pg_dumpall --globals-only into an
 * object of its own; encrypt puts age between pgbak-gzip and pgbak-put,
 * under the same commit.
 * With --verify (or verify: true) pgbak-verify reads each stored backup
 * back, and a damaged one fails its database.
 *
 * One database failing never stops the others.  Exit 0 when every database
 * is ok or skipped, 111 when any failed, 100 when the settings are wrong
 * (nothing is run then), 1 when another run holds the settings file (lock.c;
 * nothing is run either), 128+N when stopped by signal N: any signal that
 * would end it (lib/sig.h) first stops the stages, lets pgbak-put abort its
 * upload and removes the temp file.  --daemon repeats the run every
 * interval until SIGTERM/SIGINT, and re-reads the settings on SIGHUP.
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

#include "conf.h"
#include "log.h"
#include "run.h"
#include "sig.h"

volatile sig_atomic_t got_stop, got_hup;
static volatile sig_atomic_t daemon_mode;
int cancel_pipe[2] = { -1, -1 }, hup_pipe[2] = { -1, -1 };

#define USAGE "usage: pgbak-run [-fnv] [-j N] [--json] [--daemon] [--verify] [-c] " \
	"settings.yml [-t postgres]"

static noreturn void
usage(int status)
{
	FILE *f = status ? stderr : stdout;

	if (status)
		die(status, "missing settings file; %s", USAGE);
	fprintf(f,
	    "usage: %s [options] settings.yml\n"
	    "       %s -c settings.yml [-t postgres] [options]\n"
	    "Back up every database of tasks.postgres: pg_dump | pgbak-gzip | pgbak-put,\n"
	    "published only when pg_dump and pgbak-gzip both succeeded.\n"
	    "  -c, --config FILE  the settings file\n"
	    "  -t, --task NAME    the task to run: postgres (the only one)\n"
	    "  -f, --force        back up even when today's object exists\n"
	    "  -n, --dry-run      print the keys and commands, run nothing\n"
	    "  -j, --jobs N       back up N databases at once (default 1)\n"
	    "      --json         one JSON object per database on stdout\n"
	    "      --daemon       run now, then every interval, until SIGTERM\n"
	    "      --verify       read each backup back with pgbak-verify once stored\n"
	    "  -v, --verbose      show the commands run (password as ***)\n"
	    "  -h, --help         this text\n"
	    "  -V, --version      the version\n", log_prog, log_prog);
	log_help_done();
}

static void
on_signal(int sig)
{
	int saved = errno;

	if (sig == SIGHUP && daemon_mode) {
		got_hup = 1;
		(void)!write(hup_pipe[1], "h", 1);
	} else {
		if (!got_stop)
			got_stop = sig;
		(void)!write(cancel_pipe[1], "x", 1);
	}
	errno = saved;
}

static void
signals(void)
{
	if (pipe2(cancel_pipe, O_CLOEXEC | O_NONBLOCK) < 0 ||
	    pipe2(hup_pipe, O_CLOEXEC | O_NONBLOCK) < 0)
		die_sys(EXIT_TEMP, "unable to make a pipe");
	/* not only TERM and INT: any signal that would end us mid-run (USR1,
	 * QUIT, ALRM...) would leave the temp file and the stages behind */
	if (sig_catch(on_signal, SA_RESTART) < 0)
		die_sys(EXIT_TEMP, "unable to catch the signals");
	signal(SIGPIPE, SIG_IGN);	/* a dead stage shows as EPIPE in the relay */
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "task", required_argument, NULL, 't' },
		{ "force", no_argument, NULL, 'f' },
		{ "dry-run", no_argument, NULL, 'n' },
		{ "jobs", required_argument, NULL, 'j' },
		{ "json", no_argument, NULL, 'J' },
		{ "daemon", no_argument, NULL, 'D' },
		{ "verify", no_argument, NULL, 'W' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 }
	};
	struct run_opts o = { .jobs = 1 };
	struct run_tools t;
	struct run_ctx x;
	struct log_err e;
	struct conf c;
	char *end;
	int ch, rc;
	long n;

	log_init(argv[0]);
	opterr = 0;
	while ((ch = getopt_long(argc, argv, ":c:t:fnj:vhV", longopts, NULL)) != -1) {
		switch (ch) {
		case 'c':
			o.settings = optarg;
			break;
		case 't':
			if (strcmp(optarg, "postgres") != 0)
				die(EXIT_USAGE, "unknown task %s: only postgres is known", optarg);
			break;
		case 'f':
			o.force = 1;
			break;
		case 'n':
			o.dry_run = 1;
			break;
		case 'j':
			errno = 0;
			n = strtol(optarg, &end, 10);
			if (errno || *end || n < 1 || n > 256)
				die(EXIT_USAGE, "-j wants a number from 1 to 256, not %s", optarg);
			o.jobs = (int)n;
			break;
		case 'J':
			o.json = 1;
			break;
		case 'D':
			o.daemon = 1;
			break;
		case 'W':
			o.verify = 1;
			break;
		case 'v':
			log_verbose++;
			break;
		case 'h':
			usage(EXIT_OK);
		case 'V':
			log_version();
		default:
			die_badopt(ch, argv, USAGE);
		}
	}
	argc -= optind;
	argv += optind;
	if (argc > 1 || (argc == 1 && o.settings && strcmp(o.settings, argv[0]) != 0))
		die(EXIT_USAGE, "one settings file, please");
	if (argc == 1)
		o.settings = argv[0];
	if (o.settings == NULL)
		usage(EXIT_USAGE);

	if (run_load(o.settings, &c, &t, o.dry_run, o.verify, &e) < 0)
		die_err(&e);
	memset(&x, 0, sizeof x);
	x.o = &o, x.c = &c, x.t = &t;
	if (!c.enable && !o.daemon) {
		warn("%s: tasks.postgres.enable is false: nothing to do", o.settings);
		conf_free(&c);
		return EXIT_OK;
	}
	if (!o.dry_run && lock_settings(o.settings, &e) < 0) {
		conf_free(&c);
		die_err(&e);
	}
	if (job_env(&x, &e) < 0)
		die_err(&e);
	if (o.dry_run) {
		dry_run(&x);
		rc = EXIT_OK;
	} else {
		daemon_mode = o.daemon;
		signals();
		x.cancel_fd = cancel_pipe[0];
		if (o.daemon) {
			daemon_loop(&x, &c, &t);
			/* TERM and INT are how a daemon is asked to stop */
			rc = got_stop == SIGTERM || got_stop == SIGINT ? EXIT_OK :
			    EXIT_SIGNAL + got_stop;
		} else {
			rc = run_once(&x);
			if (got_stop)
				rc = EXIT_SIGNAL + got_stop;
		}
	}
	job_env_free(&x);
	tools_free(&t);
	conf_free(&c);
	return log_stdout_done(rc);
}
