/*
 * pass: running the passes: one over the databases, -j at a time, the dry
 * run's, and --daemon's loop of them with its reloads on SIGHUP.
 */
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "conf.h"
#include "log.h"
#include "name.h"
#include "run.h"

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
		if (r->state == RUN_NOTRUN)	/* not a list that failed (plan_make) */
			job_run(pl->x, r);
		pthread_mutex_lock(&pl->mu);
		report(stdout, r, pl->x->o->json);
		pthread_mutex_unlock(&pl->mu);
	}
}

/* One pass over the databases; EXIT_OK or EXIT_TEMP. */
int
run_once(const struct run_ctx *x)
{
	struct pool pl = { .x = x, .next = 0 };
	struct run_plan plan;
	struct log_err e;
	pthread_t *th;
	size_t i, n = 0, nth = (size_t)x->o->jobs;
	int rc = EXIT_OK;
	struct timespec t0;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	if (plan_make(x, &plan, &e) < 0) {
		warn("%s", e.msg);
		return e.status == EXIT_USAGE ? EXIT_USAGE : EXIT_TEMP;
	}
	/* One job per database, and one more for each globals: true. */
	if ((pl.res = calloc(2 * plan.n + 1, sizeof *pl.res)) == NULL)
		die(EXIT_TEMP, "out of memory");
	for (i = 0; i < plan.n; i++) {
		pl.res[n++].db = &plan.v[i].db;
		if (plan.v[i].reason[0]) {
			set_reason(&pl.res[n - 1], RUN_FAILED, "%s", plan.v[i].reason);
			pl.res[n - 1].config = plan.v[i].config;
			continue;
		}
		if (plan.v[i].db.globals) {
			pl.res[n].db = &plan.v[i].db;
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
		if (pl.res[i].state == RUN_FAILED && rc != EXIT_USAGE)
			rc = pl.res[i].config ? EXIT_USAGE : EXIT_TEMP;
		free(pl.res[i].key);
		free(pl.res[i].local);
	}
	pthread_mutex_destroy(&pl.mu);
	free(pl.res);
	plan_free(&plan);
	return rc;
}

void
dry_run(const struct run_ctx *x)
{
	struct run_plan plan;
	struct log_err e;
	char ymd[9], *key, *local;
	size_t i;
	int g;

	name_today(ymd);
	/* database "*" is listed for real: -n shows what a run would back up */
	if (plan_make(x, &plan, &e) < 0)
		die_err(&e);
	for (i = 0; i < plan.n; i++)
		for (g = 0; g <= plan.v[i].db.globals; g++) {
			if (plan.v[i].reason[0]) {
				printf("%s: %s\n", plan.v[i].db.database, plan.v[i].reason);
				break;
			}
			if (job_name(x->c, &plan.v[i].db, g, ymd, &key, &local, &e) < 0)
				die_err(&e);
			job_dry_run(x, &plan.v[i].db, g, key, local, stdout);
			free(key);
			free(local);
		}
	plan_free(&plan);
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
	if (run_load(x->o->settings, &nc, &nt, 0, x->o->verify, &e) < 0) {
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
void
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
