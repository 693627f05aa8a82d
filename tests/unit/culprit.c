/*
 * Unit test of lib/culprit: the blame over every ordering of the events.
 *
 * A scenario is the events one failure sets off in pg_dump | pgbak-gzip |
 * pgbak-put (or with age before pgbak-put), each with the events that can
 * cause it: it comes after at least one of them, and in any order with the
 * rest.  The engine may see a stage's end (REAP) late, and a relay's EOF or
 * EPIPE before or after either; END is when the stage really ended (its
 * descriptors closed), which the engine sees only through the pipes.  Every
 * ordering the causes allow is fed to the rule, which must name the same
 * stage in all of them.
 */
#include <signal.h>
#include <string.h>

#include "culprit.h"
#include "tap.h"

enum kind { NONE, END, REAP, EOF_, EPIPE_, WITHHOLD, STOP };

struct ev {
	enum kind k;
	int i;			/* the stage (EOF_, EPIPE_: of relay i, stage i's output) */
	int status, sig;	/* REAP */
	int after[3];		/* 1 + the index of a cause; it follows at least one; 0 ends */
};

#define MAXEV 12
struct scenario {
	const char *name;
	int n;			/* stages */
	int want;		/* the culprit */
	struct ev ev[MAXEV];
};

static int
nev(const struct scenario *s)
{
	int k = 0;

	while (k < MAXEV && s->ev[k].k != NONE)
		k++;
	return k;
}

/* Feed the events in order[] to the rule as spawn does; returns the culprit. */
static int
blame(const struct scenario *s, const int *order, int m)
{
	struct culprit why[4];
	int closed[4] = { 0 }, stopping = 0, j;

	memset(why, 0, sizeof why);
	for (j = 0; j < m; j++) {
		const struct ev *e = &s->ev[order[j]];

		switch (e->k) {
		case NONE:
			break;
		case END:
			closed[e->i] = 1;
			break;
		case REAP:
			if (stopping)
				culprit_stop(&why[e->i]);
			culprit_end(&why[e->i], e->status, e->sig);
			break;
		case EOF_:
			break;
		case EPIPE_:
			if (e->i + 1 < s->n)
				culprit_left(&why[e->i + 1]);
			culprit_cut(&why[e->i], !closed[e->i]);
			break;
		case WITHHOLD:
			culprit_withhold(&why[e->i], !closed[e->i]);
			break;
		case STOP:
			stopping = 1;
			break;
		}
	}
	return culprit_find(why, (size_t)s->n);
}

struct walk {
	const struct scenario *s;
	int m, order[MAXEV], placed[MAXEV];
	long orderings, wrong;
};

static int
ready(const struct walk *w, int k)
{
	const int *a = w->s->ev[k].after;
	int j;

	if (a[0] == 0)
		return 1;
	for (j = 0; j < 3 && a[j]; j++)
		if (w->placed[a[j] - 1])
			return 1;
	return 0;
}

/* Every ordering the causes allow, depth first. */
static void
extend(struct walk *w, int depth)
{
	int k;

	if (depth == w->m) {
		w->orderings++;
		if (blame(w->s, w->order, w->m) != w->s->want)
			w->wrong++;
		return;
	}
	for (k = 0; k < w->m; k++) {
		if (w->placed[k] || !ready(w, k))
			continue;
		w->placed[k] = 1;
		w->order[depth] = k;
		extend(w, depth + 1);
		w->placed[k] = 0;
	}
}

/* Stages: D pg_dump, Z pgbak-gzip, P pgbak-put; with age: D Z A P. */
enum { D, Z, P, A4 = 2, P4 = 3 };
#define AFTER(...) { __VA_ARGS__ }

/*
 * pg_dump ends (DS, DG: exit status, signal) with its output in flight:
 * pgbak-put gets no commit and quits, gzip's output is cut and gzip ends (ZS,
 * ZG), then pg_dump's relay finds gzip gone.
 */
