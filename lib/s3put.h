/*
 * s3put: a stream, of any length, to exactly one S3 object, or to none
 * (pgbak-put's work).
 *
 * Input shorter than one part is one PUT; longer input is a multipart
 * upload whose parts (sized by s3plan) are sent `parallel` at a time, each
 * signed with its SHA-256 (and Content-MD5 where cfg->content_md5 wants
 * it), and retried by the one rule of s3xfer.  The object
 * appears only when the whole input was read, every part was stored, the
 * Complete was answered with a CompleteMultipartUploadResult (or a HEAD
 * shows exactly our parts there), and, with a commit fd, "commit" was
 * read.  On any failure or signal the multipart upload is aborted; if that
 * fails too, a warning says S3_UPLOAD_LEFT.  Memory is parallel x part
 * size, never the input.
 */
#ifndef PGBAK_S3PUT_H
#define PGBAK_S3PUT_H

#include <stdint.h>

#include "log.h"
#include "s3.h"

/* What was done so far, for a progress display. */
struct s3put_progress {
	uint64_t bytes_read, bytes_sent;
	int parts;		/* parts begun */
	long long ms;		/* since the upload began */
};

struct s3put_opts {
	const char *key;
	int commit_fd;		/* -1: no handshake */
	int has_expected;
	uint64_t expected;	/* --expected-size */
	int if_absent;
	int wake_fd;		/* readable when a signal arrived (set s3_stop too) */
	/* For -v, each NULL for nothing: about once a second, the progress;
	 * a line about a part, a retry, the object stored; NULL before the
	 * writer stops (a warning may follow). */
	void (*tick)(void *ctx, const struct s3put_progress *p);
	void (*note)(void *ctx, const char *line);
	void *ctx;
};

/* Read standard input to EOF and store it under o->key.  EXIT_OK, EXIT_NO
 * (the key exists and o->if_absent), or -1 with e; on -1 nothing was
 * published and the multipart upload, if one was started, is aborted. */
int s3put_upload(struct s3 *s, const struct s3put_opts *o, struct log_err *e);

#endif
