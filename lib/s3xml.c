/* s3xml: S3's XML replies read with libexpat (see s3xml.h). */
#include <stdint.h>
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

int
s3xml_parse(const char *doc, size_t len, s3xml_fn *fn, void *ctx)
{
	struct state *st;
	int ok;

	if (len > (size_t)INT32_MAX || (st = calloc(1, sizeof *st)) == NULL)
		return -1;
	if ((st->p = XML_ParserCreate(NULL)) == NULL) {
		free(st);
		return -1;
	}
	st->fn = fn;
	st->ctx = ctx;
	XML_SetUserData(st->p, st);
	XML_SetElementHandler(st->p, on_start, on_end);
	XML_SetCharacterDataHandler(st->p, on_text);
	ok = XML_Parse(st->p, doc, (int)len, XML_TRUE) == XML_STATUS_OK && !st->bad;
	XML_ParserFree(st->p);
	free(st);
	return ok ? 0 : -1;
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
