/* spawn: a fork/exec pipeline engine with counted relays (see spawn.h). */
#define _GNU_SOURCE 1		/* splice, pipe2, F_SETPIPE_SZ */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "culprit.h"
#include "spawn.h"

extern char **environ;

#define RELAY_CHUNK (1 << 20)
/*
 * A relay that found only a little data (under a RELAY_BATCH_DIV-th of its
 * pipe) rests RELAY_REST_MS before it looks again, so that a producer's
 * many small writes (pg_dump writes 8 KiB at a time) cost one wake-up per
 * rest, not one each: at 1 GB/s, 2 ms fill 2 MiB.  Only with pipes of at
 * least RELAY_REST_PIPE bytes, so a rest can never stall the producer.
 */
#define RELAY_REST_MS 2
#define RELAY_BATCH_DIV 8
#define RELAY_REST_PIPE (512 * 1024)
#define DEFAULT_GRACE_MS 5000

/* Set once pidfd_open is found missing; pipelines of several threads (pgbak-run
 * -j) read and write it at once, hence atomic. */
static _Atomic int no_pidfd;

/* What a descriptor in step()'s poll set is. */
enum poll_kind { PK_RELAY, PK_STDERR, PK_PIDFD, PK_CANCEL };

/* One hop of data through us: a stage's stdout to the next stage's stdin
 * (or to the caller's out_fd). */
struct relay {
	int src, dst;		/* -1 when closed */
	int want_out;		/* dst was full: wait for POLLOUT */
	int own_dst;		/* dst is ours to close (not the caller's out_fd) */
	int rw;			/* splice refused (EINVAL): read/write instead */
	int eof;		/* src reached EOF and everything was passed on */
	int failed;		/* an error of ours, not a broken pipe */
	long batch;		/* a wake-up moving less than this rests; 0: never */
	long long rest_until;	/* ms: not polled before then */
};

struct run {
	struct spawn_pipe *p;
	struct relay *rl;	/* rl[i]: output of stage i */
	int *errfd;		/* read end of stage i's stderr pipe, -1 */
	int *commitfd;		/* write end of stage i's commit pipe, -1 */
	int *pidfd;		/* -1 when reaped or unsupported */
	int *reaped;
	struct culprit *why;	/* why[i]: what was seen of stage i's end, for the blame */
	int (*ep)[2], (*cp)[2], (*up)[2], (*dn)[2];	/* pipes not yet handed over */
	int devnull;
	long long start, deadline, kill_at;
	long long term_at;	/* when the stages got SIGTERM; 0: not yet */
	int lingering;		/* past the grace, waiting for a lingering stage */
};

static long long
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
xclose(int *fd)
{
	if (*fd >= 0) {
		close(*fd);
		*fd = -1;
	}
}

int
spawn_pipe2(int fds[2])
{
	if (pipe2(fds, O_CLOEXEC) < 0)
		return -1;
	(void)fcntl(fds[1], F_SETPIPE_SZ, SPAWN_PIPE_SIZE);
	return 0;
}

static void
set_nonblock(int fd)
{
	int fl = fcntl(fd, F_GETFL);

	if (fl >= 0)
		(void)fcntl(fd, F_SETFL, fl | O_NONBLOCK);
}

char *
spawn_which(const char *name, const char *path)
{
	const char *p, *end;
	char *buf;
	size_t nl = strlen(name), dl;
	struct stat st;
	int saw_eacces = 0;

	if (strchr(name, '/') != NULL)
		return strdup(name);
	if (path == NULL)
		path = getenv("PATH");
	if (path == NULL)
		path = "/usr/local/bin:/usr/bin:/bin";
	for (p = path;; p = end + 1) {
		end = strchr(p, ':');
		if (end == NULL)
			end = p + strlen(p);
		dl = (size_t)(end - p);
		if ((buf = malloc(dl + nl + 3)) == NULL)
			return NULL;
		if (dl == 0)
			snprintf(buf, dl + nl + 3, "./%s", name);
		else
			snprintf(buf, dl + nl + 3, "%.*s/%s", (int)dl, p, name);
		if (stat(buf, &st) == 0 && S_ISREG(st.st_mode)) {
			if (access(buf, X_OK) == 0)
				return buf;
			saw_eacces = 1;
		}
		free(buf);
		if (*end == '\0')
			break;
	}
	errno = saw_eacces ? EACCES : ENOENT;
	return NULL;
}

