/*
 * notify: what pgbak-run tells the world after each run, in this order:
 *   metrics_file  Prometheus text, replaced atomically (node_exporter's
 *                 textfile collector reads it): metrics.c;
 *   on_success / on_failure  one command, argv from the settings, no shell,
 *                 PGBAK_* variables describing the run, no secret: hooks.c;
 *   ping_url      a healthchecks-style GET, with /fail after a failure:
 *                 lib/ping, called from here.
 * None of them changes the exit status: the backups are what pgbak-run
 * reports on, and a mail relay or a monitoring service being down must not
 * make a good backup look failed (and be run again with --force).  Each
 * failure is one warning line, which never shows the ping_url.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>

#include "conf.h"
#include "log.h"
#include "ping.h"
#include "run.h"

#define PING_TIMEOUT 10		/* seconds per try */

static void
summarize(const struct run_result *res, size_t n, const struct timespec *t0,
    struct summary *s)
{
	struct timespec t1;
	size_t i;

	memset(s, 0, sizeof *s);
	s->n = n;
	for (i = 0; i < n; i++) {
		if (res[i].state == RUN_OK) {
			s->ok++;
			s->bytes += res[i].gzip_bytes;
		} else if (res[i].state == RUN_SKIPPED) {
			s->skipped++;
		} else {
			s->failed++;	/* not run counts as failed */
		}
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	s->seconds = (double)(t1.tv_sec - t0->tv_sec) + (t1.tv_nsec - t0->tv_nsec) / 1e9;
	s->end = time(NULL);
}

int
notify_check(const struct conf *c, struct log_err *e)
{
	struct log_err pe;

	if (c->ping_url && ping_check(c->ping_url, &pe) < 0)
		return conf_fail_at(c, c->ping_url_at, e, "tasks.postgres.ping_url: %s", pe.msg);
	/* the last check's time is kept there (rcheck.c) */
	if (c->restore_check.every > 0 && c->metrics_file == NULL)
		return log_fail(e, EXIT_USAGE, "%s: restore_check.every needs metrics_file: "
		    "the time of the last restore check is kept in it", c->path);
	return 0;
}

/* GET the ping_url, with /fail after a failure: a URL made here is wiped. */
static void
ping(const struct run_ctx *x, int failed)
{
	char *url = failed ? ping_fail_url(x->c->ping_url) : x->c->ping_url;
	struct log_err e;

	info("pinging the ping_url%s", failed ? " with /fail" : "");
	if (url == NULL)
		warn("unable to ping the ping_url: out of memory");
	else if (ping_get(url, PING_TIMEOUT, x->cancel_fd, &e) < 0)
		warn("unable to ping the ping_url at %s", e.msg);
	if (failed && url) {
		OPENSSL_cleanse(url, strlen(url));
		free(url);
	}
}

void
notify_run(const struct run_ctx *x, const struct run_result *res, size_t n,
    const struct timespec *t0)
{
	const struct conf *c = x->c;
	struct summary s;
	struct log_err e;
	int rc;

	summarize(res, n, t0, &s);
	if (c->metrics_file) {
		if ((rc = metrics_write(x, res, &s, &e)) != 0)
			warn("%s", e.msg);
		if (rc >= 0)
			info("%s: metrics written", c->metrics_file);
	}
	hooks_run(x, res, &s);
	if (c->ping_url)
		ping(x, s.failed > 0);
}

/* --dry-run: what would follow the run, the ping_url as ***. */
void
notify_dry_run(const struct run_ctx *x, FILE *f)
{
	const struct conf *c = x->c;
	int hooks = (c->on_success && c->on_success[0]) || (c->on_failure && c->on_failure[0]);

	if (!hooks && !c->ping_url && !c->metrics_file)
		return;
	fputs("after the run:\n", f);
	metrics_dry_run(x, f);
	hooks_dry_run(x, f);
	if (c->ping_url)
		fputs("  ping_url: GET *** (***/fail after a failure)\n", f);
}
