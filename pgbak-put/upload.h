/* upload: pgbak-put's work: standard input to one object, or nothing at all. */
#ifndef PGBAK_PUT_UPLOAD_H
#define PGBAK_PUT_UPLOAD_H

#include <stdint.h>

#include "log.h"
#include "s3.h"

struct put_opts {
	const char *key;
	int commit_fd;		/* -1: no handshake */
	int has_expected;
	uint64_t expected;	/* --expected-size */
	int if_absent;
	int progress;		/* a live progress line on stderr */
	int wake_fd;		/* readable when a signal arrived (set s3_stop too) */
};

/* Read standard input to EOF and store it under o->key.  EXIT_OK, EXIT_NO
 * (the key exists and o->if_absent), or -1 with e; on -1 nothing was
 * published and the multipart upload, if one was started, is aborted. */
int put_upload(struct s3 *s, const struct put_opts *o, struct log_err *e);

/* Abort the multipart uploads of exactly key started more than age seconds
 * ago, and with any_date those of the same name and end on any other day
 * (put_dated); *count is how many.  0, or -1 with e. */
int put_abort_stale(struct s3 *s, const char *key, long age, int any_date, int *count,
    struct log_err *e);

/* The length of "DIR/NAME-" when key is one pgbak-run names, NAME-YYYYMMDD.gz
 * or NAME-YYYYMMDD.gz.age as lib/name spells it (name_parse), else 0. */
size_t put_dated(const char *key);

#endif