/*
 * The child, between fork and exec: only async-signal-safe calls.  All
 * descriptors are first moved above 10 so that no target number collides
 * with a source, then dup2'd onto their numbers (which clears close-on-exec
 * on them alone); everything else is marked close-on-exec, even what the
 * caller inherited from its own parent.
 */
static _Noreturn void
child(const char *path, char *const argv[], char *const envp[],
    const int *src, const int *dst, int nmap, pid_t pgid, int errw)
{
	struct sigaction sa;
	sigset_t none;
	int hi[5], k, sig, err, maxdst = 2;

	memset(&sa, 0, sizeof sa);
	sa.sa_handler = SIG_DFL;
	sigemptyset(&sa.sa_mask);
	for (sig = 1; sig < NSIG; sig++)
		if (sig != SIGKILL && sig != SIGSTOP)
			(void)sigaction(sig, &sa, NULL);
	(void)setpgid(0, pgid);

	errw = fcntl(errw, F_DUPFD_CLOEXEC, 10);
	for (k = 0; k < nmap; k++)
		if ((hi[k] = fcntl(src[k], F_DUPFD_CLOEXEC, 10)) < 0)
			goto fail;
	for (k = 0; k < nmap; k++) {
		if (dup2(hi[k], dst[k]) < 0)
			goto fail;
		if (dst[k] > maxdst)
			maxdst = dst[k];
	}
#ifdef SYS_close_range
	if (syscall(SYS_close_range, (unsigned)maxdst + 1, ~0U, 4 /* CLOSE_RANGE_CLOEXEC */) < 0)
#endif
		for (k = maxdst + 1; k < 4096; k++)
			(void)fcntl(k, F_SETFD, FD_CLOEXEC);

	sigemptyset(&none);
	(void)sigprocmask(SIG_SETMASK, &none, NULL);
	if (path == NULL) {
		errno = ENOENT;
		goto fail;
	}
	execve(path, argv, envp ? envp : environ);
fail:
	err = errno;
	if (errw >= 0)
		(void)!write(errw, &err, sizeof err);
	_exit(err == ENOENT ? EXIT_NOTFOUND : EXIT_NOEXEC);
}

/* Start stage i with its descriptors; the parent keeps none of the child's ends. */
static int
start(struct run *r, size_t i, int in, int out, int errw, int commitr)
{
	struct spawn_pipe *p = r->p;
	struct spawn_stage *s = &p->st[i];
	int src[5], dst[5], nmap = 0, ep[2], err = 0;
	sigset_t all, old;
	char *path;
	ssize_t k;
	pid_t pid;

	path = spawn_which(s->argv[0], NULL);
	if (path == NULL && errno == ENOMEM)
		return log_fail_sys(&p->err, EXIT_TEMP, "unable to start %s", s->name);
	src[nmap] = in, dst[nmap++] = 0;
	src[nmap] = out, dst[nmap++] = 1;
	src[nmap] = errw, dst[nmap++] = 2;
	if (s->commit_fd > 2)
		src[nmap] = commitr, dst[nmap++] = s->commit_fd;
	if (s->pass_as > 2)
		src[nmap] = s->pass_fd, dst[nmap++] = s->pass_as;
	if (pipe2(ep, O_CLOEXEC) < 0) {
		free(path);
		return log_fail_sys(&p->err, EXIT_TEMP, "unable to start %s", s->name);
	}
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	pid = fork();
	if (pid == 0)
		child(path, s->argv, s->envp, src, dst, nmap, p->pgid, ep[1]);
	err = errno;
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	free(path);
	close(ep[1]);
	if (pid < 0) {
		close(ep[0]);
		errno = err;
		return log_fail_sys(&p->err, EXIT_TEMP, "unable to start %s: fork", s->name);
	}
	(void)setpgid(pid, p->pgid ? p->pgid : pid);	/* also here: no race with kill */
	if (p->pgid == 0)
		p->pgid = pid;
	s->pid = pid;
	do
		k = read(ep[0], &err, sizeof err);
	while (k < 0 && errno == EINTR);
	close(ep[0]);
	s->exec_errno = k == (ssize_t)sizeof err ? err : 0;
#ifdef SYS_pidfd_open
	if (!no_pidfd) {
		r->pidfd[i] = (int)syscall(SYS_pidfd_open, pid, 0);
		if (r->pidfd[i] < 0 && errno == ENOSYS)
			no_pidfd = 1;	/* old kernel, or valgrind: poll every 20 ms */
	}
#endif
	return 0;
}

