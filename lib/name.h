/*
 * name: the object key and local file name of one day's backup, from the
 * backup_file_prefix and database of a settings entry (pgbak-name(1)).
 */
#ifndef PGBAK_NAME_H
#define PGBAK_NAME_H

#include "log.h"

/* Parse YYYYMMDD or YYYY-MM-DD into ymd ("20250909"); a date that does not
 * exist (20250230) is an EXIT_USAGE error. */
int name_date(const char *s, char ymd[9], struct log_err *e);

/* Today in local time (TZ honoured) as YYYYMMDD. */
void name_today(char ymd[9]);

/* Compute *key and *local (malloc'd, the caller frees) from prefix (NULL is
 * ""), database (NULL is "") and ymd.  A ".." segment is an EXIT_USAGE
 * error: a backup key must never climb. */
int name_make(const char *prefix, const char *database, const char *ymd,
    char **key, char **local, struct log_err *e);

/* What name_object names besides a database's plain dump; flags combine. */
#define NAME_GLOBALS 1		/* the cluster's roles: the basename becomes "globals" */
#define NAME_AGE 2		/* encrypted with age(1): ".gz.age" instead of ".gz" */
#define NAME_GLOBALS_BASE "globals"
#define NAME_AGE_SUFFIX ".age"

/* name_make with flags: the globals object of a database sits next to its
 * dump (same directory, basename "globals"), and an encrypted object's key
 * and local name end in ".gz.age".  name_make is name_object with 0. */
int name_object(const char *prefix, const char *database, const char *ymd, int flags,
    char **key, char **local, struct log_err *e);

#define NAME_LOCAL_MAX 255	/* NAME_MAX of common file systems */

/* Whether every directory and the file name of key fit a local file
 * system's NAME_MAX, as a key written under local_dir must; S3 has no
 * such limit. */
int name_local_ok(const char *key);

/* Whether s may be (part of) an object key: UTF-8 as S3 wants it (no
 * overlong forms, no surrogates) and no control characters. */
int name_key_ok(const char *s);

#endif
