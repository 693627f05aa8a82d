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
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "conf.h"
#include "keep.h"
#include "log.h"
#include "name.h"
#include "run.h"
#include "sig.h"
#include "spawn.h"

static volatile sig_atomic_t got_stop, got_hup, daemon_mode;
static int cancel_pipe[2] = { -1, -1 }, hup_pipe[2] = { -1, -1 };

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

/* A program of ours: next to this executable first (the build tree, an
 * install), then PATH. */
static char *
sibling(const char *name)
{
	char self[PATH_MAX], *slash, *p;
	ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
	size_t len;

	if (n > 0) {
		self[n] = '\0';
		if ((slash = strrchr(self, '/')) != NULL) {
			len = (size_t)(slash - self) + strlen(name) + 2;
			if ((p = malloc(len)) == NULL)
				return NULL;
			snprintf(p, len, "%.*s/%s", (int)(slash - self), self, name);
			if (access(p, X_OK) == 0)
				return p;
			free(p);
		}
	}
	return spawn_which(name, NULL);
}

/* Whether a database of c has a retention policy. */
static int
run_prunes(const struct conf *c)
{
	struct keep_policy p;
	size_t i;

	for (i = 0; i < c->ndbs; i++)
		if (keep_conf(c, &c->dbs[i], &p))
			return 1;
	return 0;
}

static void
tools_free(struct run_tools *t)
{
	free(t->pg_dump), free(t->gzip), free(t->put), free(t->exists), free(t->verify);
	free(t->prune);
	free(t->pg_dumpall), free(t->age);
	memset(t, 0, sizeof *t);
}

/* A program named by a setting (or its default) from PATH, executable; in a
 * dry run a missing one is shown by its name. */
static char *
setting_prog(const char *name, int dry)
{
	char *p = spawn_which(name, NULL);

	if (p != NULL && access(p, X_OK) < 0) {
		free(p);
		p = NULL;
	}
	if (p == NULL && dry)
		p = strdup(name);
	return p;
}

static int
any_globals(const struct conf *c)
{
	size_t i;

	for (i = 0; i < c->ndbs; i++)
		if (c->dbs[i].globals)
			return 1;
	return 0;
}

/* Resolve the programs; in a dry run a missing one is shown by its name.
 * pgbak-verify is needed only when verify is on (--verify or the setting). */
static int
tools_find(struct run_tools *t, const struct conf *c, int dry, int verify, struct log_err *e)
{
	const char *dump = c->pg_dump ? c->pg_dump : "pg_dump";
	const char *dumpall = c->pg_dumpall ? c->pg_dumpall : "pg_dumpall";
	const char *age = c->encrypt.age ? c->encrypt.age : "age";
	const char *names[] = { "pgbak-gzip", "pgbak-put", "pgbak-exists", "pgbak-verify" };
	char **slot[] = { &t->gzip, &t->put, &t->exists, &t->verify };
	int need[] = { 1, c->s3.enable, c->s3.enable, verify || c->verify };
	size_t i;

	memset(t, 0, sizeof *t);
	if ((t->pg_dump = setting_prog(dump, dry)) == NULL) {
		tools_free(t);
		return log_fail(e, EXIT_NOTFOUND, "%s: pg_dump %s not found or not executable",
		    c->path, dump);
	}
	if (any_globals(c) && (t->pg_dumpall = setting_prog(dumpall, dry)) == NULL) {
		tools_free(t);
		return log_fail(e, EXIT_NOTFOUND, "%s: pg_dumpall %s not found or not executable "
		    "(globals: true needs it): install the PostgreSQL client tools or set "
		    "pg_dumpall", c->path, dumpall);
	}
	if (c->encrypt.present && (t->age = setting_prog(age, dry)) == NULL) {
		tools_free(t);
		return log_fail(e, EXIT_NOTFOUND, "%s: age not found or not executable (%s): "
		    "install the age package or set encrypt.age", c->path, age);
	}
	for (i = 0; i < 4; i++) {
		if ((*slot[i] = sibling(names[i])) == NULL && dry)
			*slot[i] = strdup(names[i]);
		if (*slot[i] == NULL && need[i]) {
			tools_free(t);
			return log_fail(e, EXIT_NOTFOUND, "%s not found next to pgbak-run or in PATH",
			    names[i]);
		}
	}
	if (c->s3.enable && run_prunes(c)) {
		if ((t->prune = sibling("pgbak-prune")) == NULL && dry)
			t->prune = strdup("pgbak-prune");
		if (t->prune == NULL) {
			tools_free(t);
			return log_fail(e, EXIT_NOTFOUND, "pgbak-prune not found next to pgbak-run "
			    "or in PATH (a retention policy is set)");
		}
	}
	return 0;
}

