/* upload: what pgbak-put adds to lib/s3put: its -v lines, stale uploads. */
#ifndef PGBAK_PUT_UPLOAD_H
#define PGBAK_PUT_UPLOAD_H

#include <stdint.h>

#include "log.h"
#include "s3put.h"

/* Set o up to say on stderr what the upload does, for -v: a line for each
 * part and retry, and with progress a live progress line. */
void put_report(struct s3put_opts *o, int progress);

/* Abort the multipart uploads of exactly key started more than age seconds
 * ago, and with any_date those of the same name and end on any other day
 * (put_dated); *count is how many.  0, or -1 with e. */
int put_abort_stale(struct s3 *s, const char *key, long age, int any_date, int *count,
    struct log_err *e);

/* The length of "DIR/NAME-" when key is one pgbak-run names, NAME-YYYYMMDD.gz
 * or NAME-YYYYMMDD.gz.age as lib/name spells it (name_parse), else 0. */
size_t put_dated(const char *key);

#endif