static void
ring_put(struct spawn_ring *g, const char *b, size_t n)
{
	size_t k;

	g->total += n;
	if (n > SPAWN_RING) {
		b += n - SPAWN_RING;
		n = SPAWN_RING;
	}
	while (n > 0) {
		k = SPAWN_RING - g->head;
		if (k > n)
			k = n;
		memcpy(g->buf + g->head, b, k);
		g->head = (g->head + k) % SPAWN_RING;
		g->len = g->len + k > SPAWN_RING ? SPAWN_RING : g->len + k;
		b += k;
		n -= k;
	}
}

size_t
spawn_tail(const struct spawn_ring *g, char *buf, size_t n)
{
	size_t from = (g->head + SPAWN_RING - g->len) % SPAWN_RING, i = 0, j = 0;

	if (n == 0)
		return 0;
	if (g->total > g->len)		/* the first line is cut: drop it */
		while (i < g->len && g->buf[(from + i++) % SPAWN_RING] != '\n')
			;
	for (; i < g->len && j + 1 < n; i++)
		buf[j++] = g->buf[(from + i) % SPAWN_RING];
	buf[j] = '\0';
	return j;
}

void
spawn_last_line(const struct spawn_ring *g, char *buf, size_t n)
{
	char all[SPAWN_RING + 1];
	size_t len = spawn_tail(g, all, sizeof all);
	char *s;

	while (len > 0 && (all[len - 1] == '\n' || all[len - 1] == '\r'))
		all[--len] = '\0';
	/* PostgreSQL's tools follow their "error:" with "detail:" and "hint:"
	 * lines (pg_dumpall's failed query), and libpq continues a message on
	 * lines that start with a tab ("Is the server running...?"): the
	 * error is the cause */
	while ((s = strrchr(all, '\n')) != NULL && (s[1] == '\t' ||
	    strstr(s, ": detail: ") != NULL || strstr(s, ": hint: ") != NULL))
		*s = '\0';
	s = strrchr(all, '\n');
	snprintf(buf, n, "%s", s ? s + 1 : all);
}

static const char *
signame(int sig)
{
	static const struct { int n; const char *s; } t[] = {
		{ SIGHUP, "SIGHUP" }, { SIGINT, "SIGINT" }, { SIGQUIT, "SIGQUIT" },
		{ SIGILL, "SIGILL" }, { SIGABRT, "SIGABRT" }, { SIGBUS, "SIGBUS" },
		{ SIGFPE, "SIGFPE" }, { SIGKILL, "SIGKILL" }, { SIGSEGV, "SIGSEGV" },
		{ SIGPIPE, "SIGPIPE" }, { SIGALRM, "SIGALRM" }, { SIGTERM, "SIGTERM" },
		{ SIGUSR1, "SIGUSR1" }, { SIGUSR2, "SIGUSR2" }, { SIGXFSZ, "SIGXFSZ" },
	};
	size_t i;

	for (i = 0; i < sizeof t / sizeof t[0]; i++)
		if (t[i].n == sig)
			return t[i].s;
	return "a signal";
}

void
spawn_describe(const struct spawn_stage *s, char *buf, size_t n)
{
	if (s->exec_errno == ENOENT)
		snprintf(buf, n, "%s not found", s->name);
	else if (s->exec_errno)
		snprintf(buf, n, "%s could not be run: %s", s->name, strerror(s->exec_errno));
	else if (s->signal)
		snprintf(buf, n, "%s killed by %s (signal %d)", s->name, signame(s->signal),
		    s->signal);
	else if (s->status < 0)
		snprintf(buf, n, "%s was not run", s->name);
	else
		snprintf(buf, n, "%s exited %d", s->name, s->status);
}