/* Recipients go into argv and -n's output: refuse anything that is not a
 * public key, above all an identity (AGE-SECRET-KEY-1...) pasted by mistake,
 * without showing it. */
static int
check_recipients(const struct conf *c, struct log_err *e)
{
	char **r = c->encrypt.age_recipients;
	size_t i;

	for (i = 0; c->encrypt.present && r && r[i]; i++)
		if (strncmp(r[i], "age1", 4) != 0 && strncmp(r[i], "ssh-", 4) != 0)
			return log_fail(e, EXIT_USAGE, "%s: tasks.postgres.encrypt.age_recipients"
			    "[%zu] is not an age public key (age1...) or an SSH public key "
			    "(ssh-...)%s", c->path, i, strncmp(r[i], "AGE-SECRET-KEY-", 15) == 0 ?
			    ": it is a secret identity, remove it from the file" : "");
	return 0;
}

struct named {
	char *key;
	size_t db;
	int globals;
};

/* By key, then in the file's order: of equal keys, the earlier entry's first. */
static int
named_cmp(const void *a, const void *b)
{
	const struct named *x = a, *y = b;
	int r = strcmp(x->key, y->key);

	if (r == 0)
		r = x->db < y->db ? -1 : x->db > y->db ? 1 : x->globals - y->globals;
	return r;
}

/* A key made with the date 20000101, as a message shows it: with YYYYMMDD. */
static void
named_date(char *key)
{
	struct name_parts p;

	if (name_parse(key, &p, NULL) == 0)
		memcpy(key + p.stem, "YYYYMMDD", 8);
}

/* An entry whose names cannot be made: the message of lib/name, at the
 * value it comes from (the prefix when there is one). */
static int
named_fail(const struct conf *c, size_t i, const struct log_err *ne, struct log_err *e)
{
	const struct conf_db *db = &c->dbs[i];

	if (ne->status != EXIT_USAGE) {
		*e = *ne;
		return -1;
	}
	return conf_fail_at(c, db->backup_file_prefix ? db->backup_file_prefix_at :
	    db->database_at, e, "tasks.postgres.dbs[%zu]: %s", i, ne->msg);
}

/* A key local mode could not write: a directory of it over NAME_MAX. */
static int
named_local(const struct conf *c, size_t i, const char *key, struct log_err *e)
{
	struct log_err ne;

	if (c->s3.enable || name_local_ok(key))
		return 0;
	log_fail(&ne, EXIT_USAGE, "the key %.64s... has a directory longer than a file "
	    "name may be (%d bytes), and s3.enable is false", key, NAME_LOCAL_MAX);
	return named_fail(c, i, &ne, e);
}

/*
 * Every key computable, and no two objects of a run under one key: the
 * second would be skipped as "already exists", its database never backed
 * up (or with -f overwrite the first), or a globals object would hold the
 * roles of another cluster.  The keys are those job_name builds, after
 * lib/name's normalisation, so every spelling of one key clashes
 * ("dk//demo/demo" and "dk/demo/" with database demo), globals and .age
 * keys included.
 */
