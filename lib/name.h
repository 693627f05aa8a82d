/*
 * name: the object key and local file name of one day's backup, from the
 * backup_file_prefix and database of a settings entry (pgbak-name(1)).
 */
#ifndef PGBAK_NAME_H
#define PGBAK_NAME_H

#include <stddef.h>

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
#define NAME_ZSTD 4		/* compressed with zstd(1): ".zst" instead of ".gz" */
#define NAME_RAW 8		/* not compressed (compression: none): ".sql" instead of ".gz" */
#define NAME_CUSTOM 16		/* format: custom (pg_dump -Fc): ".dump" before ".gz", ".zst" */
#define NAME_DIR 32		/* format: directory (pg_dump -Fd), as a tar: ".tar" before them */
/* What the suffix says besides ".age": the format and its compression. */
#define NAME_FORMATS (NAME_CUSTOM | NAME_DIR)
#define NAME_KINDS (NAME_ZSTD | NAME_RAW | NAME_FORMATS)
#define NAME_GLOBALS_BASE "globals"
#define NAME_AGE_SUFFIX ".age"

/* The format and compression suffix of flags, without ".age": ".gz" (0),
 * ".zst" (NAME_ZSTD) or ".sql" (NAME_RAW) for a plain dump; ".dump.gz",
 * ".dump.zst", ".dump" with NAME_CUSTOM; ".tar.gz", ".tar.zst", ".tar" with
 * NAME_DIR.  The one place that spells them. */
const char *name_suffix(int flags);

/* name_make with flags: the globals object of a database sits next to its
 * dump (same directory, basename "globals"), and an encrypted object's key
 * and local name end in ".gz.age".  name_make is name_object with 0. */
int name_object(const char *prefix, const char *database, const char *ymd, int flags,
    char **key, char **local, struct log_err *e);

/* The parts of a key name_object makes, DIR/BASE-YYYYMMDD.gz[.age] (or .zst,
 * .sql for the other compressions, .dump.* and .tar.* for the other
 * formats): offsets into the key. */
struct name_parts {
	size_t dir;		/* bytes of "DIR/" (0: no directory) */
	size_t stem;		/* bytes of "DIR/BASE-": where the date starts */
	size_t suffix;		/* where ".gz" (".zst", ".dump.zst"...) starts: stem + 8 */
	char ymd[9];		/* the date: eight digits, as name_object takes them */
	int flags;		/* NAME_AGE for .age; NAME_ZSTD for .zst, NAME_RAW for .sql;
				 * NAME_CUSTOM for .dump*, NAME_DIR for .tar*;
				 * NAME_GLOBALS when BASE is "globals" */
};

/*
 * Split key into its parts, the inverse of name_object: 0 when a prefix, a
 * database and flags make exactly key with the date p->ymd, else -1
 * (EXIT_USAGE) with e.  On -1, p->stem is not 0 when key ends like a
 * backup's ("-YYYYMMDD" and a suffix of name_suffix, perhaps with ".age") but is not spelled as
 * name_object spells it ("a//b-20250909.gz"); e says how it would be.
 * BASE "globals" is also the dump of a database named globals under a
 * directory-like prefix: pgbak-run refuses settings where both exist.
 * Whether the date is a day is the caller's question (name_date).
 */
int name_parse(const char *key, struct name_parts *p, struct log_err *e);

/* The stem every day's key of a series shares, "DIR/BASE-" (malloc'd into
 * *stem): name_object's key for prefix, database and flags, cut where the
 * date starts.  A listing under it holds the series and perhaps more, which
 * name_parse sorts out (p.stem must be the stem's length). */
int name_stem(const char *prefix, const char *database, int flags, char **stem,
    struct log_err *e);

#define NAME_LOCAL_MAX 255	/* NAME_MAX of common file systems */

/* Whether every directory and the file name of key fit a local file
 * system's NAME_MAX, as a key written under local_dir must; S3 has no
 * such limit. */
int name_local_ok(const char *key);

/* Whether s may be (part of) an object key: UTF-8 as S3 wants it (no
 * overlong forms, no surrogates) and no control characters. */
int name_key_ok(const char *s);

#endif
