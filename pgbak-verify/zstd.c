/*
 * zstd: pgbak-verify's check of a .zst backup, through the zstd program.
 *
 * "zstd -d -c -q" is the checker of the frames: it fails (exit 1, one line
 * on stderr) on a frame cut short, a checksum that does not match (pgbak-run
 * writes every frame with --check) and anything that is not zstd, trailing
 * garbage included.  Its output, the SQL, goes through lib/verify's tail
 * check for the completion line.  The program and not libzstd for the same
 * reasons as pgbak-run's zstd stage (pgbak-run/argv.c): no library to build
 * against, and the very decoder that pgbak-restore runs.
 *
 * The object's bytes are written into zstd's stdin by whoever reads them
 * (the download's sink, or the file loop), while its stdout and stderr are
 * read: one poll(2) loop over the three pipes, so neither side can block
 * the other, and no thread.  Memory stays fixed: what zstd writes is kept
 * only in the tail (lib/verify) and its last line of stderr.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "spawn.h"
#include "vz.h"

#define ZBUF (64 * 1024)

extern char **environ;

/* The child: its pipes as 0, 1, 2, default signals, then zstd.  An exec
 * failure goes to the parent as errno through the close-on-exec pipe. */
static noreturn void
child(const char *path, int in, int out, int err, int report)
{
	char *argv[] = { (char *)path, "-d", "-c", "-q", NULL };
	sigset_t none;
	int e, s;

	for (s = 1; s < NSIG; s++)
		signal(s, SIG_DFL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	if (dup2(in, 0) < 0 || dup2(out, 1) < 0 || dup2(err, 2) < 0) {
		e = errno;
		(void)!write(report, &e, sizeof e);
		_exit(126);
	}
	execve(path, argv, environ);
	e = errno;
	(void)!write(report, &e, sizeof e);
	_exit(e == ENOENT ? 127 : 126);
}

int
vz_start(struct vz *z, struct log_err *e)
{
	int in[2] = { -1, -1 }, out[2] = { -1, -1 }, err[2] = { -1, -1 }, rep[2] = { -1, -1 };
	int code = 0;
	ssize_t n;

	memset(z, 0, sizeof *z);
	z->in = z->out = z->err = -1;
	signal(SIGPIPE, SIG_IGN);	/* zstd gone is EPIPE, seen in pump */
	if ((z->path = spawn_which("zstd", NULL)) == NULL)
		return log_fail(e, EXIT_NOTFOUND, "zstd not found in PATH: a .zst backup is "
		    "checked with it (install the zstd package)");
	if (spawn_pipe2(in) < 0 || spawn_pipe2(out) < 0 || spawn_pipe2(err) < 0 ||
	    spawn_pipe2(rep) < 0) {
		log_fail_sys(e, EXIT_TEMP, "unable to make a pipe for zstd");
		goto fail;
	}
	if ((z->pid = fork()) < 0) {
		log_fail_sys(e, EXIT_TEMP, "unable to start zstd");
		goto fail;
	}
	if (z->pid == 0)
		child(z->path, in[0], out[1], err[1], rep[1]);
	close(in[0]), close(out[1]), close(err[1]), close(rep[1]);
	in[0] = out[1] = err[1] = rep[1] = -1;
	while ((n = read(rep[0], &code, sizeof code)) < 0 && errno == EINTR)
		;
	close(rep[0]);
	rep[0] = -1;
	z->in = in[1], z->out = out[0], z->err = err[0];
	if (n == sizeof code) {
		errno = code;
		log_fail_sys(e, code == ENOENT ? EXIT_NOTFOUND : EXIT_NOEXEC, "unable to run %s", z->path);
		vz_free(z);
		return -1;
	}
	if (fcntl(z->in, F_SETFL, O_NONBLOCK) < 0) {
		log_fail_sys(e, EXIT_TEMP, "unable to write to zstd");
		vz_free(z);
		return -1;
	}
	return 0;
fail:
	close(in[0]), close(in[1]), close(out[0]), close(out[1]);
	close(err[0]), close(err[1]), close(rep[0]), close(rep[1]);
	free(z->path);
	z->path = NULL;
	return -1;
}

/* Read what zstd wrote to fd: the SQL into v, stderr's last bytes kept.
 * 0 at end of file (fd then closed, -1), 1 more may come, -1 error. */
static int
drain(struct vz *z, struct verify *v, int *fd, struct log_err *e)
{
	static char buf[ZBUF];
	ssize_t n = read(*fd, buf, sizeof buf);
	size_t k;

	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return 1;
	if (n < 0)
		return log_fail_sys(e, EXIT_TEMP, "unable to read zstd's output");
	if (n == 0) {
		close(*fd);
		*fd = -1;
		return 0;
	}
	if (fd == &z->out) {
		verify_sql(v, buf, (size_t)n);
		return 1;
	}
	k = (size_t)n < sizeof z->msg - 1 ? (size_t)n : sizeof z->msg - 1;
	if (z->msglen + k >= sizeof z->msg)
		z->msglen = 0;	/* its last line is what explains */
	memcpy(z->msg + z->msglen, buf + n - k, k);
	z->msglen += k;
	z->msg[z->msglen] = '\0';
	return 1;
}

/* Poll zstd's pipes: write p[0..n) (p NULL: none) into its stdin while
 * reading its stdout and stderr, until all of p is written, or, with p
 * NULL, until both of its outputs ended.  0, or -1 (e). */
static int
pump(struct vz *z, struct verify *v, const char *p, size_t n, struct log_err *e)
{
	struct pollfd fds[3];
	ssize_t w;
	int k, rc;

	while (p ? n > 0 : z->out >= 0 || z->err >= 0) {
		k = 0;
		if (p && z->in >= 0)
			fds[k++] = (struct pollfd){ .fd = z->in, .events = POLLOUT };
		if (z->out >= 0)
			fds[k++] = (struct pollfd){ .fd = z->out, .events = POLLIN };
		if (z->err >= 0)
			fds[k++] = (struct pollfd){ .fd = z->err, .events = POLLIN };
		if (p && z->in < 0)
			return 0;	/* zstd stopped reading: its status says why */
		if (poll(fds, (nfds_t)k, -1) < 0) {
			if (errno == EINTR)
				continue;
			return log_fail_sys(e, EXIT_TEMP, "unable to wait for zstd");
		}
		while (k-- > 0) {
			if (!fds[k].revents)
				continue;
			if (fds[k].fd == z->in) {	/* POLLERR too: the write says */
				w = write(z->in, p, n);
				if (w < 0 && errno == EPIPE) {
					close(z->in);	/* it ended: what follows is not read */
					z->in = -1;
				} else if (w < 0 && errno != EAGAIN && errno != EINTR) {
					return log_fail_sys(e, EXIT_TEMP, "unable to write to zstd");
				} else if (w > 0) {
					p += w;
					n -= (size_t)w;
				}
			} else if ((rc = drain(z, v, fds[k].fd == z->out ? &z->out : &z->err,
			    e)) < 0) {
				return -1;
			}
		}
	}
	return 0;
}

int
vz_feed(struct vz *z, struct verify *v, const void *p, size_t n, struct log_err *e)
{
	/* zstd -d also takes gzip, xz and lz4 (as built): a .zst must be zstd */
	static const unsigned char magic[4] = { 0x28, 0xb5, 0x2f, 0xfd };
	const unsigned char *b = p;
	size_t i;

	for (i = 0; i < n && z->nmagic < sizeof magic; i++, z->nmagic++)
		if (b[i] != magic[z->nmagic]) {
			snprintf(v->why, sizeof v->why, "not zstd: it does not start with the "
			    "zstd magic bytes 28 b5 2f fd");
			z->bad = 1;
			return 1;
		}
	v->in += n;
	if (pump(z, v, p, n, e) < 0)
		return -1;
	return z->in < 0;	/* zstd stopped reading: damaged, vz_end says how */
}

int
vz_end(struct vz *z, struct verify *v, struct log_err *e)
{
	char *line, *end;
	int st;

	if (z->bad)
		return 1;
	if (z->in >= 0)
		close(z->in);
	z->in = -1;
	if (pump(z, v, NULL, 0, e) < 0)
		return -1;
	while (waitpid(z->pid, &st, 0) < 0)
		if (errno != EINTR)
			return log_fail_sys(e, EXIT_TEMP, "unable to wait for zstd");
	z->pid = 0;
	if (WIFSIGNALED(st))
		return log_fail(e, EXIT_TEMP, "zstd killed by signal %d", WTERMSIG(st));
	if (WEXITSTATUS(st) != 0) {
		/* its last line, without the trailing blanks */
		for (end = z->msg + z->msglen; end > z->msg && (unsigned char)end[-1] <= ' '; end--)
			;
		*end = '\0';
		line = strrchr(z->msg, '\n');
		line = line ? line + 1 : z->msg;
		if (v->in == 0)
			snprintf(v->why, sizeof v->why, "empty: 0 bytes, not even a zstd frame");
		else
			snprintf(v->why, sizeof v->why, "damaged zstd stream (zstd -d exited %d: "
			    "%.160s)", WEXITSTATUS(st), *line ? line : "no message");
		return 1;
	}
	return verify_sql_end(v);
}

void
vz_free(struct vz *z)
{
	int st;

	if (z->in >= 0)
		close(z->in);
	if (z->out >= 0)
		close(z->out);
	if (z->err >= 0)
		close(z->err);
	z->in = z->out = z->err = -1;
	if (z->pid > 0) {
		kill(z->pid, SIGTERM);
		while (waitpid(z->pid, &st, 0) < 0 && errno == EINTR)
			;
	}
	z->pid = 0;
	free(z->path);
	z->path = NULL;
}
