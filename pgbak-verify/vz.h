/*
 * vz: pgbak-verify's check of a .zst backup, its bytes through zstd -d
 * (zstd.c) and the SQL that comes out through lib/verify's tail check.
 */
#ifndef PGBAK_VZ_H
#define PGBAK_VZ_H

#include <stddef.h>
#include <sys/types.h>

#include "log.h"
#include "verify.h"

struct vz {
	char *path;		/* the zstd program */
	pid_t pid;
	int in, out, err;	/* its stdin, stdout and stderr; -1 closed */
	char msg[512];		/* the last bytes of its stderr */
	size_t msglen;
	size_t nmagic;		/* bytes of the zstd magic seen at the start */
	int bad;		/* not zstd: v->why says so */
};

/* Start zstd -d -c -q.  0, or -1 with e (127 not found). */
int vz_start(struct vz *z, struct log_err *e);

/* The next n bytes of the object: 0 go on, 1 zstd stopped reading (damaged:
 * vz_end says how), -1 with e (could not talk to zstd). */
int vz_feed(struct vz *z, struct verify *v, const void *p, size_t n, struct log_err *e);

/* End of the object: 0 good, 1 damaged (v->why), -1 with e. */
int vz_end(struct vz *z, struct verify *v, struct log_err *e);

void vz_free(struct vz *z);

#endif
