/* s3xml: S3's XML replies read with libexpat (see s3xml.h). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <expat.h>

#include "s3xml.h"

#define PATH_MAX_LEN 512	/* S3 replies nest four deep; more is not a reply */
#define TEXT_MAX_LEN 8192	/* keys are at most 1024 bytes: longer text is cut */

struct state {
	XML_Parser p;
	s3xml_fn *fn;
	void *ctx;
	char path[PATH_MAX_LEN];
	size_t plen;
	char text[TEXT_MAX_LEN];
	size_t tlen;
	int bad;
};

static void XMLCALL
on_start(void *data, const XML_Char *name, const XML_Char **attr)
{
	struct state *st = data;
	size_t n = strlen(name);

	(void)attr;
	if (st->plen + n + 2 > sizeof st->path) {
		st->bad = 1;
		XML_StopParser(st->p, XML_FALSE);
		return;
	}
	if (st->plen)
		st->path[st->plen++] = '/';
	memcpy(st->path + st->plen, name, n + 1);
	st->plen += n;
	st->tlen = 0;
	st->text[0] = '\0';
}

static void XMLCALL
on_end(void *data, const XML_Char *name)
{
	struct state *st = data;
	char *slash;

	(void)name;
	st->fn(st->ctx, st->path, st->text);
	slash = strrchr(st->path, '/');
	st->plen = slash ? (size_t)(slash - st->path) : 0;
	st->path[st->plen] = '\0';
	st->tlen = 0;
	st->text[0] = '\0';
}

static void XMLCALL
on_text(void *data, const XML_Char *s, int len)
{
	struct state *st = data;
	size_t n = (size_t)len;

	if (n > sizeof st->text - 1 - st->tlen)
		n = sizeof st->text - 1 - st->tlen;
	memcpy(st->text + st->tlen, s, n);
	st->tlen += n;
	st->text[st->tlen] = '\0';
}

struct s3xml {
	struct state st;
	int started;		/* past the spaces before the document */
};

struct s3xml *
s3xml_new(s3xml_fn *fn, void *ctx)
{
	struct s3xml *x;

	if ((x = calloc(1, sizeof *x)) == NULL)
		return NULL;
	if ((x->st.p = XML_ParserCreate(NULL)) == NULL) {
		free(x);
		return NULL;
	}
	x->st.fn = fn;
	x->st.ctx = ctx;
	XML_SetUserData(x->st.p, &x->st);
	XML_SetElementHandler(x->st.p, on_start, on_end);
	XML_SetCharacterDataHandler(x->st.p, on_text);
	return x;
}

int
s3xml_feed(struct s3xml *x, const char *p, size_t n, int last)
{
	size_t k;

	/* S3 may send spaces to keep a slow Complete alive: before the declaration */
	while (!x->started && n > 0 && (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n'))
		p++, n--;
	if (n > 0)
		x->started = 1;
	do {
		k = n > (size_t)INT32_MAX ? (size_t)INT32_MAX : n;
		if (x->st.bad || XML_Parse(x->st.p, p, (int)k, last && k == n) != XML_STATUS_OK ||
		    x->st.bad) {
			x->st.bad = 1;
			return -1;
		}
		p += k;
		n -= k;
	} while (n > 0);
	return 0;
}

void
s3xml_free(struct s3xml *x)
{
	if (x == NULL)
		return;
	XML_ParserFree(x->st.p);
	free(x);
}

int
s3xml_parse(const char *doc, size_t len, s3xml_fn *fn, void *ctx)
{
	struct s3xml *x;
	int rc;

	if ((x = s3xml_new(fn, ctx)) == NULL)
		return -1;
	rc = s3xml_feed(x, doc, len, 1);
	s3xml_free(x);
	return rc;
}

struct get {
	const char *path;
	char *out;
	size_t cap;
	int found;
};

static void
get_fn(void *ctx, const char *path, const char *text)
{
	struct get *g = ctx;
	size_t n;

	if (g->found || strcmp(path, g->path) != 0)
		return;
	g->found = 1;
	n = strlen(text);
	if (n >= g->cap)
		n = g->cap - 1;
	memcpy(g->out, text, n);
	g->out[n] = '\0';
}

int
s3xml_get(const char *doc, size_t len, const char *path, char *out, size_t cap)
{
	struct get g = { path, out, cap, 0 };

	if (cap)
		out[0] = '\0';
	if (cap == 0 || s3xml_parse(doc, len, get_fn, &g) < 0)
		return -1;
	return g.found;
}

struct root {
	char *out;
	size_t cap;
};

/* The root element ends last: each end overwrites the one before. */
static void
root_fn(void *ctx, const char *path, const char *text)
{
	struct root *r = ctx;

	(void)text;
	if (strchr(path, '/') == NULL)
		snprintf(r->out, r->cap, "%s", path);
}

int
s3xml_root(const char *doc, size_t len, char *out, size_t cap)
{
	struct root r = { out, cap };

	if (cap == 0)
		return -1;
	out[0] = '\0';
	if (s3xml_parse(doc, len, root_fn, &r) < 0) {
		out[0] = '\0';
		return -1;
	}
	return 1;
}

char *
s3xml_escape(const char *s)
{
	char *out, *o;

	if ((out = malloc(6 * strlen(s) + 1)) == NULL)
		return NULL;
	for (o = out; *s; s++) {
		const char *rep = NULL;

		switch (*s) {
		case '&': rep = "&amp;"; break;
		case '<': rep = "&lt;"; break;
		case '>': rep = "&gt;"; break;
		case '"': rep = "&quot;"; break;
		case '\'': rep = "&apos;"; break;
		}
		if (rep) {
			strcpy(o, rep);
			o += strlen(rep);
		} else {
			*o++ = *s;
		}
	}
	*o = '\0';
	return out;
}