static int
check_names(const struct conf *c, struct log_err *e)
{
	struct named *v = calloc(2 * c->ndbs + 1, sizeof *v), *a, *b;
	const char *what[] = { "dump", "globals" }, *hint;
	struct log_err ne;
	char *local;
	size_t i, n = 0;
	int g, rc = 0;

	if (v == NULL)
		return log_fail(e, EXIT_TEMP, "out of memory");
	for (i = 0; i < c->ndbs && rc == 0; i++)
		for (g = 0; g <= c->dbs[i].globals && rc == 0; g++) {
			if (job_name(c, &c->dbs[i], g, "20000101", &v[n].key, &local, &ne) < 0) {
				rc = named_fail(c, i, &ne, e);
				break;
			}
			free(local);
			v[n].db = i, v[n++].globals = g;
			rc = named_local(c, i, v[n - 1].key, e);
		}
	if (rc == 0)
		qsort(v, n, sizeof *v, named_cmp);
	for (i = 1; i < n && rc == 0; i++) {
		a = &v[i - 1], b = &v[i];	/* a: the earlier entry */
		if (strcmp(a->key, b->key) != 0)
			continue;
		named_date(b->key);
		if (a->globals && b->globals)
			hint = "keep globals: true on one entry per cluster, or give them "
			    "prefixes in different directories";
		else if (a->globals || b->globals)
			hint = "a dump named globals needs another basename (a file-like "
			    "backup_file_prefix)";
		else
			hint = "one would be skipped as already stored, or overwrite the other "
			    "with -f: give each entry its own backup_file_prefix (a directory "
			    "per cluster)";
		rc = conf_fail_at(c, (struct conf_at){ c->dbs[b->db].line, 0 }, e,
		    "tasks.postgres.dbs[%zu]'s %s (database %.64s) would be stored as %s, the key "
		    "of dbs[%zu]'s %s (database %.64s) at %s:%d: %s", b->db, what[b->globals],
		    c->dbs[b->db].database, b->key, a->db, what[a->globals],
		    c->dbs[a->db].database, c->path, c->dbs[a->db].line, hint);
	}
	for (i = 0; i < n; i++)
		free(v[i].key);
	free(v);
	return rc;
}

/* Read and check the settings: every key computable, every program found. */
static int
load(const char *path, struct conf *c, struct run_tools *t, int dry, int verify,
    struct log_err *e)
{
	/* zeroed here, not by tools_find: with enable: false that never runs,
	 * and tools_free must still find nothing to free */
	memset(t, 0, sizeof *t);
	if (conf_load(c, path, e) < 0)
		return -1;
	if (check_recipients(c, e) < 0 || check_names(c, e) < 0 || notify_check(c, e) < 0)
		goto fail;
	if ((verify || c->verify) && c->encrypt.present) {
		/* pgbak-verify would need the identity, which must not be here */
		log_fail(e, EXIT_USAGE, "%s: verify cannot check encrypted backups (the age "
		    "identity is not on this host): turn verify off, or verify after "
		    "age -d where the identity is", path);
		goto fail;
	}
	if (!c->s3.enable && run_prunes(c)) {
		log_fail(e, EXIT_USAGE, "%s: retention prunes backups in S3 only, and s3 enable "
		    "is false", path);
		goto fail;
	}
	if (c->enable && tools_find(t, c, dry, verify, e) < 0)
		goto fail;
	if (c->has_secret && c->others_can_read)
		warn("%s holds a password or secret and others can read it: chmod 600 %s",
		    path, path);
	/* whoever can write it chooses the pg_dump that runs, and as whom */
	if (c->others_can_write)
		warn("%s can be written by others: chmod go-w %s", path, path);
	return 0;
fail:
	conf_free(c);
	return -1;
}

struct pool {
	const struct run_ctx *x;
	struct run_result *res;
	size_t n;		/* jobs in res */
	size_t next;
	pthread_mutex_t mu;
};

static void *
worker(void *arg)
{
	struct pool *pl = arg;
	struct run_result *r;
	size_t i;

	for (;;) {
		pthread_mutex_lock(&pl->mu);
		i = pl->next++;
		pthread_mutex_unlock(&pl->mu);
		if (i >= pl->n || got_stop)
			return NULL;
		r = &pl->res[i];
		job_run(pl->x, r);
		pthread_mutex_lock(&pl->mu);
		report(stdout, r, pl->x->o->json);
		pthread_mutex_unlock(&pl->mu);
	}
}

