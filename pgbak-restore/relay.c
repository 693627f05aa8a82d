/*
 * relay: the stage between gzip -d and psql (pgbak-restore --relay), run as
 * a child of its own so that spawn blames it like any other stage.  It
 * copies the SQL unchanged, in RELAY_BUF pieces, and on the way:
 *   - counts the rows of each COPY ... FROM stdin; block (one line a row:
 *     COPY's text format escapes newlines) and the large objects the dump
 *     creates, notes the value each setval gives a sequence, and writes
 *     them to --count-fd, one line each, as the blocks end: memory stays
 *     fixed however large the dump (RELAY_HEAD bytes of a line and its last
 *     16 are kept to recognise it, never a whole row);
 *   - fails when the dump is not whole: a COPY block still open at the end
 *     (cut short, even when pg_dump's completion line follows) or no
 *     completion line at the end (lib/verify's rule, as pgbak-verify);
 *   - with --globals, turns "CREATE ROLE name;" into a DO block that
 *     tolerates duplicate_object: a role that already exists is the one
 *     error a globals restore expects, and psql keeps ON_ERROR_STOP for
 *     every other;
 *   - with --progress, shows the SQL bytes so far on stderr (a terminal).
 * Count lines: "T ROWS NAME" a table, "L N" large objects, "S VALUE t|f
 * 'NAME'" a sequence set (called or not), "C ROWS NAME" a block cut short;
 * tab-separated.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "restore.h"
#include "verify.h"

#define RELAY_BUF (256 * 1024)
#define RELAY_HEAD 1024		/* bytes of a line kept to recognise it */

#define COPY_HEAD "COPY "
#define COPY_TAIL " FROM stdin;"
#define LO_CREATE "SELECT pg_catalog.lo_create("
#define SETVAL "SELECT pg_catalog.setval("
#define CREATE_ROLE "CREATE ROLE "
#define ROLE_QUOTE "$pgbak_role$"

struct relay {
	FILE *counts;		/* NULL: no counting */
	int globals, progress;
	int in_copy;
	uint64_t rows, los, bytes;
	char table[RELAY_HEAD];
	char head[RELAY_HEAD + 1];
	size_t hlen;
	int long_line;		/* the line had more than RELAY_HEAD bytes */
	char ltail[16];		/* the line's last bytes, for a long COPY line's end */
	size_t ltail_len;
	char tail[VERIFY_TAIL];
	size_t tail_len;
	double shown;
	char out[RELAY_HEAD * 2 + 128]; /* a rewritten role line */
	size_t out_len;
};

static int
starts(const char *s, size_t n, const char *p)
{
	size_t k = strlen(p);

	return n >= k && memcmp(s, p, k) == 0;
}

/* pg_dump's "SELECT pg_catalog.setval('NAME', VALUE, CALLED);" after its
 * prefix: "S VALUE t|f 'NAME'" to the counts; anything else is passed by. */
static void
setval_line(struct relay *r, const char *s, size_t n)
{
	size_t lit = sql_literal_len(s, n), k;
	const char *p = s + lit, *end = s + n;
	char value[24];

	if (lit == 0 || end - p < 2 || memcmp(p, ", ", 2) != 0)
		return;
	p += 2;
	for (k = 0; p < end && k + 1 < sizeof value && (*p == '-' || (*p >= '0' && *p <= '9'));
	    p++)
		value[k++] = *p;
	value[k] = '\0';
	if (k == 0)
		return;
	if (end - p == 8 && memcmp(p, ", true);", 8) == 0)
		fprintf(r->counts, "S\t%s\tt\t%.*s\n", value, (int)lit, s);
	else if (end - p == 9 && memcmp(p, ", false);", 9) == 0)
		fprintf(r->counts, "S\t%s\tf\t%.*s\n", value, (int)lit, s);
}

