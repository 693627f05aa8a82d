/* s3open: the start and end every S3 program shares (see s3open.h). */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "s3open.h"
#include "sig.h"

int s3_wake_fd = -1;
static int wake_w = -1;

static void
on_signal(int sig)
{
	int saved = errno;

	s3_stop = sig;
	if (wake_w >= 0 && write(wake_w, "", 1) < 0) {
		/* the pipe is full: a wake-up is already pending */
	}
	errno = saved;
}

static int
catch_signals(enum s3_catch sigs, struct log_err *e)
{
	static const int stop[] = { SIGINT, SIGTERM, SIGHUP };
	struct sigaction sa;
	int p[2];
	size_t i;

	if (sigs == S3_CATCH_STOP) {
		memset(&sa, 0, sizeof sa);
		sa.sa_handler = on_signal;
		sigemptyset(&sa.sa_mask);
		for (i = 0; i < sizeof stop / sizeof stop[0]; i++)
			sigaction(stop[i], &sa, NULL);
		return 0;
	}
	if (sigs != S3_CATCH_ALL)
		return 0;
	if (pipe(p) < 0)
		return log_fail_sys(e, EXIT_TEMP, "unable to create a pipe");
	for (i = 0; i < 2; i++) {
		fcntl(p[i], F_SETFD, FD_CLOEXEC);
		fcntl(p[i], F_SETFL, O_NONBLOCK);
	}
	s3_wake_fd = p[0];
	wake_w = p[1];
	/* no SA_RESTART: a blocked read must return */
	if (sig_catch(on_signal, 0) < 0)
		return log_fail_sys(e, EXIT_TEMP, "unable to catch the signals");
	return 0;
}

void
s3_flag(struct s3_flags *f, int c, char **argv, const char *usage)
{
	struct log_err e;

	if (c == S3_TIMEOUT_OPT) {
		if (s3_timeout_arg(optarg, &f->timeout, &e) < 0)
			die_err(&e);
		return;
	}
	if (c == ':' || !s3_flags_set(f, c, optarg))
		die_badopt(c, argv, usage);
}

/* The credential chain, resolved once here for every S3 program. */
static int
open_creds(struct s3 *s, const struct s3_cfg *cfg, struct log_err *e)
{
	const char *profile = getenv("AWS_PROFILE");
	struct creds_settings st = { cfg->access_key, cfg->secret, cfg->token, cfg->file };
	struct creds_src in = { .region = cfg->region, .profile = profile && *profile ? profile :
	    "default", .cancel_fd = s3_wake_fd };

	if (creds_open(&s->creds, &st, &in, e) < 0)
		return -1;
	info("credentials: %s", creds_source(s->creds));
	return 0;
}

int
s3_open(struct s3 *s, struct s3_cfg *cfg, const struct s3_flags *f, const char *keyarg,
    enum s3_catch sigs, struct log_err *e)
{
	if (s3_cfg_load(cfg, f, keyarg, e) < 0)
		return -1;
	if (catch_signals(sigs, e) < 0 || s3_init(s, cfg, e) < 0) {
		s3_cfg_free(cfg);	/* wipes the secret */
		return -1;
	}
	s3_set_timeout(s, f->timeout);
	if (open_creds(s, cfg, e) < 0) {
		s3_close(s, cfg);
		return -1;
	}
	return 0;
}

void
s3_close(struct s3 *s, struct s3_cfg *cfg)
{
	s3_free(s);
	s3_cfg_free(cfg);
}

void
s3_die(const struct log_err *e)
{
	warn("%s", e->msg);
	die_by_signal(s3_stop);
	exit(e->status ? e->status : EXIT_TEMP);
}
