/*
 * s3open: the start and the end every S3 program shares, so that each
 * main reads like its man page: options, s3_open, one call, s3_close and
 * the result.
 *
 * Starting is: the S3 flags (and --timeout) from getopt, the settings
 * (flags, file or --settings-fd, environment), the signals after which the
 * program cleans up and dies, the client.  Ending frees the client and the
 * settings, wiping the secret, and a program stopped by a signal dies by
 * that same signal, as its caller (pgbak-run, a shell) expects.
 */
#ifndef PGBAK_S3OPEN_H
#define PGBAK_S3OPEN_H

#include "log.h"
#include "s3.h"

/* The signals s3_open catches; each sets s3_stop, which ends the request in
 * flight, so the program can clean up and then die_by_signal(s3_stop). */
enum s3_catch {
	S3_CATCH_NONE,		/* the default actions stay */
	S3_CATCH_STOP,		/* SIGINT, SIGTERM, SIGHUP */
	S3_CATCH_ALL,		/* all of lib/sig's, without SA_RESTART, each also a
				 * byte on s3_wake_fd (a blocked read or poll must end) */
};

/* With S3_CATCH_ALL: the read end of a nonblocking pipe a signal writes to. */
extern int s3_wake_fd;

/* For a main's getopt_long default: branch: keep one of the S3 flags
 * (S3_FLAGS_LONG, S3_TIMEOUT_LONG) in f, or die as die_badopt(c, argv,
 * usage) does (and with e's message for a bad --timeout). */
void s3_flag(struct s3_flags *f, int c, char **argv, const char *usage);

/* Load cfg from f and keyarg (see s3_cfg_load), catch the signals, start s
 * with f->timeout.  0, or -1 with e and nothing to free. */
int s3_open(struct s3 *s, struct s3_cfg *cfg, const struct s3_flags *f, const char *keyarg,
    enum s3_catch sigs, struct log_err *e);

/* Free s and cfg, wiping the secret. */
void s3_close(struct s3 *s, struct s3_cfg *cfg);

/* The end of a failed S3 program: e's message, then death by the signal that
 * stopped it if one did, else exit with e's status (EXIT_TEMP when none). */
noreturn void s3_die(const struct log_err *e);

#endif
