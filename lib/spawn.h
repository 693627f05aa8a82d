/*
 * spawn: run a pipeline of programs the way a backup needs it.
 *
 * Stages are fork/exec'd with fixed argv arrays (never a shell), an explicit
 * environment each, all in one new process group so that a timeout or a
 * signal can stop every stage at once.  Between two stages the data passes
 * through the caller (splice(2), no copy to user space) so that the bytes
 * are counted and a broken pipe is seen for what it is: a consequence of the
 * stage downstream failing, not a failure of its own.  A stage may receive a
 * commit pipe: "commit\n" is written to it only after every stage before it
 * exited 0 and all their data was delivered, otherwise it is closed empty.
 *
 * Every descriptor spawn opens is close-on-exec; a child gets exactly its
 * stdin, stdout, stderr, its commit descriptor and the one descriptor of
 * the caller's it names in pass_as (pgbak-run's settings for S3 children).
 * Exec failure travels to the parent through a close-on-exec pipe (status
 * 126, or 127 when not found).  The child starts with the default disposition for every signal
 * and an empty signal mask.  The caller must ignore SIGPIPE.
 *
 * A timeout or the cancel descriptor stops the stages: SIGTERM to the group,
 * SIGKILL after the grace, but a stage with a linger_ms (pgbak-put aborting
 * its upload) is given that long before it is killed.  A run cancelled
 * before it began starts nothing.
 *
 * Memory per pipeline is bounded: SPAWN_RING bytes of stderr per stage.
 */
#ifndef PGBAK_SPAWN_H
#define PGBAK_SPAWN_H

#include <stdint.h>
#include <sys/types.h>

#include "log.h"

#define SPAWN_RING 4096		/* bytes of a stage's stderr kept: its last lines */
#define SPAWN_PIPE_SIZE (1 << 20) /* asked for with F_SETPIPE_SZ, best effort */

struct spawn_ring {
	char buf[SPAWN_RING];
	size_t len;		/* bytes held, at most SPAWN_RING */
	size_t head;		/* where the next byte goes */
	uint64_t total;		/* bytes seen in all */
};

struct spawn_stage {
	/* Set by the caller. */
	const char *name;	/* for messages: "pg_dump" */
	char *const *argv;	/* argv[0]: a path, or a name looked up in PATH */
	char *const *envp;	/* NULL: the caller's environment */
	int capture;		/* keep stderr in ring instead of passing it on */
	int commit_fd;		/* > 2: the child's descriptor for the commit pipe; 0: none */
	int pass_as;		/* > 2: the child also gets pass_fd as this number; 0: none */
	int pass_fd;		/* the caller's descriptor for pass_as (it stays the caller's) */
	long linger_ms;		/* from SIGTERM, time it may take to clean up (pgbak-put
				 * aborting its upload) before SIGKILL; 0: the grace */

	/* Results. */
	pid_t pid;		/* 0 when it was never started */
	int status;		/* its exit status (126, 127: could not be run); -1: did not exit */
	int signal;		/* the signal that killed it; 0: none (apart, as wait(2) has them) */
	int exec_errno;		/* why it could not be run, 0 when it ran */
	int broken;		/* its output was cut because the reader went away */
	int committed;		/* "commit" was written to its commit pipe */
	int lingered;		/* still running when the grace was over: given linger_ms */
	uint64_t bytes_out;	/* bytes it wrote to stdout (counted stages only) */
	struct spawn_ring ring;	/* its stderr when capture is set */
};

struct spawn_pipe {
	struct spawn_stage *st;
	size_t n;
	int in_fd;		/* stdin of the first stage; -1: /dev/null */
	int out_fd;		/* stdout of the last stage; -1: /dev/null */
	int count_out;		/* relay the last stage's stdout into out_fd, counted */
	const char *out_name;	/* out_fd's name for messages ("unable to write NAME") */
	int cancel_fd;		/* when readable, stop every stage; -1: none */
	long timeout_ms;	/* from spawn_run's start; 0: none */
	long grace_ms;		/* from SIGTERM to SIGKILL; 0: 5000 */
	/* Called once for each stage that lingers past the grace, with the ms
	 * it still has; NULL: nobody is told. */
	void (*on_linger)(void *ctx, const struct spawn_stage *s, long ms);
	void *linger_ctx;

	/* Results. */
	pid_t pgid;		/* the stages' process group */
	int timed_out;
	int cancelled;
	int failed;		/* the stage to blame (see culprit.h); -1 none */
	struct log_err err;	/* a failure of spawn itself (fork, relay), status 0 if none */
};

/* Run the pipeline to its end: every started stage is reaped and every
 * descriptor spawn opened is closed when it returns.  Returns 0 when every
 * stage exited 0 (and nothing timed out or was cancelled), else -1 with the
 * reason in e (see spawn_reason). */
int spawn_run(struct spawn_pipe *p, struct log_err *e);

/* Find name in PATH (path taken as it is when it holds a '/'); returns a
 * malloc'd path or NULL with errno ENOENT (or EACCES when only
 * non-executable files were found). */
char *spawn_which(const char *name, const char *path);

/* One of pgbak's own programs: next to the running executable first (the
 * build tree, an install), then PATH; malloc'd, or NULL as spawn_which. */
char *spawn_sibling(const char *name);

/* "pg_dump exited 1", "pgbak-gzip killed by signal 9 (Killed)", ... */
void spawn_describe(const struct spawn_stage *s, char *buf, size_t n);

/* The ring as text, oldest first, starting at a line boundary when older
 * bytes were dropped; returns its length (buf is NUL-terminated). */
size_t spawn_tail(const struct spawn_ring *r, char *buf, size_t n);

/* The last non-empty line of the ring, without its newline. */
void spawn_last_line(const struct spawn_ring *r, char *buf, size_t n);

/* pipe2(O_CLOEXEC), with F_SETPIPE_SZ tried for throughput. */
int spawn_pipe2(int fds[2]);

#endif