/* One pass over the databases; EXIT_OK or EXIT_TEMP. */
static int
run_once(const struct run_ctx *x)
{
	const struct conf *c = x->c;
	struct pool pl = { .x = x, .next = 0 };
	pthread_t *th;
	size_t i, n = 0, nth = (size_t)x->o->jobs;
	int rc = EXIT_OK;
	struct timespec t0;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	/* One job per database, and one more for each globals: true. */
	if ((pl.res = calloc(2 * c->ndbs + 1, sizeof *pl.res)) == NULL)
		die(EXIT_TEMP, "out of memory");
	for (i = 0; i < c->ndbs; i++) {
		pl.res[n++].db = &c->dbs[i];
		if (c->dbs[i].globals) {
			pl.res[n].db = &c->dbs[i];
			pl.res[n++].globals = 1;
		}
	}
	pl.n = n;
	pthread_mutex_init(&pl.mu, NULL);
	if (nth > n)
		nth = n;
	if (nth <= 1) {
		worker(&pl);
	} else {
		if ((th = calloc(nth, sizeof *th)) == NULL)
			die(EXIT_TEMP, "out of memory");
		for (i = 0; i < nth; i++)
			if (pthread_create(&th[i], NULL, worker, &pl) != 0)
				die(EXIT_TEMP, "unable to start a thread");
		for (i = 0; i < nth; i++)
			pthread_join(th[i], NULL);
		free(th);
	}
	if (!got_stop)		/* a deliberate stop is no result to report */
		notify_run(x, pl.res, n, &t0);
	for (i = 0; i < n; i++) {
		if (pl.res[i].state == RUN_FAILED)
			rc = EXIT_TEMP;
		free(pl.res[i].key);
		free(pl.res[i].local);
	}
	pthread_mutex_destroy(&pl.mu);
	free(pl.res);
	return rc;
}

static void
dry_run(const struct run_ctx *x)
{
	struct log_err e;
	char ymd[9], *key, *local;
	size_t i;
	int g;

	name_today(ymd);
	for (i = 0; i < x->c->ndbs; i++)
		for (g = 0; g <= x->c->dbs[i].globals; g++) {
			if (job_name(x->c, &x->c->dbs[i], g, ymd, &key, &local, &e) < 0)
				die_err(&e);
			job_dry_run(x, &x->c->dbs[i], g, key, local, stdout);
			free(key);
			free(local);
		}
	notify_dry_run(x, stdout);
}

/* SIGHUP: the new settings replace the old only when they load and check. */
static void
reload(struct run_ctx *x, struct conf *c, struct run_tools *t)
{
	struct run_ctx nx = *x;
	struct conf nc;
	struct run_tools nt;
	struct log_err e;

	got_hup = 0;
	if (load(x->o->settings, &nc, &nt, 0, x->o->verify, &e) < 0) {
		warn("%s; keeping the settings in use", e.msg);
		return;
	}
	/* The children's settings and environments too, before the old go:
	 * until then every child gets the old ones, as the passes do. */
	nx.c = &nc, nx.t = &nt;
	if (job_env(&nx, &e) < 0) {
		warn("%s; keeping the settings in use", e.msg);
		tools_free(&nt);
		conf_free(&nc);
		return;
	}
	job_env_free(x);
	tools_free(t);
	conf_free(c);
	*c = nc;
	*t = nt;
	x->env = nx.env, x->env_bare = nx.env_bare, x->settings_fd = nx.settings_fd;
	warn("%s: settings reloaded", x->o->settings);
}

/* The seed's service mode: run now, then every interval, until a signal. */
static void
daemon_loop(struct run_ctx *x, struct conf *c, struct run_tools *t)
{
	struct pollfd pf[2];
	double next;
	char b[64];
	long wait;

	for (;;) {
		next = now_s() + (double)c->interval;
		if (c->enable)
			run_once(x);
		else
			warn("%s: tasks.postgres.enable is false: nothing to do", x->o->settings);
		while (!got_stop && (wait = (long)((next - now_s()) * 1000)) > 0) {
			if (got_hup)
				reload(x, c, t);
			pf[0].fd = cancel_pipe[0], pf[0].events = POLLIN;
			pf[1].fd = hup_pipe[0], pf[1].events = POLLIN;
			if (poll(pf, 2, wait > INT_MAX ? INT_MAX : (int)wait) > 0 &&
			    pf[1].revents)
				while (read(hup_pipe[0], b, sizeof b) > 0)
					;
		}
		if (got_stop)
			return;
		if (got_hup)
			reload(x, c, t);
	}
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

	if (load(o.settings, &c, &t, o.dry_run, o.verify, &e) < 0)
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
