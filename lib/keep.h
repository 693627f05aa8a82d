/*
 * keep: which backups a retention policy keeps (pgbak-prune(1)), as a pure
 * function of their dates and today, in the manner of restic's and borg's
 * "forget":
 *   keep_days N     every backup dated within the last N days (today is day 1)
 *   keep_daily N    the newest backup of each of the N most recent days that
 *                   have backups
 *   keep_weekly N   the same for ISO weeks (Monday to Sunday)
 *   keep_monthly N  the same for calendar months
 * A backup is kept when any rule keeps it; the newest backup is always
 * kept; a backup dated after today is kept and counts for no rule (its
 * date cannot be right, so it must not push a real backup out).
 */
#ifndef PGBAK_KEEP_H
#define PGBAK_KEEP_H

#include <stddef.h>

#include "conf.h"
#include "log.h"

#define KEEP_MAX 100000		/* the largest N of a rule */

/* A policy; 0: that rule is not used. */
struct keep_policy {
	int days, daily, weekly, monthly;
};

/* Why a backup is kept: a set of these; 0 means it goes. */
enum {
	KEEP_NEWEST = 1 << 0,
	KEEP_DAYS = 1 << 1,
	KEEP_DAILY = 1 << 2,
	KEEP_WEEKLY = 1 << 3,
	KEEP_MONTHLY = 1 << 4,
	KEEP_FUTURE = 1 << 5
};

/* Whether p has any rule (a policy without one would keep only the newest). */
int keep_any(const struct keep_policy *p);

/* Judge n backups by their dates ("YYYYMMDD"); why[i] gets backup i's
 * reasons.  Of backups of the same date, a later one in the array counts
 * as the newer.  -1 (EXIT_USAGE) for a bad date, a rule out of 0..KEEP_MAX,
 * or no rule at all: nothing is judged then. */
int keep_plan(const char *const *dates, size_t n, const char *today,
    const struct keep_policy *p, unsigned *why, struct log_err *e);

/* The policy of a database of the settings: its own retention mapping when
 * it has one (an empty one turns pruning off), else the task's.  Returns
 * keep_any() of it. */
int keep_conf(const struct conf *c, const struct conf_db *db, struct keep_policy *p);

/* why as words: "newest, daily, weekly" (into buf, which is returned). */
const char *keep_words(unsigned why, char *buf, size_t cap);

#endif