#define IN_FLIGHT(DS, DG, ZS, ZG) {					\
		{ END, D, 0, 0, AFTER(0) },			/* 1 */	\
		{ REAP, D, DS, DG, AFTER(1) },			/* 2 */	\
		{ WITHHOLD, P, 0, 0, AFTER(2) },		/* 3 */	\
		{ END, P, 0, 0, AFTER(3) },			/* 4 */	\
		{ REAP, P, 111, 0, AFTER(4) },			/* 5 */	\
		{ EPIPE_, Z, 0, 0, AFTER(4) },			/* 6 */	\
		{ END, Z, 0, 0, AFTER(6) },			/* 7 */	\
		{ REAP, Z, ZS, ZG, AFTER(7) },			/* 8 */	\
		{ EPIPE_, D, 0, 0, AFTER(7) },			/* 9 */	\
	}
/*
 * gzip ends on its own (ZS, ZG) while pg_dump writes: pg_dump's relay finds
 * gzip gone and pg_dump ends of it (DS, DG); pgbak-put gets no commit (for
 * gzip's end or pg_dump's cut, whichever the engine saw first) and quits
 * before gzip's last bytes passed.
 */
#define GZIP_FAILS(ZS, ZG, DS, DG) {					\
		{ END, Z, 0, 0, AFTER(0) },			/* 1 */	\
		{ REAP, Z, ZS, ZG, AFTER(1) },			/* 2 */	\
		{ EPIPE_, D, 0, 0, AFTER(1) },			/* 3 */	\
		{ END, D, 0, 0, AFTER(3) },			/* 4 */	\
		{ REAP, D, DS, DG, AFTER(4) },			/* 5 */	\
		{ WITHHOLD, P, 0, 0, AFTER(2, 3) },		/* 6 */	\
		{ END, P, 0, 0, AFTER(6) },			/* 7 */	\
		{ REAP, P, 111, 0, AFTER(7) },			/* 8 */	\
		{ EPIPE_, Z, 0, 0, AFTER(7) },			/* 9 */	\
	}

