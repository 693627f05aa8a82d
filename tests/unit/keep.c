/*
 * Unit tests of lib/keep: the retention policy.  Every expected answer is
 * worked out by hand from a calendar in the comment next to it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "keep.h"
#include "tap.h"

static struct keep_policy
pol(int days, int daily, int weekly, int monthly)
{
	struct keep_policy p = { days, daily, weekly, monthly };

	return p;
}

/* The dates kept, in the order given, "D:why,why D:why" ("" none); "ERR" on failure. */
static const char *
kept(const char *const *d, size_t n, const char *today, struct keep_policy p)
{
	static char out[4096];
	unsigned why[64];
	char words[128];
	struct log_err e;
	size_t i, o = 0;

	if (keep_plan(d, n, today, &p, why, &e) < 0)
		return "ERR";
	out[0] = '\0';
	for (i = 0; i < n; i++) {
		if (why[i] == 0)
			continue;
		keep_words(why[i], words, sizeof words);
		o += (size_t)snprintf(out + o, sizeof out - o, "%s%s:%s", o ? " " : "", d[i],
		    words);
	}
	return out;
}

/* Only the dates kept, "D D D". */
static const char *
kept_dates(const char *const *d, size_t n, const char *today, struct keep_policy p)
{
	static char out[4096];
	unsigned why[64];
	struct log_err e;
	size_t i, o = 0;

	if (keep_plan(d, n, today, &p, why, &e) < 0)
		return "ERR";
	out[0] = '\0';
	for (i = 0; i < n; i++)
		if (why[i])
			o += (size_t)snprintf(out + o, sizeof out - o, "%s%s", o ? " " : "", d[i]);
	return out;
}

#define N(a) (sizeof(a) / sizeof((a)[0]))