/* A whole line (without its newline) seen outside a COPY block. */
static void
line_sql(struct relay *r, const char *s, size_t n)
{
	size_t k, t = strlen(COPY_TAIL);

	/* a COPY line may be longer than head (many columns): its end is in ltail */
	if (starts(s, n, COPY_HEAD) && r->ltail_len >= t &&
	    memcmp(r->ltail + r->ltail_len - t, COPY_TAIL, t) == 0 &&
	    (k = sql_name(s + 5, n - 5)) > 0 && 5 + k < n && k < sizeof r->table &&
	    s[5 + k] == ' ') {
		memcpy(r->table, s + 5, k);
		r->table[k] = '\0';
		r->in_copy = 1;
		r->rows = 0;
	} else if (r->long_line) {
		return;
	} else if (starts(s, n, LO_CREATE)) {
		r->los++;
	} else if (starts(s, n, SETVAL) && r->counts) {
		setval_line(r, s + strlen(SETVAL), n - strlen(SETVAL));
	}
}

/* With --globals: the line to send instead of s[0..n) (and its newline),
 * in r->out; 0 when it goes as it is. */
static int
role_line(struct relay *r, const char *s, size_t n)
{
	size_t k = strlen(CREATE_ROLE);

	if (!r->globals || r->long_line || !starts(s, n, CREATE_ROLE) || n < k + 2 ||
	    s[n - 1] != ';' || sql_name(s + k, n - k - 1) != n - k - 1 ||
	    memchr(s, '$', n) != NULL)
		return 0;
	r->out_len = (size_t)snprintf(r->out, sizeof r->out,
	    "DO " ROLE_QUOTE "BEGIN %.*s EXCEPTION WHEN duplicate_object THEN "
	    "RAISE NOTICE 'role already exists, kept as it is'; END" ROLE_QUOTE ";\n",
	    (int)n, s);
	return 1;
}