static const struct scenario scen[] = {
	{ "pg_dump exits 1 with its output in flight: put aborts, the cut runs back up",
	  3, D, IN_FLIGHT(1, 0, -1, SIGPIPE) },
	{ "pg_dump killed by SIGKILL with its output in flight (gzip exits 1 on EPIPE)",
	  3, D, IN_FLIGHT(-1, SIGKILL, 1, 0) },
	{ "pg_dump exits 141 (an exit status, not SIGPIPE) with its output in flight",
	  3, D, IN_FLIGHT(141, 0, -1, SIGPIPE) },
	{ "pg_dump exits 1 after its last byte passed: gzip ends at EOF, put aborts",
	  3, D, {
		{ END, D, 0, 0, AFTER(0) },			/* 1 */
		{ REAP, D, 1, 0, AFTER(1) },			/* 2 */
		{ EOF_, D, 0, 0, AFTER(1) },			/* 3 */
		{ END, Z, 0, 0, AFTER(3) },			/* 4 */
		{ REAP, Z, 0, 0, AFTER(4) },			/* 5 */
		{ EOF_, Z, 0, 0, AFTER(4) },			/* 6 */
		{ WITHHOLD, P, 0, 0, AFTER(2) },		/* 7 */
		{ END, P, 0, 0, AFTER(7) },			/* 8 */
		{ REAP, P, 111, 0, AFTER(8) },			/* 9 */
	} },
	{ "pg_dump exits 1 after its last byte passed: put aborts before gzip's last bytes",
	  3, D, {
		{ END, D, 0, 0, AFTER(0) },			/* 1 */
		{ REAP, D, 1, 0, AFTER(1) },			/* 2 */
		{ EOF_, D, 0, 0, AFTER(1) },			/* 3 */
		{ WITHHOLD, P, 0, 0, AFTER(2) },		/* 4 */
		{ END, P, 0, 0, AFTER(4) },			/* 5 */
		{ REAP, P, 111, 0, AFTER(5) },			/* 6 */
		{ EPIPE_, Z, 0, 0, AFTER(5) },			/* 7 */
		{ END, Z, 0, 0, AFTER(7) },			/* 8 */
		{ REAP, Z, -1, SIGPIPE, AFTER(8) },		/* 9 */
	} },
	{ "pgbak-put fails on its own mid-stream: gzip and pg_dump die of the cut",
	  3, P, {
		{ END, P, 0, 0, AFTER(0) },			/* 1 */
		{ REAP, P, 111, 0, AFTER(1) },			/* 2 */
		{ EPIPE_, Z, 0, 0, AFTER(1) },			/* 3 */
		{ WITHHOLD, P, 0, 0, AFTER(3) },		/* 4: gzip's output was cut */
		{ END, Z, 0, 0, AFTER(3) },			/* 5 */
		{ REAP, Z, -1, SIGPIPE, AFTER(5) },		/* 6 */
		{ EPIPE_, D, 0, 0, AFTER(5) },			/* 7 */
		{ END, D, 0, 0, AFTER(7) },			/* 8 */
		{ REAP, D, 1, 0, AFTER(8) },			/* 9: "could not write" */
	} },
	{ "pgbak-put fails on its own after its input ended: the others exit 0",
	  3, P, {
		{ END, D, 0, 0, AFTER(0) },			/* 1 */
		{ REAP, D, 0, 0, AFTER(1) },			/* 2 */
		{ EOF_, D, 0, 0, AFTER(1) },			/* 3 */
		{ END, Z, 0, 0, AFTER(3) },			/* 4 */
		{ REAP, Z, 0, 0, AFTER(4) },			/* 5 */
		{ EOF_, Z, 0, 0, AFTER(4) },			/* 6 */
		{ END, P, 0, 0, AFTER(6) },			/* 7 */
		{ REAP, P, 111, 0, AFTER(7) },			/* 8 */
	} },
	{ "pgbak-gzip fails on its own: pg_dump is cut, put gets no commit",
	  3, Z, GZIP_FAILS(1, 0, -1, SIGPIPE) },
	{ "pgbak-gzip exits 141 on its own: blamed, pg_dump (exit 1 on EPIPE) is not",
	  3, Z, GZIP_FAILS(141, 0, 1, 0) },
	{ "pgbak-gzip not found (127): blamed",
	  3, Z, GZIP_FAILS(127, 0, -1, SIGPIPE) },
	{ "age fails on its own, output in flight: the cut runs back up, put aborts",
	  4, A4, {
		{ END, A4, 0, 0, AFTER(0) },			/* 1 */
		{ REAP, A4, 1, 0, AFTER(1) },			/* 2 */
		{ EPIPE_, Z, 0, 0, AFTER(1) },			/* 3 */
		{ END, Z, 0, 0, AFTER(3) },			/* 4 */
		{ REAP, Z, -1, SIGPIPE, AFTER(4) },		/* 5 */
		{ EPIPE_, D, 0, 0, AFTER(4) },			/* 6 */
		{ END, D, 0, 0, AFTER(6) },			/* 7 */
		{ REAP, D, 1, 0, AFTER(7) },			/* 8 */
		{ WITHHOLD, P4, 0, 0, AFTER(2, 3, 6) },		/* 9 */
		{ END, P4, 0, 0, AFTER(9) },			/* 10 */
		{ REAP, P4, 111, 0, AFTER(10) },		/* 11 */
		{ EPIPE_, A4, 0, 0, AFTER(10) },		/* 12 */
	} },
	{ "a timeout: every stage stopped, none to blame",
	  3, -1, {
		{ STOP, 0, 0, 0, AFTER(0) },			/* 1 */
		{ END, D, 0, 0, AFTER(1) },			/* 2 */
		{ REAP, D, -1, SIGTERM, AFTER(2) },		/* 3 */
		{ END, Z, 0, 0, AFTER(1) },			/* 4 */
		{ REAP, Z, -1, SIGTERM, AFTER(4) },		/* 5 */
		{ END, P, 0, 0, AFTER(1) },			/* 6 */
		{ REAP, P, 111, 0, AFTER(6) },			/* 7: aborted, interrupted */
		{ EPIPE_, D, 0, 0, AFTER(4) },			/* 8 */
	} },
};

