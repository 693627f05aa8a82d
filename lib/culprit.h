/*
 * culprit: which stage of a pipeline to blame for its failure, decided by
 * cause, never by timing.
 *
 * The culprit is the first stage, in pipeline order, that failed for its own
 * reason.  A stage's failure is a consequence of another's, never its own,
 * when it was killed by SIGPIPE, or when one of these was done to it while it
 * still could react:
 *   cut       its output was closed on it because its reader went away (it
 *             can now only hit EPIPE or SIGPIPE);
 *   withheld  its commit pipe was closed empty because of a stage before it
 *             (pgbak-put then aborts, "no commit");
 *   stopped   the engine signalled it, on timeout or cancel.
 * "Could still react" is a fact of the moment, not of timing: the stage held
 * the descriptor open (the engine asks the pipe), and the engine had not yet
 * seen it end or close its input.  A stage that ended, or closed its input,
 * before anything was done to it failed for its own reason, whenever the
 * engine got round to reaping it.
 *
 * The engine feeds the events in the order it sees them; culprit_find is a
 * pure function of what they recorded.  Exit status and signal stay apart,
 * as wait(2) keeps them: a stage that exited 141 was not killed by SIGPIPE.
 */
#ifndef PGBAK_CULPRIT_H
#define PGBAK_CULPRIT_H

#include <stddef.h>

struct culprit {
	int gone;	/* seen to end or to close its input: nothing done now excuses it */
	int ended;	/* seen to end */
	int failed;	/* it ended other than by exit 0 (or could not be run) */
	int sigpipe;	/* it was killed by SIGPIPE */
	int cut;	/* its output was cut while it held it open */
	int withheld;	/* its commit was withheld while it waited for it */
	int stopped;	/* the engine signalled it while it ran */
};

/* The stage ended: status its exit status (-1 when it did not exit), sig the
 * signal that killed it (0 when none).  126 and 127 (could not be run) are
 * exit statuses like any other. */
void culprit_end(struct culprit *c, int status, int sig);

/* The stage reading its output went away (EPIPE) and the engine closed the
 * output on it; open: the stage still held its end of the pipe.  Call
 * culprit_left on the reader first. */
void culprit_cut(struct culprit *c, int open);

/* The stage closed its input: EPIPE on the pipe into it. */
void culprit_left(struct culprit *c);

/* Its commit pipe was closed empty; open: the stage still held its end. */
void culprit_withhold(struct culprit *c, int open);

/* The engine signalled the stage (timeout, cancel); unless it had ended,
 * that is why it ended, even if it had closed its input. */
void culprit_stop(struct culprit *c);

/* 1 when the stage failed for its own reason. */
int culprit_own(const struct culprit *c);

/* The stage to blame among c[0..n-1]: the first that failed for its own
 * reason; when none did (what cut the last stage was outside the pipeline),
 * the first that failed and was not stopped; -1 when there is none. */
int culprit_find(const struct culprit *c, size_t n);

#endif