/* The least a wake-up should move for the relay not to rest; 0: never rest
 * (pipes too small: F_SETPIPE_SZ was refused). */
static long
relay_batch(const struct relay *rl)
{
	int in = fcntl(rl->src, F_GETPIPE_SZ);
	int out = fcntl(rl->dst, F_GETPIPE_SZ);	/* -1: not a pipe, never full for long */

	if (in < RELAY_REST_PIPE || (out >= 0 && out < RELAY_REST_PIPE))
		return 0;
	return in / RELAY_BATCH_DIV;
}

/* The pipe's other end is closed: POLLHUP on a read end (no writer left),
 * POLLERR on a write end (no reader left). */
static int
other_end_open(int fd, short events)
{
	struct pollfd pf = { fd, events, 0 };

	while (poll(&pf, 1, 0) < 0)
		if (errno != EINTR)
			return 1;
	return !(pf.revents & (POLLHUP | POLLERR));
}

/* Relay i found its reader gone: the stage after it closed its input, and
 * stage i, if it still holds its output, can only hit EPIPE from now on. */
static void
cut(struct run *r, size_t i)
{
	if (i + 1 < r->p->n)
		culprit_left(&r->why[i + 1]);
	culprit_cut(&r->why[i], other_end_open(r->rl[i].src, POLLIN));
}

/* Pass what is there from one stage to the next; a bounded number of calls
 * so that one busy hop does not starve the others. */
