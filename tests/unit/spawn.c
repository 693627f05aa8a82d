/* Unit test of lib/spawn: exit statuses, descriptors, commit, relay, blame. */
#define _GNU_SOURCE 1		/* F_GETPIPE_SZ */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "spawn.h"

static int n_test, n_fail;

static void
ok(int cond, const char *desc)
{
	n_test++;
	if (!cond)
		n_fail++;
	printf("%sok %d - %s\n", cond ? "" : "not ", n_test, desc);
}

/* Live (not zombie) processes in group g: a zombie waits for init, harmless. */
static int
group_alive(pid_t g)
{
	DIR *d = opendir("/proc");
	struct dirent *de;
	char f[300], line[512], *rp, state;
	int n = 0, pgrp;
	FILE *fp;

	if (d == NULL)
		return -1;
	while ((de = readdir(d)) != NULL) {
		snprintf(f, sizeof f, "/proc/%s/stat", de->d_name);
		if ((fp = fopen(f, "r")) == NULL)
			continue;
		if (fgets(line, sizeof line, fp) && (rp = strrchr(line, ')')) &&
		    sscanf(rp + 1, " %c %*d %d", &state, &pgrp) == 2 && pgrp == g && state != 'Z')
			n++;
		fclose(fp);
	}
	closedir(d);
	return n;
}

static int
count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *de;
	int n = 0;

	if (d == NULL)
		return -1;
	while ((de = readdir(d)) != NULL)
		if (de->d_name[0] != '.')
			n++;
	closedir(d);
	return n - 1;	/* the directory's own descriptor */
}

/* Set up one pipeline of up to four shell snippets (fixed strings: this is
 * a test). */
static void
prepare(struct spawn_pipe *p, struct spawn_stage *st, const char *const *cmds, size_t n)
{
	static char *argvs[4][4];
	size_t i;

	memset(st, 0, n * sizeof *st);
	for (i = 0; i < n; i++) {
		argvs[i][0] = (char *)"/bin/sh";
		argvs[i][1] = (char *)"-c";
		argvs[i][2] = (char *)cmds[i];
		argvs[i][3] = NULL;
		st[i].name = cmds[i];
		st[i].argv = argvs[i];
		st[i].capture = 1;
	}
	memset(p, 0, sizeof *p);
	p->st = st;
	p->n = n;
	p->in_fd = p->out_fd = p->cancel_fd = -1;
}

/* Run one such pipeline; returns spawn_run's result. */
static int
pipeline(struct spawn_pipe *p, struct spawn_stage *st, const char *const *cmds, size_t n)
{
	prepare(p, st, cmds, n);
	return spawn_run(p, NULL);
}

/*
 * The first stage exits 1 with its output still in flight (the middle stage
 * never reads it); the commit stage, which never reads either, gets no
 * commit and quits; only then does the middle stage write, so its output is
 * cut, it dies of SIGPIPE, and the cut runs back up to the first stage's
 * relay.  That ordering used to blame the commit stage; the first stage
 * failed before anything was done to it.
 */
static void
culprit_tests(const char *dir)
{
	struct spawn_stage st[3];
	struct spawn_pipe p;
	struct log_err e;
	char c0[128], c1[300], c2[300];
	const char *c[] = { c0, c1, c2 };
	int fds[2], psz = 65536, rc;

	if (spawn_pipe2(fds) == 0) {
		psz = fcntl(fds[1], F_GETPIPE_SZ);
		close(fds[0]);
		close(fds[1]);
	}
	/* 1.5 pipes: it fits in its own pipe and the middle stage's */
	snprintf(c0, sizeof c0, "head -c %d /dev/zero; echo dump failed >&2; exit 1",
	    psz / 2 * 3);
	snprintf(c1, sizeof c1, "i=0; while [ ! -e %s/answered ] && [ $i -lt 1000 ]; do "
	    "sleep 0.01; i=$((i+1)); done; while :; do echo more; done", dir);
	snprintf(c2, sizeof c2, "exec 0<&-; read x <&3; touch %s/answered; "
	    "echo no commit >&2; exit 111", dir);
	prepare(&p, st, c, 3);
	st[2].commit_fd = 3;
	p.timeout_ms = 20000;
	rc = spawn_run(&p, &e);
	ok(rc < 0 && !p.timed_out && p.failed == 0 && strstr(e.msg, "exited 1") != NULL,
	    "a first stage exits 1, output in flight, the commit stage aborts: it is blamed");
	ok(st[0].broken && st[1].signal == SIGPIPE && st[2].status == 111 && !st[2].committed,
	    "...after the cut ran back up to it (the ordering that blamed the commit stage)");
	snprintf(c1, sizeof c1, "%s/answered", dir);
	unlink(c1);
}

