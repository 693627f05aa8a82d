/*
 * sql: what pgbak-restore writes into SQL, and what it reads out of a dump.
 * Names and values go into SQL only through these, quoted as the server
 * parses them (standard_conforming_strings is on since PostgreSQL 9.1).
 */
#include <string.h>

#include "restore.h"

/* s as a quoted identifier, "a""b"; -1 when out is too small. */
int
sql_ident(char *out, size_t n, const char *s)
{
	size_t k = 0;

	if (n < 3)
		return -1;
	out[k++] = '"';
	for (; *s; s++) {
		if (k + 4 > n)
			return -1;
		if (*s == '"')
			out[k++] = '"';
		out[k++] = *s;
	}
	out[k++] = '"';
	out[k] = '\0';
	return 0;
}

/* s as a string literal, 'a''b'; -1 when out is too small. */
int
sql_literal(char *out, size_t n, const char *s)
{
	size_t k = 0;

	if (n < 3)
		return -1;
	out[k++] = '\'';
	for (; *s; s++) {
		if (k + 4 > n)
			return -1;
		if (*s == '\'')
			out[k++] = '\'';
		out[k++] = *s;
	}
	out[k++] = '\'';
	out[k] = '\0';
	return 0;
}

static int
plain_char(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	    c == '_' || c == '$' || c >= 0x80;
}

/*
 * The length of the qualified name at the start of s[0..n), as pg_dump
 * writes it after COPY: identifiers, plain or double-quoted ("" inside),
 * joined by dots; 0 when s does not start with one.  Only such a name is
 * ever put back into a query (the counts), so a hostile dump cannot
 * smuggle SQL through it.
 */
size_t
sql_name(const char *s, size_t n)
{
	size_t i = 0, start;

	for (;;) {
		start = i;
		if (i < n && s[i] == '"') {
			for (i++;; i++) {
				if (i >= n || s[i] == '\0' || s[i] == '\n')
					return 0;
				if (s[i] == '"') {
					if (i + 1 < n && s[i + 1] == '"') {
						i++;
						continue;
					}
					break;
				}
			}
			i++;
			if (i - start < 3)
				return 0;	/* "" is no identifier */
		} else {
			while (i < n && plain_char((unsigned char)s[i]))
				i++;
			if (i == start)
				return 0;
		}
		if (i < n && s[i] == '.') {
			i++;
			continue;
		}
		return i;
	}
}

/* The length of the string literal at the start of s[0..n), '...' with ''
 * inside and no backslash (pg_dump's, standard_conforming_strings on); 0
 * when s does not start with one.  Only such a literal is put back into a
 * query (a sequence's name). */
size_t
sql_literal_len(const char *s, size_t n)
{
	size_t i;

	if (n < 2 || s[0] != '\'')
		return 0;
	for (i = 1; i < n; i++) {
		if (s[i] == '\\' || s[i] == '\0' || s[i] == '\n')
			return 0;
		if (s[i] == '\'') {
			if (i + 1 < n && s[i + 1] == '\'') {
				i++;
				continue;
			}
			return i + 1;
		}
	}
	return 0;
}