static int
put(const char *p, size_t n)
{
	ssize_t w;

	while (n > 0) {
		if ((w = write(1, p, n)) < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

static void
keep_tail(struct relay *r, const char *p, size_t n)
{
	if (n >= VERIFY_TAIL) {
		memcpy(r->tail, p + n - VERIFY_TAIL, VERIFY_TAIL);
		r->tail_len = VERIFY_TAIL;
		return;
	}
	if (r->tail_len + n > VERIFY_TAIL) {
		size_t drop = r->tail_len + n - VERIFY_TAIL;

		memmove(r->tail, r->tail + drop, r->tail_len - drop);
		r->tail_len -= drop;
	}
	memcpy(r->tail + r->tail_len, p, n);
	r->tail_len += n;
}

/* The end of the line held in head. */
static void
line_end(struct relay *r)
{
	if (r->in_copy) {
		if (r->hlen == 2 && r->head[0] == '\\' && r->head[1] == '.') {
			if (r->counts)
				fprintf(r->counts, "T\t%llu\t%s\n", (unsigned long long)r->rows,
				    r->table);
			r->in_copy = 0;
		} else {
			r->rows++;
		}
	} else {
		line_sql(r, r->head, r->hlen);
	}
	r->hlen = 0;
	r->long_line = 0;
	r->ltail_len = 0;
}

/* Keep the last bytes of the line being gathered (p[0..n) its next part). */
static void
keep_ltail(struct relay *r, const char *p, size_t n)
{
	size_t keep;

	if (n >= sizeof r->ltail) {
		memcpy(r->ltail, p + n - sizeof r->ltail, sizeof r->ltail);
		r->ltail_len = sizeof r->ltail;
		return;
	}
	keep = sizeof r->ltail - n < r->ltail_len ? sizeof r->ltail - n : r->ltail_len;
	memmove(r->ltail, r->ltail + r->ltail_len - keep, keep);
	memcpy(r->ltail + keep, p, n);
	r->ltail_len = keep + n;
}

/*
 * Scan p[0..n) for lines, then send it.  A row of a COPY block that starts
 * and ends in this piece is counted in place; other lines are gathered in
 * head, up to RELAY_HEAD bytes.
 */
static int
relay_piece(struct relay *r, const char *p, size_t n)
{
	const char *end = p + n, *nl, *start = p;
	size_t k, seg;

	while (p < end) {
		nl = memchr(p, '\n', (size_t)(end - p));
		if (r->in_copy && r->hlen == 0 && !r->long_line && nl != NULL) {
			if (nl - p == 2 && p[0] == '\\' && p[1] == '.') {
				memcpy(r->head, p, 2);
				r->hlen = 2;
				line_end(r);
			} else {
				r->rows++;
			}
			p = nl + 1;
			continue;
		}
		seg = (size_t)((nl ? nl : end) - p);
		k = seg < RELAY_HEAD - r->hlen ? seg : RELAY_HEAD - r->hlen;
		memcpy(r->head + r->hlen, p, k);
		r->hlen += k;
		keep_ltail(r, p, seg);
		if (k < seg)
			r->long_line = 1;
		if (nl == NULL)
			break;
		line_end(r);
		p = nl + 1;
	}
	return put(start, n);
}

static void
show_progress(struct relay *r, int last)
{
	char b[32];
	double t = now_s();

	if (!r->progress || (!last && t - r->shown < 0.5))
		return;
	r->shown = t;
	human_bytes(r->bytes, b, sizeof b);
	if (last)
		fprintf(stderr, "\r%*s\r", 60, "");
	else
		fprintf(stderr, "\r%s: %s of SQL restored so far ", log_prog, b);
}

/* --globals: pg_dumpall's output is small (roles, tablespaces, settings),
 * taken a line at a time; a role line goes rewritten (role_line). */
static int
relay_globals(struct relay *r)
{
	char *line = NULL;
	size_t cap = 0, n;
	ssize_t got;
	int rc = 0;

	while (rc == 0 && (got = getline(&line, &cap, stdin)) > 0) {
		n = (size_t)got;
		r->bytes += n;
		keep_tail(r, line, n);
		r->long_line = n > RELAY_HEAD;
		if (role_line(r, line, n - (line[n - 1] == '\n')))
			rc = put(r->out, r->out_len);
		else
			rc = put(line, n);
	}
	if (ferror(stdin))
		rc = -1;
	free(line);
	return rc;
}

/* pgbak-restore --relay [--count-fd N] [--globals] [--progress]: fixed
 * words from pipe.c, never typed by people, so checked but not explained. */
int
relay_main(int argc, char **argv)
{
	static struct relay r;
	static char buf[RELAY_BUF];
	int count_fd = -1, globals = 0, progress = 0, i;
	ssize_t n;
	int rc = EXIT_OK;

	for (i = 2; i < argc; i++) {
		if (strcmp(argv[i], "--count-fd") == 0 && i + 1 < argc)
			count_fd = atoi(argv[++i]);
		else if (strcmp(argv[i], "--globals") == 0)
			globals = 1;
		else if (strcmp(argv[i], "--progress") == 0)
			progress = 1;
		else
			die(EXIT_USAGE, "--relay: unknown argument %s", argv[i]);
	}

	r.globals = globals;
	r.progress = progress;
	if (count_fd >= 0 && (r.counts = fdopen(count_fd, "w")) == NULL)
		die_sys(EXIT_TEMP, "unable to write the counts");
	if (globals && relay_globals(&r) < 0)
		die_sys(EXIT_TEMP, "unable to pass the SQL on to psql");
	for (; !globals;) {
		if ((n = read(0, buf, sizeof buf)) < 0) {
			if (errno == EINTR)
				continue;
			die_sys(EXIT_TEMP, "unable to read the SQL");
		}
		if (n == 0)
			break;
		r.bytes += (uint64_t)n;
		keep_tail(&r, buf, (size_t)n);
		if (relay_piece(&r, buf, (size_t)n) < 0)
			die_sys(EXIT_TEMP, "unable to pass the SQL on to psql");
		show_progress(&r, 0);
	}
	show_progress(&r, 1);
	if (r.hlen > 0 || r.long_line)
		line_end(&r);	/* a last line without its newline */
	if (r.counts)
		fprintf(r.counts, "L\t%llu\n", (unsigned long long)r.los);
	if (r.in_copy) {
		if (r.counts)
			fprintf(r.counts, "C\t%llu\t%s\n", (unsigned long long)r.rows, r.table);
		warn("the dump is cut short: the COPY block of %s has no end (\\.) after %llu "
		    "rows", r.table, (unsigned long long)r.rows);
		rc = EXIT_NO;
	} else if (!verify_sql_complete(r.tail, r.tail_len)) {
		warn("the dump is cut short: it does not end with pg_dump's completion line");
		rc = EXIT_NO;
	}
	if (r.counts && fclose(r.counts) != 0)
		die_sys(EXIT_TEMP, "unable to write the counts");
	return rc;
}