static int
one(struct spawn_stage *st, char *const *argv)
{
	struct spawn_pipe p;

	memset(st, 0, sizeof *st);
	st->name = argv[0];
	st->argv = argv;
	memset(&p, 0, sizeof p);
	p.st = st;
	p.n = 1;
	p.in_fd = p.out_fd = p.cancel_fd = -1;
	spawn_run(&p, NULL);
	return st->status;
}

int
main(void)
{
	struct spawn_stage st[4];
	struct spawn_pipe p;
	struct log_err e;
	char tmpl[] = "/tmp/pgbak-spawn.XXXXXX", path[256], buf[SPAWN_RING + 1];
	char *nf[] = { (char *)"pgbak-no-such-program-here", NULL };
	char *nx[] = { path, NULL };
	char *ok0[] = { (char *)"true", NULL };
	char *envp[] = { (char *)"ONLY=this", NULL };
	char *env_argv[] = { (char *)"/bin/sh", (char *)"-c",
		(char *)"test \"$ONLY\" = this && test -z \"${SECRET+set}\"", NULL };
	struct sigaction sa;
	sigset_t block;
	int fd, before, out, rc;
	char *w;

	signal(SIGPIPE, SIG_IGN);
	if (mkdtemp(tmpl) == NULL)
		return 1;
	before = count_fds();

	ok(one(&st[0], nf) == EXIT_NOTFOUND && st[0].exec_errno == ENOENT,
	    "a program not found: 127");
	ok(one(&st[0], ok0) == 0 && st[0].exec_errno == 0, "a program found in PATH: 0");
	snprintf(path, sizeof path, "%s/notexec", tmpl);
	fd = open(path, O_WRONLY | O_CREAT, 0644);
	(void)!write(fd, "#!/bin/sh\n", 10);
	close(fd);
	ok(one(&st[0], nx) == EXIT_NOEXEC && st[0].exec_errno == EACCES,
	    "a file that is not executable: 126");
	chmod(path, 0755);
	ok(one(&st[0], nx) == 0, "the same file made executable: 0");

	{
		const char *c[] = { "kill -TERM $$; sleep 5" };
		ok(pipeline(&p, st, c, 1) < 0 && st[0].signal == SIGTERM && st[0].status == -1,
		    "killed by SIGTERM: its signal, not an exit status");
	}
	/* The caller ignores TERM and blocks USR1: the child must get neither. */
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = SIG_IGN;
	sigaction(SIGTERM, &sa, NULL);
	sigemptyset(&block);
	sigaddset(&block, SIGUSR1);
	sigprocmask(SIG_BLOCK, &block, NULL);
	{
		const char *c[] = { "kill -TERM $$; sleep 5" };
		ok(pipeline(&p, st, c, 1) < 0 && st[0].signal == SIGTERM,
		    "an ignored SIGTERM is reset to default in the child");
		const char *d[] = { "kill -USR1 $$; sleep 5" };
		ok(pipeline(&p, st, d, 1) < 0 && st[0].signal == SIGUSR1,
		    "a blocked signal is unblocked in the child");
	}
	signal(SIGTERM, SIG_DFL);
	sigprocmask(SIG_UNBLOCK, &block, NULL);

	{
		const char *c[] = { "ls /proc/self/fd | wc -l >&2" };
		pipeline(&p, st, c, 1);
		spawn_last_line(&st[0].ring, buf, sizeof buf);
		/* ls sees 0, 1, 2 and its own directory descriptor. */
		ok(atoi(buf) == 4, "the child gets only stdin, stdout, stderr");
	}

	setenv("SECRET", "hunter2", 1);
	memset(st, 0, sizeof st[0]);
	{
		struct spawn_stage s = { .name = "env", .argv = env_argv, .envp = envp };
		struct spawn_pipe q = { .st = &s, .n = 1, .in_fd = -1, .out_fd = -1,
			.cancel_fd = -1 };

		ok(spawn_run(&q, NULL) == 0, "a stage gets exactly its own environment");
		s.envp = NULL;
		ok(spawn_run(&q, NULL) < 0, "without envp it inherits ours (SECRET seen)");
	}
	unsetenv("SECRET");

	/* Counting and the commit handshake. */
	snprintf(path, sizeof path, "%s/out", tmpl);
	out = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	{
		const char *c[] = { "head -c 3000000 /dev/zero", "cat",
			"cat; read x <&3 && test \"$x\" = commit" };
		memset(st, 0, sizeof st);
		st[2].commit_fd = 3;
		memset(&p, 0, sizeof p);
		for (int i = 0; i < 3; i++) {
			static char *a[3][4];
			a[i][0] = (char *)"/bin/sh", a[i][1] = (char *)"-c";
			a[i][2] = (char *)c[i], a[i][3] = NULL;
			st[i].name = c[i], st[i].argv = a[i], st[i].capture = 1;
		}
		p.st = st, p.n = 3, p.in_fd = -1, p.out_fd = out, p.cancel_fd = -1;
		p.count_out = 1;
		rc = spawn_run(&p, &e);
		ok(rc == 0 && st[2].committed && st[0].bytes_out == 3000000 &&
		    st[1].bytes_out == 3000000 && st[2].bytes_out == 3000000,
		    "three stages, every byte counted, commit written");
		ok(lseek(out, 0, SEEK_END) == 3000000, "the output reached out_fd");

		c[0] = "head -c 3000000 /dev/zero; exit 1";
		st[0].argv = (char *[]){ (char *)"/bin/sh", (char *)"-c", (char *)c[0], NULL };
		rc = spawn_run(&p, &e);
		ok(rc < 0 && !st[2].committed && st[2].status == 1 && p.failed == 0,
		    "first stage exits 1 after its output: no commit, blamed on it");
		ok(strstr(e.msg, "exited 1") != NULL, "the reason names the exit status");
	}
	close(out);

	{
		const char *c[] = { "read x <&3 && test \"$x\" = commit" };
		memset(st, 0, sizeof st[0]);
		st[0].name = "alone";
		st[0].commit_fd = 3;
		st[0].argv = (char *[]){ (char *)"/bin/sh", (char *)"-c", (char *)c[0], NULL };
		memset(&p, 0, sizeof p);
		p.st = st, p.n = 1, p.in_fd = p.out_fd = p.cancel_fd = -1;
		p.timeout_ms = 5000;
		ok(spawn_run(&p, &e) == 0 && st[0].committed && !p.timed_out,
		    "a commit stage with nothing before it gets the commit at once");
	}
	{
		const char *c[] = { "yes", "head -c 10 >/dev/null; echo gzip broke >&2; exit 3" };
		rc = pipeline(&p, st, c, 2);
		ok(rc < 0 && p.failed == 1 && st[0].broken,
		    "a stage downstream fails: it is blamed, not the broken pipe upstream");
		spawn_last_line(&st[1].ring, buf, sizeof buf);
		ok(strcmp(buf, "gzip broke") == 0, "its stderr is kept");
	}
	{
		const char *c[] = { "exec yes", "head -c 10 >/dev/null; exit 141" };
		rc = pipeline(&p, st, c, 2);
		spawn_describe(&st[1], buf, sizeof buf);
		ok(rc < 0 && p.failed == 1 && st[1].status == 141 && st[1].signal == 0 &&
		    strstr(buf, "exited 141") != NULL,
		    "a stage that exits 141 exited 141: blamed, not taken for SIGPIPE");
		spawn_describe(&st[0], buf, sizeof buf);
		ok(st[0].signal == SIGPIPE && st[0].status == -1 &&
		    strstr(buf, "killed by SIGPIPE") != NULL,
		    "the stage before it was killed by SIGPIPE: not blamed");
	}
	culprit_tests(tmpl);
	{
		const char *c[] = { "i=0; while [ $i -lt 2000 ]; do echo line $i >&2; i=$((i+1)); done" };
		pipeline(&p, st, c, 1);
		spawn_last_line(&st[0].ring, buf, sizeof buf);
		ok(strcmp(buf, "line 1999") == 0 && st[0].ring.len == SPAWN_RING,
		    "stderr ring keeps the last bytes only");
		spawn_tail(&st[0].ring, buf, sizeof buf);
		ok(strncmp(buf, "line ", 5) == 0, "the tail starts at a whole line");
	}
	{
		const char *c[] = { "exec 2>/dev/null; sleep 30 & sleep 30; wait" };
		memset(st, 0, sizeof st[0]);
		st[0].name = "sleeper";
		st[0].argv = (char *[]){ (char *)"/bin/sh", (char *)"-c", (char *)c[0], NULL };
		memset(&p, 0, sizeof p);
		p.st = st, p.n = 1, p.in_fd = p.out_fd = p.cancel_fd = -1;
		p.timeout_ms = 300;
		rc = spawn_run(&p, &e);
		ok(rc < 0 && p.timed_out && st[0].signal == SIGTERM,
		    "a stage past its timeout is terminated");
		for (rc = 0; rc < 50 && group_alive(p.pgid) > 0; rc++)
			usleep(10000);
		ok(group_alive(p.pgid) == 0, "nothing is left alive in its group");
		ok(strstr(e.msg, "timed out after 1 s") != NULL, "the reason says timed out");
	}
	{
		const char *c[] = { "trap '' TERM; sleep 30" };
		memset(st, 0, sizeof st[0]);
		st[0].name = "stubborn";
		st[0].argv = (char *[]){ (char *)"/bin/sh", (char *)"-c", (char *)c[0], NULL };
		memset(&p, 0, sizeof p);
		p.st = st, p.n = 1, p.in_fd = p.out_fd = p.cancel_fd = -1;
		p.timeout_ms = 200, p.grace_ms = 200;
		rc = spawn_run(&p, &e);
		ok(rc < 0 && st[0].signal == SIGKILL, "one that ignores TERM gets KILL");
	}
	{
		int cp[2];
		const char *c[] = { "sleep 30" };

		(void)!pipe(cp);
		(void)!write(cp[1], "x", 1);
		memset(st, 0, sizeof st[0]);
		st[0].name = "sleep";
		st[0].argv = (char *[]){ (char *)"/bin/sh", (char *)"-c", (char *)c[0], NULL };
		memset(&p, 0, sizeof p);
		p.st = st, p.n = 1, p.in_fd = p.out_fd = -1, p.cancel_fd = cp[0];
		rc = spawn_run(&p, &e);
		ok(rc < 0 && p.cancelled && st[0].signal == SIGTERM,
		    "a readable cancel descriptor stops the stages");
		close(cp[0]);
		close(cp[1]);
	}
	{
		/* pass_as: one descriptor of ours, at the number asked, beside the commit. */
		const char *c[] = { "read x <&4 && test \"$x\" = settings && read y <&3",
			"if (: <&4) 2>/dev/null; then exit 1; fi" };
		int sp[2];

		(void)!pipe(sp);
		(void)!write(sp[1], "settings\n", 9);
		close(sp[1]);
		fcntl(sp[0], F_SETFD, FD_CLOEXEC);
		memset(st, 0, sizeof st[0]);
		st[0].name = "passed";
		st[0].commit_fd = 3;
		st[0].pass_as = 4;
		st[0].pass_fd = sp[0];
		st[0].argv = (char *[]){ (char *)"/bin/sh", (char *)"-c", (char *)c[0], NULL };
		memset(&p, 0, sizeof p);
		p.st = st, p.n = 1, p.in_fd = p.out_fd = p.cancel_fd = -1;
		ok(spawn_run(&p, &e) == 0 && st[0].committed,
		    "pass_as: the child reads the caller's descriptor as 4, the commit on 3");
		ok(fcntl(sp[0], F_GETFD) >= 0, "...and the caller's descriptor stays open");
		st[0].pass_as = 0;
		st[0].commit_fd = 0;
		st[0].argv = (char *[]){ (char *)"/bin/sh", (char *)"-c", (char *)c[1], NULL };
		ok(spawn_run(&p, &e) == 0, "without pass_as the child has no descriptor 4");
		close(sp[0]);
	}
	w = spawn_which("sh", "/nonexistent:/bin");
	ok(w && strcmp(w, "/bin/sh") == 0, "spawn_which finds sh in PATH");
	free(w);
	ok(spawn_which("sh", "/nonexistent") == NULL && errno == ENOENT,
	    "spawn_which: not in PATH");

	ok(count_fds() == before, "every descriptor spawn opened is closed");
	unlink(path);
	snprintf(path, sizeof path, "%s/notexec", tmpl);
	unlink(path);
	rmdir(tmpl);
	printf("1..%d\n", n_test);
	return n_fail != 0;
}