static void
relay_step(struct run *r, size_t i)
{
	struct relay *rl = &r->rl[i];
	struct spawn_stage *s = &r->p->st[i];
	char buf[65536];
	ssize_t k, w, off;
	uint64_t moved = 0;
	int avail, round;

	for (round = 0; round < 16 && rl->src >= 0; round++) {
		if (!rl->rw) {
			k = splice(rl->src, NULL, rl->dst, NULL, RELAY_CHUNK,
			    SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
			if (k < 0 && errno == EINVAL) {
				rl->rw = 1;
				continue;
			}
		} else {
			k = read(rl->src, buf, sizeof buf);
			for (off = 0; k > 0 && off < k; off += w)
				if ((w = write(rl->dst, buf + off, (size_t)(k - off))) < 0) {
					if (errno == EINTR) {
						w = 0;
						continue;
					}
					k = -1;
					break;
				}
		}
		if (k > 0) {
			s->bytes_out += (uint64_t)k;
			moved += (uint64_t)k;
			rl->want_out = 0;
			continue;
		}
		if (k == 0) {
			rl->eof = 1;
		} else if (errno == EINTR) {
			continue;
		} else if (errno == EAGAIN) {
			/* Data waiting at the source means the sink is full. */
			rl->want_out = ioctl(rl->src, FIONREAD, &avail) == 0 && avail > 0;
			if (rl->batch && (rl->want_out || moved < (uint64_t)rl->batch))
				rl->rest_until = now_ms() + RELAY_REST_MS;
			return;
		} else if (errno == EPIPE) {
			s->broken = 1;
			cut(r, i);
		} else {
			rl->failed = 1;
			if (r->p->err.status == 0 && !rl->own_dst && r->p->out_name)
				log_fail_sys(&r->p->err, EXIT_TEMP, "unable to write %s",
				    r->p->out_name);
			else if (r->p->err.status == 0)
				log_fail_sys(&r->p->err, EXIT_TEMP,
				    "unable to pass on the output of %s", s->name);
		}
		xclose(&rl->src);
		if (rl->own_dst)
			xclose(&rl->dst);
		rl->dst = -1;
		return;
	}
}

static void
capture_step(struct run *r, size_t i)
{
	char buf[4096];
	ssize_t k = read(r->errfd[i], buf, sizeof buf);

	if (k > 0)
		ring_put(&r->p->st[i].ring, buf, (size_t)k);
	else if (k == 0 || (errno != EINTR && errno != EAGAIN))
		xclose(&r->errfd[i]);
}

static int
any_running(const struct run *r)
{
	size_t i;

	for (i = 0; i < r->p->n; i++)
		if (r->p->st[i].pid > 0 && !r->reaped[i])
			return 1;
	return 0;
}

/* TERM (or KILL) the stage group, and never commit after that.  TERM goes
 * once: its deadlines do not move, and a stage cleaning up after it is not
 * asked again. */
static void
stop(struct run *r, int sig)
{
	size_t i;

	for (i = 0; i < r->p->n; i++)
		xclose(&r->commitfd[i]);
	if (sig == SIGTERM && r->term_at)
		return;
	/* The group id stays reserved while a stage is unreaped; for the final
	 * KILL also hit what the stages left behind in their group. */
	if (r->p->pgid > 0 && (any_running(r) || sig == SIGKILL))
		(void)kill(-r->p->pgid, sig);
	if (sig == SIGTERM) {
		r->term_at = now_ms();
		r->kill_at = r->term_at + (r->p->grace_ms > 0 ? r->p->grace_ms : DEFAULT_GRACE_MS);
	} else {
		r->kill_at = 0;
	}
}

static int
running(const struct run *r, size_t i)
{
	return r->p->st[i].pid > 0 && !r->reaped[i];
}

/*
 * The grace after SIGTERM is over.  A stage that may linger (pgbak-put
 * aborting its upload) and still runs is given the rest of its linger_ms,
 * and the caller is told; the others get SIGKILL now.  Without such a
 * stage, or at the end of its linger, the whole group gets SIGKILL.
 */
static void
grace_over(struct run *r)
{
	struct spawn_pipe *p = r->p;
	long long now = now_ms(), until = 0;
	size_t i;

	for (i = 0; i < p->n && !r->lingering; i++)
		if (running(r, i) && p->st[i].linger_ms > 0 &&
		    r->term_at + p->st[i].linger_ms > until)
			until = r->term_at + p->st[i].linger_ms;
	if (until <= now) {
		stop(r, SIGKILL);
		return;
	}
	r->lingering = 1;
	r->kill_at = until;
	for (i = 0; i < p->n; i++) {
		if (!running(r, i))
			continue;
		if (p->st[i].linger_ms <= 0) {
			(void)kill(p->st[i].pid, SIGKILL);
			continue;
		}
		p->st[i].lingered = 1;
		if (p->on_linger)
			p->on_linger(p->linger_ctx, &p->st[i], (long)(until - now));
	}
}

static void
reap(struct run *r)
{
	struct spawn_stage *s;
	size_t i;
	int ws;
	pid_t k;

	for (i = 0; i < r->p->n; i++) {
		s = &r->p->st[i];
		if (s->pid <= 0 || r->reaped[i])
			continue;
		k = waitpid(s->pid, &ws, WNOHANG);
		if (k == s->pid || (k < 0 && errno == ECHILD)) {
			/* exit status and signal apart, as wait(2) has them */
			s->status = k != s->pid ? EXIT_TEMP : WIFEXITED(ws) ? WEXITSTATUS(ws) : -1;
			s->signal = k == s->pid && WIFSIGNALED(ws) ? WTERMSIG(ws) : 0;
			if (s->signal == SIGPIPE)
				s->broken = 1;
			if (r->p->timed_out || r->p->cancelled)
				culprit_stop(&r->why[i]);
			culprit_end(&r->why[i], s->status, s->signal);
			r->reaped[i] = 1;
			xclose(&r->pidfd[i]);
		}
	}
}

/* Write "commit" to stage k once everything before it succeeded; close its
 * pipe empty as soon as something before it failed. */
static void
commit_step(struct run *r, size_t k)
{
	struct spawn_pipe *p = r->p;
	size_t j;
	int done = 1, ok = !p->timed_out && !p->cancelled && p->err.status == 0;
	ssize_t w;

	if (r->commitfd[k] < 0)
		return;
	for (j = 0; j < k; j++) {
		if (!r->reaped[j] || r->rl[j].src >= 0)
			done = 0;
		if (r->reaped[j] && p->st[j].status != 0)
			ok = 0;
		if (p->st[j].broken || r->rl[j].failed || (r->rl[j].src < 0 && !r->rl[j].eof))
			ok = 0;
	}
	if (ok && !done)
		return;
	if (ok) {
		do
			w = write(r->commitfd[k], "commit\n", 7);
		while (w < 0 && errno == EINTR);
		p->st[k].committed = w == 7;
	} else {
		culprit_withhold(&r->why[k], other_end_open(r->commitfd[k], POLLOUT));
	}
	xclose(&r->commitfd[k]);
}

static int
wait_ms(const struct run *r, long long now)
{
	long long t = -1;
	size_t i;

	if (r->deadline && !r->p->timed_out && !r->p->cancelled)
		t = r->deadline - now;
	if (r->kill_at && (t < 0 || r->kill_at - now < t))
		t = r->kill_at - now;
	for (i = 0; i < r->p->n; i++) {	/* no pidfd: look at the children often */
		if (r->p->st[i].pid > 0 && !r->reaped[i] && r->pidfd[i] < 0 && (t < 0 || t > 20))
			t = 20;
		if (r->rl[i].src >= 0 && r->rl[i].rest_until > now &&
		    (t < 0 || r->rl[i].rest_until - now < t))
			t = r->rl[i].rest_until - now;
	}
	if (t < 0)
		return -1;
	return t > INT_MAX ? INT_MAX : (int)t;
}

static int
busy(const struct run *r)
{
	size_t i;

	if (any_running(r))
		return 1;
	for (i = 0; i < r->p->n; i++)
		if (r->rl[i].src >= 0 || r->errfd[i] >= 0 || r->commitfd[i] >= 0)
			return 1;
	return 0;
}

/* Poll everything once and act on what is ready. */
static void
step(struct run *r)
{
	struct spawn_pipe *p = r->p;
	size_t n = p->n, i, np = 0;
	struct pollfd *pf = calloc(4 * n + 1, sizeof *pf);
	enum poll_kind *kind = calloc(4 * n + 1, sizeof *kind);
	int *idx = calloc(4 * n + 1, sizeof *idx);
	long long now;
	int t;

	for (i = 0; i < n; i++)		/* a commit may be due before anything moves */
		commit_step(r, i);
	if (pf == NULL || kind == NULL || idx == NULL) {
		free(pf), free(kind), free(idx);
		(void)poll(NULL, 0, 20);
		reap(r);
		return;
	}
#define ADD(fd_, ev_, kind_, i_) (pf[np].fd = (fd_), pf[np].events = (ev_), \
	kind[np] = (kind_), idx[np++] = (int)(i_))
	now = now_ms();
	for (i = 0; i < n; i++) {
		if (r->rl[i].src >= 0 && r->rl[i].rest_until <= now) {	/* else resting */
			if (r->rl[i].want_out)
				ADD(r->rl[i].dst, POLLOUT, PK_RELAY, i);
			else
				ADD(r->rl[i].src, POLLIN, PK_RELAY, i);
		}
		if (r->errfd[i] >= 0)
			ADD(r->errfd[i], POLLIN, PK_STDERR, i);
		if (r->pidfd[i] >= 0)
			ADD(r->pidfd[i], POLLIN, PK_PIDFD, i);	/* reap() below */
	}
	if (p->cancel_fd >= 0 && !p->cancelled)
		ADD(p->cancel_fd, POLLIN, PK_CANCEL, 0);
#undef ADD
	t = wait_ms(r, now);
	if (poll(pf, np, t) > 0) {
		for (i = 0; i < np; i++) {
			if (pf[i].revents == 0)
				continue;
			switch (kind[i]) {
			case PK_RELAY:
				relay_step(r, (size_t)idx[i]);
				break;
			case PK_STDERR:
				capture_step(r, (size_t)idx[i]);
				break;
			case PK_PIDFD:		/* reap() below looks at every stage */
				break;
			case PK_CANCEL:
				p->cancelled = 1;
				stop(r, SIGTERM);
				break;
			}
		}
	}
	free(pf), free(kind), free(idx);
	reap(r);
	now = now_ms();
	if (r->deadline && now >= r->deadline && !p->timed_out && !p->cancelled) {
		p->timed_out = 1;
		stop(r, SIGTERM);
	}
	if (r->kill_at && now >= r->kill_at)
		grace_over(r);
	/* the lingering stage is done: what is left of the group goes now */
	if (r->lingering && r->kill_at && !any_running(r))
		stop(r, SIGKILL);
	/* Every stage is gone but someone they left behind keeps a pipe open:
	 * once the time is up, stop listening. */
	if ((p->timed_out || p->cancelled) && !any_running(r) && !r->kill_at)
		for (i = 0; i < n; i++) {
			xclose(&r->rl[i].src);
			if (r->rl[i].own_dst)
				xclose(&r->rl[i].dst);
			xclose(&r->errfd[i]);
		}
	for (i = 0; i < n; i++)
		commit_step(r, i);
}

