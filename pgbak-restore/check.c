/*
 * check: pgbak-restore --check, the proof that a backup restores and holds
 * every row.  It restores into a scratch database, pgbak_check_DB_DATE, on
 * the entry's server or the restore_check server, with the relay counting
 * the rows of every COPY block on the way (fixed memory: the counts go to a
 * memfd, a line a table, never a map held in memory), the large objects,
 * and the value each setval gives a sequence.  Then one psql asks
 * count(*) of each table (and the rest) in the dump's order, and the
 * answers are compared line by line with the counts.  The gzip stream is whole (gzip
 * -d's status), the dump ends as pg_dump ends it and no COPY block was cut
 * short (the relay), psql ran with ON_ERROR_STOP and exited 0 (spawn).
 * The scratch database is dropped afterwards, on failure too, unless
 * --keep.  One line says how it went.
 */
#define _GNU_SOURCE 1		/* memfd_create */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "restore.h"

#define SCRATCH_PREFIX "pgbak_check_"
#define S(n) ((n) == 1 ? "" : "s")	/* "1 table", "2 tables" */
#define NAMEDATALEN_MAX 63	/* PostgreSQL's longest identifier, bytes */

/* pgbak_check_DB_YYYYMMDD, DB cut (at a UTF-8 boundary) to fit 63 bytes. */
static void
scratch_name(char *out, size_t n, const char *db, const char *ymd)
{
	size_t room = NAMEDATALEN_MAX - strlen(SCRATCH_PREFIX) - 1 - 8, k = strlen(db);

	if (k > room) {
		k = room;
		while (k > 0 && ((unsigned char)db[k] & 0xc0) == 0x80)
			k--;
	}
	snprintf(out, n, SCRATCH_PREFIX "%.*s_%s", (int)k, db, ymd);
}

/* What the comparison found. */
struct tally {
	uint64_t tables, rows, los, seqs;
	char first[1200];	/* the first mismatch, one line; "" none */
};

/* The fields of a counts line: its kind, a number, the rest. */
struct count_line {
	char kind;
	char *value, *called, *name;	/* "S": value, t|f, 'literal'; "T": rows, NULL, name */
};

static int
split(char *line, struct count_line *c)
{
	char *save = NULL;

	line[strcspn(line, "\n")] = '\0';
	memset(c, 0, sizeof *c);
	c->kind = line[0];
	if (line[0] == '\0' || line[1] != '\t')
		return -1;
	c->value = strtok_r(line + 2, "\t", &save);
	if (c->kind == 'S')
		c->called = strtok_r(NULL, "\t", &save);
	if (c->kind != 'L')
		c->name = strtok_r(NULL, "", &save);
	return c->value && (c->kind == 'L' || c->name) ? 0 : -1;
}

/* The queries for the counts in the relay's file: one SELECT a line, whose
 * one answer compare() reads; names only as sql.c recognised them. */
static int
write_queries(FILE *counts, FILE *q, struct log_err *e)
{
	struct count_line c;
	char *line = NULL;
	size_t cap = 0;
	int rc = 0;

	while (rc == 0 && getline(&line, &cap, counts) > 0) {
		if (split(line, &c) < 0)
			continue;
		if (c.kind == 'L') {
			fputs("SELECT count(*) FROM pg_catalog.pg_largeobject_metadata;\n", q);
		} else if (c.kind == 'T') {
			if (sql_name(c.name, strlen(c.name)) != strlen(c.name))
				rc = log_fail(e, EXIT_TEMP, "unexpected table name: %s", c.name);
			else
				fprintf(q, "SELECT count(*) FROM %s;\n", c.name);
		} else if (c.kind == 'S') {
			if (sql_literal_len(c.name, strlen(c.name)) != strlen(c.name))
				rc = log_fail(e, EXIT_TEMP, "unexpected sequence name: %s", c.name);
			else
				fprintf(q, "SELECT coalesce(pg_catalog.pg_sequence_last_value(%s::"
				    "pg_catalog.regclass)::text, 'not called');\n", c.name);
		}
	}
	free(line);
	if (rc == 0 && fflush(q) != 0)
		rc = log_fail_sys(e, EXIT_TEMP, "unable to write the queries");
	return rc;
}

/* A mismatch between c and psql's answer have, as the check's line. */
static void
mismatch(struct tally *t, const struct count_line *c, const char *have)
{
	char a[32], b[32];

	if (c->kind == 'S') {
		snprintf(t->first, sizeof t->first, "sequence %s: dump sets %s, restored %s",
		    c->name, *c->called == 't' ? c->value : "not called", have);
		return;
	}
	human_count(strtoull(c->value, NULL, 10), a, sizeof a);
	human_count(strtoull(have, NULL, 10), b, sizeof b);
	if (c->kind == 'L')
		snprintf(t->first, sizeof t->first, "large objects: dump has %s, restored %s", a,
		    b);
	else
		snprintf(t->first, sizeof t->first, "%s: dump has %s rows, restored %s", c->name,
		    a, b);
}

