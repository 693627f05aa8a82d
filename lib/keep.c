/*
 * keep: the retention policy as a pure function (see keep.h).
 *
 * Every date becomes a day number (days since 1970-01-01, proleptic
 * Gregorian), so that "within N days", ISO weeks and months are integer
 * arithmetic and no time zone or mktime() is involved.  Each bucket rule
 * walks the backups newest first and keeps the first backup of each new
 * bucket until it has kept N: that is "the newest of each of the N most
 * recent buckets that have backups".
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "keep.h"
#include "name.h"

struct item {
	long day;		/* day number */
	long month;		/* year * 12 + month - 1 */
	size_t i;		/* index in the caller's array */
};

/* Days since 1970-01-01 of a valid y-m-d (Howard Hinnant's days_from_civil). */
static long
day_number(long y, long m, long d)
{
	long era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

/* Floor division, for days before 1970. */
static long
floor_div(long a, long b)
{
	return a / b - (a % b != 0 && (a < 0) != (b < 0));
}

/* The ISO week of a day number, as a number: weeks start on Monday, and
 * 1970-01-01 was a Thursday, so day 4 (1970-01-05) starts week 1. */
static long
week_number(long day)
{
	return floor_div(day + 3, 7);
}

static long
digits(const char *s, size_t n)
{
	long v = 0;

	while (n--)
		v = v * 10 + (*s++ - '0');
	return v;
}

static int
parse(const char *s, struct item *it, struct log_err *e)
{
	char ymd[9];
	long y, m;

	if (s == NULL || strlen(s) != 8 || name_date(s, ymd, e) < 0)
		return log_fail(e, EXIT_USAGE, "invalid backup date \"%.32s\": expected YYYYMMDD",
		    s ? s : "");
	y = digits(ymd, 4);
	m = digits(ymd + 4, 2);
	it->day = day_number(y, m, digits(ymd + 6, 2));
	it->month = y * 12 + m - 1;
	return 0;
}

/* Newest first: later date, then later in the caller's array. */
static int
newest_first(const void *a, const void *b)
{
	const struct item *x = a, *y = b;

	if (x->day != y->day)
		return x->day < y->day ? 1 : -1;
	return x->i < y->i ? 1 : x->i > y->i ? -1 : 0;
}

int
keep_any(const struct keep_policy *p)
{
	return p->days > 0 || p->daily > 0 || p->weekly > 0 || p->monthly > 0;
}

/* Keep the newest of each of the first n buckets met, newest first. */
static void
buckets(const struct item *v, size_t n, int count, int weekly, int monthly,
    unsigned flag, unsigned *why)
{
	long last = 0, b;
	size_t k;
	int kept = 0;

	for (k = 0; k < n && kept < count; k++) {
		b = monthly ? v[k].month : weekly ? week_number(v[k].day) : v[k].day;
		if (kept > 0 && b == last)
			continue;
		why[v[k].i] |= flag;
		last = b;
		kept++;
	}
}

int
keep_plan(const char *const *dates, size_t n, const char *today,
    const struct keep_policy *p, unsigned *why, struct log_err *e)
{
	struct item now, *v;
	size_t i, past;

	if (p->days < 0 || p->daily < 0 || p->weekly < 0 || p->monthly < 0 ||
	    p->days > KEEP_MAX || p->daily > KEEP_MAX || p->weekly > KEEP_MAX ||
	    p->monthly > KEEP_MAX)
		return log_fail(e, EXIT_USAGE, "a retention rule out of range: want 1 to %d",
		    KEEP_MAX);
	if (!keep_any(p))
		return log_fail(e, EXIT_USAGE, "no retention policy: give keep_days, keep_daily, "
		    "keep_weekly or keep_monthly");
	if (parse(today, &now, e) < 0)
		return -1;
	if ((v = calloc(n ? n : 1, sizeof *v)) == NULL)
		return log_fail_sys(e, EXIT_TEMP, "unable to plan the retention");
	for (i = 0; i < n; i++) {
		if (parse(dates[i], &v[i], e) < 0) {
			free(v);
			return -1;
		}
		v[i].i = i;
		why[i] = 0;
	}
	qsort(v, n, sizeof *v, newest_first);
	for (i = 0; i < n && v[i].day > now.day; i++)
		why[v[i].i] |= KEEP_FUTURE;
	past = i;		/* v[past..n) are dated today or before */
	if (past < n)
		why[v[past].i] |= KEEP_NEWEST;
	for (i = past; i < n && p->days > 0; i++)
		if (now.day - v[i].day < p->days)
			why[v[i].i] |= KEEP_DAYS;
	buckets(v + past, n - past, p->daily, 0, 0, KEEP_DAILY, why);
	buckets(v + past, n - past, p->weekly, 1, 0, KEEP_WEEKLY, why);
	buckets(v + past, n - past, p->monthly, 0, 1, KEEP_MONTHLY, why);
	free(v);
	return 0;
}

int
keep_conf(const struct conf *c, const struct conf_db *db, struct keep_policy *p)
{
	const struct conf_retention *r = db->retention.present ? &db->retention : &c->retention;

	p->days = r->keep_days;
	p->daily = r->keep_daily;
	p->weekly = r->keep_weekly;
	p->monthly = r->keep_monthly;
	return keep_any(p);
}

const char *
keep_words(unsigned why, char *buf, size_t cap)
{
	static const struct { unsigned flag; const char *word; } w[] = {
		{ KEEP_NEWEST, "newest" }, { KEEP_DAYS, "days" }, { KEEP_DAILY, "daily" },
		{ KEEP_WEEKLY, "weekly" }, { KEEP_MONTHLY, "monthly" }, { KEEP_FUTURE, "future" }
	};
	size_t i, o = 0;

	if (cap == 0)
		return buf;
	buf[0] = '\0';
	for (i = 0; i < sizeof w / sizeof w[0]; i++) {
		if (!(why & w[i].flag))
			continue;
		o += (size_t)snprintf(buf + o, o < cap ? cap - o : 0, "%s%s", o ? ", " : "",
		    w[i].word);
		if (o >= cap)
			break;
	}
	return buf;
}