static int
setup(struct run *r)
{
	struct spawn_pipe *p = r->p;
	size_t i, n = p->n;
	int (*ep)[2] = r->ep, (*cp)[2] = r->cp, (*up)[2] = r->up, (*dn)[2] = r->dn;

	for (i = 0; i < n; i++) {
		struct spawn_stage *s = &p->st[i];

		if (s->capture && spawn_pipe2(ep[i]) < 0)
			return log_fail_sys(&p->err, EXIT_TEMP, "unable to make a pipe for %s", s->name);
		if (s->commit_fd > 2 && spawn_pipe2(cp[i]) < 0)
			return log_fail_sys(&p->err, EXIT_TEMP, "unable to make a pipe for %s", s->name);
		if ((i + 1 < n || p->count_out) && spawn_pipe2(up[i]) < 0)
			return log_fail_sys(&p->err, EXIT_TEMP, "unable to make a pipe for %s", s->name);
		if (i > 0 && spawn_pipe2(dn[i]) < 0)
			return log_fail_sys(&p->err, EXIT_TEMP, "unable to make a pipe for %s", s->name);
	}
	return 0;
}

/* The cancel descriptor is readable already: nothing is to be started. */
static int
cancelled_already(const struct spawn_pipe *p)
{
	struct pollfd pf = { p->cancel_fd, POLLIN, 0 };

	return p->cancel_fd >= 0 && poll(&pf, 1, 0) > 0;
}

