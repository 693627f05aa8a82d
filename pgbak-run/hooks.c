/*
 * hooks: on_success or on_failure after each run (notify.c calls it): one
 * command, argv from the settings, no shell, PGBAK_* variables describing
 * the run, no secret in its environment.  It runs to its end or its
 * timeout, and its failure is one warning line: the exit status stays the
 * backups' (see notify.c).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf.h"
#include "log.h"
#include "run.h"
#include "spawn.h"

#define HOOK_TIMEOUT 60		/* seconds; PGBAK_HOOK_TIMEOUT overrides */

static const char *const hook_vars[] = {
	"PGBAK_STATUS", "PGBAK_EXIT", "PGBAK_DATABASES", "PGBAK_OK", "PGBAK_SKIPPED",
	"PGBAK_FAILED", "PGBAK_FAILED_DATABASES", "PGBAK_FAILED_KEYS", "PGBAK_BYTES",
	"PGBAK_DURATION", "PGBAK_SETTINGS",
};
#define NVARS (sizeof hook_vars / sizeof hook_vars[0])

/* Names separated by spaces: the failed databases' names, or keys. */
static char *
failed_list(const struct run_result *res, size_t n, int keys)
{
	char *buf = NULL;
	size_t len = 0, i, k = 0;
	FILE *f = open_memstream(&buf, &len);

	if (f == NULL)
		return NULL;
	for (i = 0; i < n; i++) {
		if (res[i].state == RUN_OK || res[i].state == RUN_SKIPPED)
			continue;
		if (k++)
			fputc(' ', f);
		fputs(keys ? (res[i].key ? res[i].key : "") : res[i].db->database, f);
	}
	if (fclose(f) != 0) {
		free(buf);
		return NULL;
	}
	return buf;
}

/*
 * The hook's environment: pgbak-gzip's (no PGPASSWORD, no S3 secret), again
 * without any variable whose value is a password, the S3 secret or the
 * ping_url (what a ${NAME} in the settings named), and without inherited
 * PGBAK_* variables of the names set here; then those.  vals[] holds the
 * strings to free.
 */
static char **
hook_env(const struct run_ctx *x, const struct run_result *res, const struct summary *s,
    char *vals[NVARS])
{
	char *list[2], num[NVARS][32], **v, *abs_settings;
	const char *val[NVARS];
	size_t n = 0, k = 0, i, j;
	int drop;

	for (i = 0; x->env_bare[i]; i++)
		n++;
	if ((v = calloc(n + NVARS + 1, sizeof *v)) == NULL)
		return NULL;
	for (i = 0; x->env_bare[i]; i++) {
		/* env_bare already holds no secret (env.c); only the
		 * variables this hook is given anew are dropped. */
		drop = strchr(x->env_bare[i], '=') == NULL;
		for (j = 0; j < NVARS && !drop; j++)
			drop = env_name_is(x->env_bare[i], hook_vars[j]);
		if (!drop)
			v[k++] = x->env_bare[i];
	}
	list[0] = failed_list(res, s->n, 0);
	list[1] = failed_list(res, s->n, 1);
	snprintf(num[0], sizeof num[0], "%d", s->failed ? EXIT_TEMP : EXIT_OK);
	snprintf(num[1], sizeof num[1], "%zu", s->n);
	snprintf(num[2], sizeof num[2], "%zu", s->ok);
	snprintf(num[3], sizeof num[3], "%zu", s->skipped);
	snprintf(num[4], sizeof num[4], "%zu", s->failed);
	snprintf(num[5], sizeof num[5], "%llu", (unsigned long long)s->bytes);
	snprintf(num[6], sizeof num[6], "%.0f", s->seconds);
	val[0] = s->failed ? "failed" : "ok";
	val[1] = num[0], val[2] = num[1], val[3] = num[2], val[4] = num[3], val[5] = num[4];
	val[6] = list[0] ? list[0] : "", val[7] = list[1] ? list[1] : "";
	val[8] = num[5], val[9] = num[6];
	val[10] = (abs_settings = realpath(x->o->settings, NULL)) ? abs_settings : x->o->settings;
	for (j = 0; j < NVARS; j++) {
		n = strlen(hook_vars[j]) + strlen(val[j]) + 2;
		if ((vals[j] = malloc(n)) != NULL) {
			snprintf(vals[j], n, "%s=%s", hook_vars[j], val[j]);
			v[k++] = vals[j];
		}
	}
	free(list[0]);
	free(list[1]);
	free(abs_settings);
	return v;
}

static long
hook_timeout(void)
{
	const char *s = getenv("PGBAK_HOOK_TIMEOUT");
	long t;

	if (s == NULL || *s == '\0')
		return HOOK_TIMEOUT;
	if (conf_duration(s, &t) < 0) {
		warn("PGBAK_HOOK_TIMEOUT=%s is not a duration: using %ds", s, HOOK_TIMEOUT);
		return HOOK_TIMEOUT;
	}
	return t;
}

/* Run the hook to its end (or its timeout), its output on our stderr so
 * that it never mixes with the summary or --json on stdout. */
static void
hook(const struct run_ctx *x, const char *which, char **argv, const struct run_result *res,
    const struct summary *s)
{
	char *vals[NVARS] = { NULL }, name[512], why[700], limit[32];
	struct spawn_stage st;
	struct spawn_pipe p;
	struct log_err e;
	long timeout = hook_timeout();
	char **env = hook_env(x, res, s, vals);
	char *shown = NULL;
	size_t len = 0, i;
	FILE *f;

	snprintf(name, sizeof name, "%s %s", which, argv[0]);
	if (env == NULL) {
		warn("%s: not run: out of memory", name);
		return;
	}
	if (log_verbose && (f = open_memstream(&shown, &len)) != NULL) {
		argv_show(f, argv);
		fclose(f);
		info("running %s: %s", which, shown);
		free(shown);
	}
	memset(&st, 0, sizeof st);
	st.name = name;
	st.argv = argv;
	st.envp = env;
	memset(&p, 0, sizeof p);
	p.st = &st;
	p.n = 1;
	p.in_fd = -1;
	p.out_fd = STDERR_FILENO;
	p.cancel_fd = x->cancel_fd;
	p.timeout_ms = timeout * 1000;
	if (spawn_run(&p, &e) < 0) {
		if (p.timed_out) {
			report_duration(timeout, limit, sizeof limit);
			warn("%s timed out after %s and was stopped", name, limit);
		} else if (p.cancelled) {
			warn("%s stopped by a signal", name);
		} else if (p.failed >= 0) {
			spawn_describe(&st, why, sizeof why);
			warn("%s", why);
		} else {
			warn("%s: %s", name, e.msg);
		}
	}
	for (i = 0; i < NVARS; i++)
		free(vals[i]);
	free(env);
}

/* on_failure when a database failed, else on_success, when set. */
void
hooks_run(const struct run_ctx *x, const struct run_result *res, const struct summary *s)
{
	char **argv = s->failed ? x->c->on_failure : x->c->on_success;

	if (argv && argv[0])
		hook(x, s->failed ? "on_failure" : "on_success", argv, res, s);
}

/* --dry-run: the hooks' lines of "after the run:". */
void
hooks_dry_run(const struct run_ctx *x, FILE *f)
{
	const struct conf *c = x->c;

	if (c->on_success && c->on_success[0]) {
		fputs("  on_success: ", f);
		argv_show(f, c->on_success);
		fputc('\n', f);
	}
	if (c->on_failure && c->on_failure[0]) {
		fputs("  on_failure: ", f);
		argv_show(f, c->on_failure);
		fputc('\n', f);
	}
}
