/*
 * after: what follows a backup stored (or found): pgbak-verify reading it
 * back, the clean-up of stale uploads, pgbak-prune's retention.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "keep.h"
#include "log.h"
#include "run.h"
#include "spawn.h"

/*
 * After a backup is stored: abort the uploads of its name (any day) older
 * than its timeout, which a pgbak-put killed by SIGKILL left behind.  No
 * live run of these settings can own one: it would have been stopped at
 * its timeout.  Housekeeping only, so a failure warns and the backup stays ok.
 */
void
abort_stale(const struct run_ctx *x, struct run_result *r, double deadline, long timeout)
{
	char why[512], last[512];
	struct argv argv ARGV_AUTO = { 0 };
	struct spawn_stage st;
	struct spawn_pipe p;
	struct log_err e;

	if (argv_stale(&argv, x, r->key, timeout) < 0) {
		warn("%s: unable to abort stale uploads: out of memory", r->key);
		return;
	}
	s3_stage(x, &st, "pgbak-put", argv.v);
	pipe_init(x, &p, &st, 1, deadline);
	show_line(r->key, &p, NULL, "");
	if (spawn_run(&p, &e) == 0)
		return;
	if (p.timed_out || p.cancelled || p.failed < 0) {
		warn("%s: unable to abort stale uploads: %s", r->key, e.msg);
		return;
	}
	spawn_describe(&st, why, sizeof why);
	spawn_last_line(&st.ring, last, sizeof last);
	warn("%s: unable to abort stale uploads: %s%s%s", r->key, why, *last ? ": " : "", last);
}

/*
 * Retention: once today's object is stored (or was already there), run
 * pgbak-prune for this database with that key, which it requires to be
 * listed before it deletes anything.  A prune that fails makes the database
 * fail ("prune: ..."), but the stored object stays as it is.
 */
void
prune_after(const struct run_ctx *x, struct run_result *r, const char *ymd, long timeout)
{
	struct argv argv ARGV_AUTO = { 0 };
	struct keep_policy pol;
	struct spawn_stage st;
	struct spawn_pipe p;
	struct log_err e;
	char why[sizeof r->reason];

	if (x->t->prune == NULL || !x->c->s3.enable || !keep_conf(x->c, r->db, &pol))
		return;
	if (argv_prune(&argv, x, &pol, ymd, r->key) < 0) {
		set_reason(r, RUN_FAILED, "prune: out of memory");
		return;
	}
	s3_stage(x, &st, "pgbak-prune", argv.v);
	pipe_init(x, &p, &st, 1, now_s() + (double)timeout);
	show_line(r->key, &p, NULL, "");
	if (spawn_run(&p, &e) == 0) {
		if (log_verbose)
			tell_stderr(r->key, &p, 1);
		return;
	}
	fail_pipe(x, r, &p, &e, timeout);
	memcpy(why, r->reason, sizeof why);
	set_reason(r, RUN_FAILED, "prune: %s", why);
}

/* What pgbak-verify said, without its name and the object's: from
 * "pgbak-verify: s3://BUCKET/KEY: truncated: ..." just "truncated: ...". */
static const char *
verify_said(const char *line, const char *name)
{
	const char *p = line, *k;
	size_t n = strlen(name);

	if (strncmp(p, "pgbak-verify: ", 14) == 0)
		p += 14;
	if (strncmp(p, "s3://", 5) == 0 && (k = strchr(p + 5, '/')) != NULL)
		k++;
	else
		k = p;
	if (strncmp(k, name, n) == 0 && strncmp(k + n, ": ", 2) == 0)
		return k + n + 2;
	return p;
}

/* pgbak-verify the backup just stored: the object, or in local mode the
 * file.  It has a time limit of its own, as long as the database's.  A
 * damaged or unreadable backup fails the database ("verify: ...") and is
 * left where it is, for the operator to look at. */
void
verify_stored(const struct run_ctx *x, struct run_result *r, long timeout)
{
	char *file = x->c->s3.enable ? NULL : local_path(x, r->key);
	struct argv argv ARGV_AUTO = { 0 };
	char last[sizeof r->reason], why[sizeof r->reason];
	struct spawn_stage st;
	struct spawn_pipe p;
	struct log_err e;

	if ((!x->c->s3.enable && file == NULL) || argv_verify(&argv, x, r->key, file) < 0) {
		set_reason(r, RUN_FAILED, "verify: out of memory");
		free(file);
		return;
	}
	if (file)
		job_stage(&st, "pgbak-verify", argv.v, x->env_bare);
	else
		s3_stage(x, &st, "pgbak-verify", argv.v);
	pipe_init(x, &p, &st, 1, now_s() + (double)timeout);
	show_line(r->key, &p, NULL, "");
	if (spawn_run(&p, &e) == 0) {
		r->verified = 1;
	} else {
		fail_pipe(x, r, &p, &e, timeout);
		spawn_last_line(&st.ring, last, sizeof last);
		if (p.failed == 0 && !p.timed_out && !p.cancelled && *last &&
		    (st.status == EXIT_NO || st.status == EXIT_TEMP)) {
			set_reason(r, RUN_FAILED, "verify: %s",
			    verify_said(last, file ? file : r->key));
		} else {
			snprintf(why, sizeof why, "%s", r->reason);
			set_reason(r, RUN_FAILED, "verify: %s", why);
		}
	}
	free(file);
}
