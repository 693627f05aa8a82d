/*
 * rcheck: restore_check.every, the restore check that pgbak-run runs after
 * a backup.  When a database's backup was just stored and its last passed
 * check is older than every, pgbak-restore --check restores that very
 * backup (-D today) into a scratch database and compares every table's
 * rows with the dump's (pgbak-restore(1)).  The time of the last check is
 * kept in metrics_file itself, as pgbak_restore_check_timestamp_seconds
 * and pgbak_restore_check_status (metrics.c): one file the operator
 * already watches, replaced atomically, and no second record that could
 * disagree with it.  So every needs metrics_file (notify_check), and a
 * failed check is run again after the next backup, until one passes.
 *
 * A failed check fails the database, "restore check: ..." as a failed
 * verify does: on_failure, the ping's /fail and exit 111 follow from that.
 * pgbak-restore gets pgbak-run's whole environment: it reads the settings
 * file itself and expands its ${NAME}s, then gives each of its own
 * children only what env.c allows.
 */
#define _GNU_SOURCE 1		/* memfd_create */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "name.h"
#include "run.h"
#include "spawn.h"

extern char **environ;

#define RESTORE_PREFIX "pgbak-restore: "
#define OK_PREFIX "ok: "

/* Whether db's check is due: every set, and no passed check within it. */
static int
due(const struct run_ctx *x, const struct conf_db *db)
{
	long every = x->c->restore_check.every;
	time_t when;

	if (every <= 0)
		return 0;
	if (metrics_last_check(x, db, &when) && time(NULL) - when < every) {
		info("%s: restore check not due: the last passed %lds ago, every %lds",
		    db->database, (long)(time(NULL) - when), every);
		return 0;
	}
	return 1;
}

/* The rows of pgbak-restore's "ok: 3 tables, 1,234 rows, ..." line. */
static uint64_t
rows_of(const char *line)
{
	const char *p = strstr(line, ", ");
	uint64_t n = 0;

	if (strncmp(line, OK_PREFIX, strlen(OK_PREFIX)) != 0 || p == NULL)
		return 0;
	for (p += 2; (*p >= '0' && *p <= '9') || *p == ','; p++)
		if (*p != ',')
			n = n * 10 + (uint64_t)(*p - '0');
	return n;
}

/* pgbak-restore's first stdout line, the check's summary, from fd. */
static void
first_line(int fd, char *buf, size_t n)
{
	ssize_t k;

	buf[0] = '\0';
	if (lseek(fd, 0, SEEK_SET) < 0 || (k = read(fd, buf, n - 1)) <= 0)
		return;
	buf[k] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
}

void
rcheck_after(const struct run_ctx *x, struct run_result *r, const char *ymd, long timeout)
{
	struct argv argv ARGV_AUTO = { 0 };
	char line[512], last[sizeof r->reason], why[sizeof r->reason], *restore;
	const char *said;
	struct spawn_stage st;
	struct spawn_pipe p;
	struct log_err e;
	double t0 = now_s();
	int out;

	/* --check counts the rows of a plain dump's SQL: no check for the others */
	if (r->globals || r->state != RUN_OK || conf_format(x->c, r->db) != CONF_PLAIN ||
	    !due(x, r->db))
		return;
	r->checked = -1;
	if ((restore = spawn_sibling("pgbak-restore")) == NULL) {
		set_reason(r, RUN_FAILED, "restore check: pgbak-restore: not found");
		goto done;
	}
	out = memfd_create("pgbak-restore-check", MFD_CLOEXEC);
	if (out < 0 || argv_restore_check(&argv, x, restore, r->db, ymd) < 0) {
		set_reason(r, RUN_FAILED, "restore check: %s", out < 0 ?
		    "unable to make a memfd" : "out of memory");
		if (out >= 0)
			close(out);
		free(restore);
		goto done;
	}
	job_stage(&st, "pgbak-restore", argv.v, environ);
	pipe_init(x, &p, &st, 1, now_s() + (double)timeout);
	p.out_fd = out;
	show_line(r->key, &p, NULL, "");
	if (spawn_run(&p, &e) == 0) {
		first_line(out, line, sizeof line);
		r->checked = 1;
		r->check_rows = rows_of(line);
		info("%s: restore check %s", r->key, line);
	} else {
		fail_pipe(x, r, &p, &e, timeout);
		spawn_last_line(&st.ring, last, sizeof last);
		said = strncmp(last, RESTORE_PREFIX, strlen(RESTORE_PREFIX)) == 0 ?
		    last + strlen(RESTORE_PREFIX) : last;
		if (p.failed == 0 && !p.timed_out && !p.cancelled && *said) {
			set_reason(r, RUN_FAILED, "restore check: %s", said);
		} else {
			snprintf(why, sizeof why, "%s", r->reason);
			set_reason(r, RUN_FAILED, "restore check: %s", why);
		}
	}
	close(out);
	free(restore);
done:
	r->check_seconds = now_s() - t0;
	r->check_end = time(NULL);
}

/* --dry-run: the check's line, when restore_check.every is set. */
void
rcheck_dry_run(const struct run_ctx *x, const struct conf_db *db, FILE *f)
{
	struct argv argv ARGV_AUTO = { 0 };
	char *restore, ymd[9];

	if (x->c->restore_check.every <= 0 || conf_format(x->c, db) != CONF_PLAIN)
		return;
	name_today(ymd);
	if ((restore = spawn_sibling("pgbak-restore")) == NULL)
		restore = strdup("pgbak-restore");
	if (restore && argv_restore_check(&argv, x, restore, db, ymd) == 0) {
		fputs("  when no restore check passed within restore_check.every: ", f);
		argv_show(f, argv.v);
		fputc('\n', f);
	}
	free(restore);
}