/* Heap's algorithm over all m! orders, no cause enforced. */
static void
permute(const struct scenario *s, int *a, int m, int k, long *total, long *premise,
    long *wrong)
{
	int i, t, end = -1, cut = -1;

	if (k == 1) {
		(*total)++;
		for (i = 0; i < m; i++) {
			if (s->ev[a[i]].k == END && s->ev[a[i]].i == D)
				end = i;
			if (s->ev[a[i]].k == EPIPE_ && s->ev[a[i]].i == D)
				cut = i;
		}
		if (end > cut)
			return;
		(*premise)++;
		if (blame(s, a, m) != D)
			(*wrong)++;
		return;
	}
	for (i = 0; i < k; i++) {
		permute(s, a, m, k - 1, total, premise, wrong);
		t = k % 2 ? 0 : i;
		int x = a[t];
		a[t] = a[k - 1], a[k - 1] = x;
	}
}

/* One stage's facts, in the order given: "c" cut while open, "x" cut after
 * closing, "w" withheld while open, "l" left, "s" stopped; then its end. */
static int
own(const char *facts, int status, int sig)
{
	struct culprit c;

	memset(&c, 0, sizeof c);
	for (; *facts; facts++)
		switch (*facts) {
		case 'c': culprit_cut(&c, 1); break;
		case 'x': culprit_cut(&c, 0); break;
		case 'w': culprit_withhold(&c, 1); break;
		case 'l': culprit_left(&c); break;
		case 's': culprit_stop(&c); break;
		}
	culprit_end(&c, status, sig);
	return culprit_own(&c);
}

int
main(void)
{
	size_t i;
	int a[MAXEV], m, k;
	long total = 0, premise = 0, wrong = 0;
	struct culprit c[2];

	for (i = 0; i < sizeof scen / sizeof scen[0]; i++) {
		struct walk w;

		memset(&w, 0, sizeof w);
		w.s = &scen[i];
		w.m = nev(&scen[i]);
		extend(&w, 0);
		ok(w.orderings > 1 && w.wrong == 0, "%s: stage %d blamed in all %ld orderings "
		    "(%ld not)", scen[i].name, scen[i].want, w.orderings, w.wrong);
	}

	/* Causes aside: in every one of the 9! orders of the first scenario's
	 * events in which pg_dump ended before its output was cut, it is blamed. */
	m = nev(&scen[0]);
	for (k = 0; k < m; k++)
		a[k] = k;
	permute(&scen[0], a, m, m, &total, &premise, &wrong);
	ok(total == 362880 && premise > 0 && wrong == 0, "pg_dump ended before it was cut: "
	    "blamed in all %ld of %ld orders (%ld not)", premise, total, wrong);

	ok(own("", 141, 0), "exit 141 is a failure of its own");
	ok(!own("", -1, SIGPIPE), "killed by SIGPIPE is a consequence");
	ok(!own("", 0, 0), "exit 0 is no failure");
	ok(!own("c", 1, 0), "exit 1 after its output was cut while open: a consequence");
	ok(own("x", 1, 0), "cut after it had closed its output: its own failure");
	ok(!own("w", 111, 0), "exit 111 after its commit was withheld: a consequence");
	ok(own("lw", 111, 0), "withheld after it closed its input: its own failure");
	ok(!own("s", -1, SIGTERM), "stopped by us: a consequence");
	ok(!own("ls", -1, SIGTERM), "stopped after it closed its input: still ours");

	memset(c, 0, sizeof c);
	culprit_stop(&c[0]);
	culprit_end(&c[0], -1, SIGTERM);
	culprit_end(&c[1], 0, 0);
	ok(culprit_find(c, 2) == -1, "stopped by us, the rest exit 0: none to blame");
	memset(c, 0, sizeof c);
	culprit_end(&c[0], 0, 0);
	culprit_cut(&c[1], 1);
	culprit_end(&c[1], -1, SIGPIPE);
	ok(culprit_find(c, 2) == 1, "only a consequence failed (its reader was outside): it");
	return tap_done();
}