/* Days from..to (YYYYMMDD, to inclusive, same or next year) into v: at most 64. */
static size_t
span(char v[][9], const char *const *from_to)
{
	static const int mdays[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	int y, m, d, ty, tm, td;
	size_t n = 0;

	sscanf(from_to[0], "%4d%2d%2d", &y, &m, &d);
	sscanf(from_to[1], "%4d%2d%2d", &ty, &tm, &td);
	for (; n < 64; n++) {
		snprintf(v[n], 9, "%04d%02d%02d", y, m, d);
		if (y == ty && m == tm && d == td)
			return n + 1;
		if (++d > mdays[m - 1] + (m == 2 && y % 4 == 0 && (y % 100 || y % 400 == 0))) {
			d = 1;
			if (++m > 12)
				m = 1, y++;
		}
	}
	return n;
}

int
main(void)
{
	struct log_err e;
	struct keep_policy p;
	unsigned why[8];
	char words[64], v[64][9];
	const char *ptr[64];
	size_t i, n;

	/* ISO weeks across a new year: Mon 2024-12-30 .. Sun 2025-01-05 is 2025-W01,
	 * Sun 2024-12-29 ends 2024-W52, Mon 2025-01-06 starts W02. */
	{
		const char *d[] = { "20241229", "20241230", "20250101", "20250105", "20250106" };

		is_str(kept_dates(d, N(d), "20250106", pol(0, 0, 10, 0)),
		    "20241229 20250105 20250106",
		    "weekly: Jan 1 2025 falls in the week of Mon Dec 30 (2025-W01)");
		is_str(kept_dates(d, N(d), "20250106", pol(0, 0, 2, 0)), "20250105 20250106",
		    "weekly 2: the two most recent weeks");
	}
	/* Jan 1 2021 (a Friday) is in 2020-W53: Mon 2020-12-28 .. Sun 2021-01-03. */
	{
		const char *d[] = { "20201227", "20201228", "20210101", "20210103", "20210104" };

		is_str(kept_dates(d, N(d), "20210104", pol(0, 0, 10, 0)),
		    "20201227 20210103 20210104", "weekly: 2020-W53 holds Jan 1-3 2021");
	}
	/* Before 1970 (negative day numbers): Mon 1969-12-29 .. Sun 1970-01-04 is one week. */
	{
		const char *d[] = { "19691228", "19691229", "19700104", "19700105" };

		is_str(kept_dates(d, N(d), "19700105", pol(0, 0, 10, 0)),
		    "19691228 19700104 19700105", "weekly: a week across 1970-01-01 (Thursday)");
	}
	/* Months: the newest of each; a leap day counts. */
	{
		const char *d[] = { "20240131", "20240201", "20240229", "20240301" };

		is_str(kept_dates(d, N(d), "20240301", pol(0, 0, 0, 2)), "20240229 20240301",
		    "monthly 2: Mar, and Feb's newest (a leap day)");
		is_str(kept_dates(d, N(d), "20240301", pol(0, 0, 0, 3)),
		    "20240131 20240229 20240301", "monthly 3: Jan too");
		is_str(kept_dates(d, N(d), "20240301", pol(0, 0, 0, 100000)),
		    "20240131 20240229 20240301", "monthly 100000: no more months than exist");
	}
	/* Months across a year: Dec 2024 and Jan 2025 are different months,
	 * Jan 2024 and Jan 2025 too. */
	{
		const char *d[] = { "20240115", "20241201", "20241231", "20250101" };

		is_str(kept_dates(d, N(d), "20250101", pol(0, 0, 0, 3)),
		    "20240115 20241231 20250101", "monthly: years are told apart");
	}
	/* Gaps: daily counts days that have backups, not calendar days. */
	{
		const char *d[] = { "20250101", "20250105", "20250110", "20250111" };

		is_str(kept_dates(d, N(d), "20250120", pol(0, 3, 0, 0)),
		    "20250105 20250110 20250111", "daily 3 over gaps: the 3 latest backup days");
		is_str(kept_dates(d, N(d), "20250120", pol(5, 0, 0, 0)), "20250111",
		    "days 5 (Jan 16-20) holds none: the newest alone stays");
		is_str(kept(d, N(d), "20250120", pol(5, 0, 0, 0)), "20250111:newest",
		    "...kept as the newest");
	}
	/* Same-day duplicates (a .gz and a .gz.age of one day): the later one is newer. */
	{
		const char *d[] = { "20250102", "20250101", "20250102", "20250101" };

		is_str(kept(d, N(d), "20250102", pol(0, 2, 0, 0)),
		    "20250102:newest, daily 20250101:daily",
		    "daily: one per day, the later of equal dates");
		keep_plan(d, N(d), "20250102", &(struct keep_policy){ 0, 2, 0, 0 }, why, &e);
		ok(why[0] == 0 && why[1] == 0 && why[2] != 0 && why[3] != 0,
		    "...the earlier duplicates go (indexes 0 and 1)");
		is_str(kept_dates(d, N(d), "20250102", pol(2, 0, 0, 0)),
		    "20250102 20250101 20250102 20250101", "days keeps every duplicate");
	}
	/* keep_days: today is day 1. */
	{
		const char *d[] = { "20250107", "20250108", "20250109", "20250110" };

		is_str(kept_dates(d, N(d), "20250110", pol(3, 0, 0, 0)),
		    "20250108 20250109 20250110", "days 3 on Jan 10: Jan 8, 9, 10");
		is_str(kept_dates(d, N(d), "20250110", pol(1, 0, 0, 0)), "20250110",
		    "days 1: today alone");
		is_str(kept_dates(d, N(d), "20250301", pol(60, 0, 0, 0)),
		    "20250107 20250108 20250109 20250110", "days 60 from Mar 1: all");
		is_str(kept_dates(d, N(d), "20250309", pol(59, 0, 0, 0)), "20250110",
		    "days 59 from Mar 9 reaches back to Jan 10 only");
	}
	/* A backup dated after today is kept and pushes nothing out. */
	{
		const char *d[] = { "20250108", "20250109", "20250111" };

		is_str(kept(d, N(d), "20250110", pol(0, 1, 0, 0)),
		    "20250109:newest, daily 20250111:future", "future: kept, not counted");
	}
	/* The 40 days of tests/0701-prune.t: Dec 15 2024 .. Jan 23 2025, today
	 * Thu Jan 23, daily 7, weekly 4, monthly 3:
	 *   daily   Jan 17-23
	 *   weekly  W04 (Jan 20-26): 23; W03 (13-19): 19; W02 (6-12): 12;
	 *           W01 (Dec 30-Jan 5): Jan 5
	 *   monthly Jan: 23; Dec: 31; no November backups
	 * kept: Dec 31, Jan 5, 12, 17-23; the 30 others go. */
	{
		const char *ft[] = { "20241215", "20250123" };

		n = span(v, ft);
		for (i = 0; i < n; i++)
			ptr[i] = v[i];
		is_long((long)n, 40, "40 days");
		is_str(kept_dates(ptr, n, "20250123", pol(0, 7, 4, 3)),
		    "20241231 20250105 20250112 20250117 20250118 20250119 20250120 20250121 "
		    "20250122 20250123", "the 0701 scenario keeps the 10 by hand");
		is_str(kept(ptr + n - 1, 1, "20250123", pol(0, 7, 4, 3)),
		    "20250123:newest, daily, weekly, monthly", "...today's for every reason");
		is_str(kept_dates(ptr, n, "20250123", pol(10, 0, 0, 0)),
		    "20250114 20250115 20250116 20250117 20250118 20250119 20250120 20250121 "
		    "20250122 20250123", "days 10 keeps Jan 14-23");
		is_str(kept_dates(ptr, n, "20250123", pol(10, 0, 0, 2)),
		    "20241231 20250114 20250115 20250116 20250117 20250118 20250119 20250120 "
		    "20250121 20250122 20250123", "days 10 and monthly 2: the union");
	}
	/* Refusals. */
	{
		const char *d[] = { "20250101" }, *bad[] = { "20251301" }, *shortd[] = { "2025010" },
		    *dashed[] = { "2025-01-01" }, *feb[] = { "20250229" };

		ok(keep_plan(d, 1, "20250101", &(struct keep_policy){ 0, 0, 0, 0 }, why, &e) < 0 &&
		    e.status == EXIT_USAGE && strcmp(e.msg, "no retention policy: give keep_days, "
		    "keep_daily, keep_weekly or keep_monthly") == 0, "no rule: refused, exit 100");
		p = pol(0, 100001, 0, 0);
		ok(keep_plan(d, 1, "20250101", &p, why, &e) < 0, "a rule over 100000 refused");
		p = pol(-1, 1, 0, 0);
		ok(keep_plan(d, 1, "20250101", &p, why, &e) < 0, "a negative rule refused");
		is_str(kept_dates(bad, 1, "20250101", pol(1, 0, 0, 0)), "ERR", "month 13 refused");
		is_str(kept_dates(shortd, 1, "20250101", pol(1, 0, 0, 0)), "ERR",
		    "seven digits refused");
		is_str(kept_dates(dashed, 1, "20250101", pol(1, 0, 0, 0)), "ERR",
		    "YYYY-MM-DD refused (keys hold YYYYMMDD)");
		is_str(kept_dates(feb, 1, "20250301", pol(1, 0, 0, 0)), "ERR",
		    "Feb 29 of a common year refused");
		is_str(kept_dates(d, 1, "today", pol(1, 0, 0, 0)), "ERR", "a bad today refused");
		is_str(kept_dates(d, 0, "20250101", pol(1, 0, 0, 0)), "",
		    "no backups: nothing to judge, no error");
	}
	is_str(keep_words(KEEP_NEWEST | KEEP_WEEKLY | KEEP_FUTURE, words, sizeof words),
	    "newest, weekly, future", "words in a fixed order");
	is_str(keep_words(KEEP_DAYS | KEEP_DAILY | KEEP_MONTHLY, words, 12), "days, daily",
	    "words cut to the buffer");
	is_str(keep_words(0, words, sizeof words), "", "no reason: no words");
	return tap_done();
}
