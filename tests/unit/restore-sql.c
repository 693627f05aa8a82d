/*
 * Unit tests of what pgbak-restore puts into SQL (pgbak-restore/sql.c):
 * quoting, and the names it takes out of a dump's COPY and setval lines to
 * put back into its count queries.  A name that is not exactly an
 * identifier chain or a plain literal must not be taken, so that a hostile
 * dump cannot smuggle SQL into the check's queries.
 */
#include <string.h>

#include "../../pgbak-restore/restore.h"
#include "tap.h"

/* sql_name over the whole of s: its length, or 0. */
static size_t
name(const char *s)
{
	return sql_name(s, strlen(s));
}

static size_t
lit(const char *s)
{
	return sql_literal_len(s, strlen(s));
}

int
main(void)
{
	char out[64];

	ok(sql_ident(out, sizeof out, "a\"b") == 0 && strcmp(out, "\"a\"\"b\"") == 0,
	    "sql_ident doubles a double quote");
	ok(sql_literal(out, sizeof out, "it's") == 0 && strcmp(out, "'it''s'") == 0,
	    "sql_literal doubles a single quote");
	ok(sql_ident(out, 6, "abcdef") < 0, "sql_ident: too small a buffer is an error");

	ok(name("public.orders") == 13, "a plain qualified name");
	ok(name("public.\"Line Items\"") == 19, "a quoted table name");
	ok(name("\"a\"\"b\".\"c.d\"") == 12, "doubled quotes and a dot inside quotes");
	ok(name("public.orders (id, note) FROM stdin;") == 13,
	    "the name ends where the column list starts");
	ok(name("t;") == 1, "...and before a semicolon: the query gets only \"t\"");
	ok(name("public.\"x") == 0, "an unterminated quoted name is none");
	ok(name("\"\"") == 0, "an empty quoted name is none");
	ok(name("") == 0 && name(" t") == 0, "nothing, or a space first, is none");
	ok(name("t.") == 0, "a trailing dot makes no name");
	ok(name("schemä.tablé") == strlen("schemä.tablé"), "non-ASCII letters are plain");

	ok(lit("'public.s', 42, true);") == 10, "a literal ends at its closing quote");
	ok(lit("'public.\"n s\"', 7, true);") == 14, "double quotes inside a literal");
	ok(lit("'it''s', 1, true);") == 7, "a doubled single quote stays inside");
	ok(lit("'a\\'); DROP TABLE t; --', 1, true);") == 0, "a backslash: not taken");
	ok(lit("'unterminated") == 0 && lit("x'a'") == 0, "unterminated, or no quote first");
	return tap_done();
}
