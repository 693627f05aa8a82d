/* argv: a child's command line, built once (see argv.h). */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "argv.h"

void
argv_add(struct argv *a, const char *s)
{
	char **v;

	if (a->oom || s == NULL) {
		a->oom = 1;	/* a program not resolved: nothing to run */
		return;
	}
	if (a->n + 2 > a->cap) {
		if ((v = realloc(a->v, (a->cap + 8) * sizeof *v)) == NULL) {
			a->oom = 1;
			return;
		}
		a->v = v;
		a->cap += 8;
	}
	if ((a->v[a->n] = strdup(s)) == NULL) {
		a->oom = 1;
		return;
	}
	a->v[++a->n] = NULL;
}

void
argv_addf(struct argv *a, const char *fmt, ...)
{
	char buf[64];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	argv_add(a, buf);
}

int
argv_done(struct argv *a)
{
	if (!a->oom)
		return 0;
	argv_free(a);
	return -1;
}

void
argv_free(struct argv *a)
{
	size_t i;

	for (i = 0; i < a->n; i++)
		free(a->v[i]);
	free(a->v);
	memset(a, 0, sizeof *a);
}

void
argv_quote(FILE *f, const char *s)
{
	const char *ok = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_@%+=:,./-";

	if (*s && strspn(s, ok) == strlen(s)) {
		fputs(s, f);
		return;
	}
	fputc('\'', f);
	for (; *s; s++) {
		if (*s == '\'')
			fputs("'\\''", f);
		else
			fputc(*s, f);
	}
	fputc('\'', f);
}

void
argv_show(FILE *f, char *const *v)
{
	size_t i;

	for (i = 0; v[i]; i++) {
		if (i)
			fputc(' ', f);
		argv_quote(f, v[i]);
	}
}
