/*
 * s3get: one S3 object, whole, into a sink (pgbak-get's standard output,
 * pgbak-verify's checker).
 *
 * A download that silently stops early must not look complete, so the
 * bytes given to the sink are counted against Content-Length, and a
 * connection that breaks mid-body is resumed with a Range request from the
 * first byte not yet given, after checking that the answer is the same
 * object (ETag) and starts at that byte.  "Absent" is told apart from
 * "could not fetch".
 */
#ifndef PGBAK_S3GET_H
#define PGBAK_S3GET_H

#include <stdint.h>

#include "log.h"
#include "s3.h"

#define S3_GET_RESUMES 1000	/* Range requests after broken connections (each made progress) */

struct s3_get {
	/* Set by the caller. */
	s3_sink_fn *sink;	/* takes the body in order; -1 with errno ends the download */
	void *sink_ctx;
	const char *sink_name;	/* for "unable to write OBJECT to NAME"; NULL: "its reader" */
	/* Told why and where a broken transfer resumes (for -v); NULL: nothing. */
	void (*resumed)(void *ctx, const char *why, uint64_t at);

	/* Results. */
	uint64_t written;	/* bytes the sink took */
	uint64_t total;		/* the object's length, when have_total */
	int have_total;

	/* Private. */
	struct s3 *s;
	char etag[128];
	int checked;		/* this answer's headers were checked */
	int changed;		/* ...and do not continue what was written */
};

/* Download key into g->sink.  0 all of it, 1 absent (the bucket exists;
 * nothing was given to the sink), -1 failed (e, EXIT_TEMP), a failing sink
 * included; g->written says how far it got. */
int s3_get(struct s3 *s, const char *key, struct s3_get *g, struct log_err *e);

#define S3_GET_PARALLEL_MAX 64	/* ranges in flight at the most */

/* s3_get with up to parallel ranged GETs of s->cfg->get_range bytes in
 * flight (lib/s3pget), given to g->sink in order; memory at most
 * min(parallel, S3_GET_BUFFERS) x get_range.  An object of one range or
 * less is one GET; parallel 1 is s3_get; a first byte sooner than
 * s->cfg->get_latency ms and a first range faster than get_stream_mibs
 * make the rest one more GET.  The same results as s3_get's. */
int s3_get_ranges(struct s3 *s, const char *key, struct s3_get *g, int parallel,
    struct log_err *e);

#endif