/* All of a run's arrays in one block, reachable from r (which lives in
 * memory) so that a child that fails to exec holds no lost pointer. */
static int
alloc_run(struct run *r, size_t n)
{
	size_t m = n + 1, i;
	char *b = calloc(m, sizeof(struct relay) + 5 * sizeof(int) + 4 * sizeof(int[2]));

	if (b == NULL)
		return -1;
	r->rl = (struct relay *)b;
	r->ep = (int (*)[2])(b + m * sizeof(struct relay));
	r->cp = r->ep + m, r->up = r->cp + m, r->dn = r->up + m;
	r->errfd = (int *)(r->dn + m);
	r->commitfd = r->errfd + m, r->pidfd = r->commitfd + m;
	r->reaped = r->pidfd + m;
	for (i = 0; i < m; i++) {
		r->rl[i].src = r->rl[i].dst = -1;
		r->errfd[i] = r->commitfd[i] = r->pidfd[i] = -1;
		r->ep[i][0] = r->ep[i][1] = r->cp[i][0] = r->cp[i][1] = -1;
		r->up[i][0] = r->up[i][1] = r->dn[i][0] = r->dn[i][1] = -1;
	}
	return 0;
}

int
spawn_run(struct spawn_pipe *p, struct log_err *e)
{
	size_t n = p->n, i;
	struct run r;
	int (*ep)[2], (*cp)[2], (*up)[2], (*dn)[2], in, out, rc = 0;
	char why[512];

	memset(&r, 0, sizeof r);
	r.p = p;
	r.devnull = -1;
	p->pgid = 0;
	p->timed_out = p->cancelled = 0;
	p->failed = -1;
	memset(&p->err, 0, sizeof p->err);
	for (i = 0; i < n; i++) {
		struct spawn_stage *s = &p->st[i];

		s->pid = 0, s->status = -1, s->signal = 0, s->exec_errno = 0, s->broken = 0;
		s->committed = 0;
		s->bytes_out = 0;
		s->lingered = 0;
		memset(&s->ring, 0, sizeof s->ring);
	}
	if (alloc_run(&r, n) < 0 || (r.why = calloc(n + 1, sizeof *r.why)) == NULL) {
		free(r.rl);
		return log_fail(e, EXIT_TEMP, "out of memory");
	}
	ep = r.ep, cp = r.cp, up = r.up, dn = r.dn;
	r.start = now_ms();
	r.deadline = p->timeout_ms > 0 ? r.start + p->timeout_ms : 0;
	r.devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (r.devnull < 0)
		log_fail_sys(&p->err, EXIT_TEMP, "unable to open /dev/null");
	else
		setup(&r);

	if (cancelled_already(p))
		p->cancelled = 1;
	for (i = 0; i < n && p->err.status == 0 && !p->cancelled; i++) {
		struct spawn_stage *s = &p->st[i];

		in = i > 0 ? dn[i][0] : p->in_fd >= 0 ? p->in_fd : r.devnull;
		out = up[i][1] >= 0 ? up[i][1] : p->out_fd >= 0 ? p->out_fd : r.devnull;
		if (start(&r, i, in, out, s->capture ? ep[i][1] : 2, cp[i][0]) < 0)
			break;
		/* The child's ends are the child's. */
		xclose(&dn[i][0]);
		xclose(&up[i][1]);
		xclose(&ep[i][1]);
		xclose(&cp[i][0]);
		r.errfd[i] = ep[i][0], ep[i][0] = -1;
		r.commitfd[i] = cp[i][1], cp[i][1] = -1;
		if (r.errfd[i] >= 0)
			set_nonblock(r.errfd[i]);
		if (up[i][0] >= 0) {
			r.rl[i].src = up[i][0], up[i][0] = -1;
			set_nonblock(r.rl[i].src);
			if (i + 1 < n) {
				r.rl[i].dst = dn[i + 1][1], dn[i + 1][1] = -1;
				r.rl[i].own_dst = 1;
				set_nonblock(r.rl[i].dst);
			} else {
				r.rl[i].dst = p->out_fd >= 0 ? p->out_fd : r.devnull;
			}
			r.rl[i].batch = relay_batch(&r.rl[i]);
		}
	}
	/* Whatever was not handed to a child or to the loop goes now. */
	for (i = 0; i <= n; i++) {
		xclose(&ep[i][0]), xclose(&ep[i][1]), xclose(&cp[i][0]), xclose(&cp[i][1]);
		xclose(&up[i][0]), xclose(&up[i][1]), xclose(&dn[i][0]), xclose(&dn[i][1]);
	}
	if (p->err.status != 0)
		stop(&r, SIGTERM);

	while (busy(&r))
		step(&r);

	for (i = 0; i < n; i++)
		if (p->st[i].status != 0)
			rc = -1;
	if (p->timed_out) {
		snprintf(why, sizeof why, "timed out after %ld s", (p->timeout_ms + 999) / 1000);
		rc = log_fail(e, EXIT_TEMP, "%s", why);
	} else if (p->cancelled) {
		rc = log_fail(e, EXIT_TEMP, "cancelled");
	} else if (p->err.status != 0) {
		rc = -1;
		if (e)
			*e = p->err;
	} else if (rc < 0 && (p->failed = culprit_find(r.why, n)) >= 0) {
		spawn_describe(&p->st[p->failed], why, sizeof why);
		log_fail(e, p->st[p->failed].status == EXIT_NOTFOUND ? EXIT_NOTFOUND : EXIT_TEMP,
		    "%s", why);
	} else if (rc < 0) {
		log_fail(e, EXIT_TEMP, "stopped");	/* every stage was stopped: not reached */
	}
	if (r.devnull >= 0)
		close(r.devnull);
	free(r.why);
	free(r.rl);
	return rc;
}

char *
spawn_sibling(const char *name)
{
	char self[PATH_MAX], *slash, *p;
	ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
	size_t len;

	if (n > 0) {
		self[n] = '\0';
		if ((slash = strrchr(self, '/')) != NULL) {
			len = (size_t)(slash - self) + strlen(name) + 2;
			if ((p = malloc(len)) == NULL)
				return NULL;
			snprintf(p, len, "%.*s/%s", (int)(slash - self), self, name);
			if (access(p, X_OK) == 0)
				return p;
			free(p);
		}
	}
	return spawn_which(name, NULL);
}