/* Walk the counts and psql's answers side by side. */
static int
compare(FILE *counts, FILE *got, struct tally *t, struct log_err *e)
{
	char *line = NULL, *ans = NULL;
	const char *want;
	size_t cap = 0, acap = 0;
	struct count_line c;

	while (getline(&line, &cap, counts) > 0) {
		if (split(line, &c) < 0 || (c.kind != 'T' && c.kind != 'L' && c.kind != 'S'))
			continue;
		if (getline(&ans, &acap, got) <= 0) {
			free(line), free(ans);
			return log_fail(e, EXIT_TEMP, "psql answered fewer counts than asked");
		}
		ans[strcspn(ans, "\n")] = '\0';
		want = c.value;
		if (c.kind == 'L')
			t->los = strtoull(c.value, NULL, 10);
		else if (c.kind == 'T')
			t->tables++, t->rows += strtoull(c.value, NULL, 10);
		else if (t->seqs++, *c.called != 't')
			want = "not called";
		if (strcmp(want, ans) != 0 && !t->first[0])
			mismatch(t, &c, ans);
	}
	free(line), free(ans);
	return 0;
}

static FILE *
reopen(int fd)
{
	int d = dup(fd);
	FILE *f;

	if (d < 0 || lseek(d, 0, SEEK_SET) < 0 || (f = fdopen(d, "r+")) == NULL) {
		if (d >= 0)
			close(d);
		return NULL;
	}
	return f;
}

/* Count in the scratch database what the relay counted in the dump. */
static int
count_all(const struct ctx *x, const char *db, int counts_fd, struct tally *t,
    struct log_err *e)
{
	FILE *counts = NULL, *q = NULL, *got = NULL;
	int qfd = memfd_create("pgbak-check-sql", MFD_CLOEXEC);
	int afd = memfd_create("pgbak-check-counts", MFD_CLOEXEC);
	int rc = -1;

	if (qfd < 0 || afd < 0) {
		log_fail_sys(e, EXIT_TEMP, "memfd_create");
		goto out;
	}
	if ((counts = reopen(counts_fd)) == NULL || (q = reopen(qfd)) == NULL) {
		log_fail_sys(e, EXIT_TEMP, "unable to read the counts");
		goto out;
	}
	if (write_queries(counts, q, e) < 0 || lseek(qfd, 0, SEEK_SET) < 0)
		goto out;
	if (psql_run(x, db, NULL, qfd, afd, "unable to count the rows", e) < 0)
		goto out;
	rewind(counts);
	if ((got = reopen(afd)) == NULL) {
		log_fail_sys(e, EXIT_TEMP, "unable to read the counts");
		goto out;
	}
	rc = compare(counts, got, t, e);
out:
	if (counts)
		fclose(counts);
	if (q)
		fclose(q);
	if (got)
		fclose(got);
	if (qfd >= 0)
		close(qfd);
	if (afd >= 0)
		close(afd);
	return rc;
}

int
check_run(struct ctx *x, const struct plan *p)
{
	struct ctx calm = *x;	/* for the drop: a signal does not cancel it */
	char db[128], b[32], tm[32], rows[32];
	struct outcome out;
	struct tally t;
	struct log_err e;
	int fd, rc = EXIT_OK;

	scratch_name(db, sizeof db, x->db->database, p->ymd);
	calm.cancel_fd = -1;
	if (x->o->dry_run) {
		target_show(stdout, x, db, 0);
		target_show(stdout, x, db, 1);
		pipe_show(stdout, x, p->key, db, 0, 1);
		target_show(stdout, x, db, 0);
		return log_stdout_done(EXIT_OK);
	}
	memset(&t, 0, sizeof t);
	/* a scratch database left by a check that was killed is ours to drop */
	if (target_drop(&calm, db, &e) < 0 || target_create(x, db, &e) < 0) {
		warn("check of %s: %s", p->key, e.msg);
		return EXIT_TEMP;
	}
	if ((fd = memfd_create("pgbak-check-dump", MFD_CLOEXEC)) < 0)
		die_sys(EXIT_TEMP, "memfd_create");
	if (pipe_restore(x, p->key, db, 0, fd, &out) < 0) {
		warn("check of %s failed: %s", p->key, out.why);
		rc = out.could_not_run ? EXIT_TEMP : EXIT_NO;
	} else if (count_all(x, db, fd, &t, &e) < 0) {
		warn("check of %s: %s", p->key, e.msg);
		rc = EXIT_TEMP;
	} else if (t.first[0]) {
		warn("check of %s: %s", p->key, t.first);
		rc = EXIT_NO;
	}
	close(fd);
	if (!x->o->keep && target_drop(&calm, db, &e) < 0) {
		warn("check of %s: %s", p->key, e.msg);
		if (rc == EXIT_OK)
			rc = EXIT_TEMP;
	} else if (x->o->keep) {
		info("the scratch database %s is kept (--keep)", db);
	}
	if (rc != EXIT_OK)
		return rc;
	human_bytes(out.got, b, sizeof b);
	human_time(out.seconds, tm, sizeof tm);
	human_count(t.rows, rows, sizeof rows);
	printf("ok: %llu table%s, %s row%s", (unsigned long long)t.tables, S(t.tables), rows,
	    S(t.rows));
	if (t.los)
		printf(", %llu large object%s", (unsigned long long)t.los, S(t.los));
	if (t.seqs)
		printf(", %llu sequence%s", (unsigned long long)t.seqs, S(t.seqs));
	printf(", %s in %s\n", b, tm);
	return log_stdout_done(EXIT_OK);
}
