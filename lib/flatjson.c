/* flatjson: a JSON object's top-level members, read with libyaml (see flatjson.h). */
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <yaml.h>

#include "flatjson.h"

#define MEMBERS_MAX 256		/* more is not a credentials document */

static int
add(struct flatjson *j, const char *name, const char *value)
{
	char **nn, **vv;

	if (j->n == MEMBERS_MAX)
		return -1;
	if ((nn = realloc(j->name, (j->n + 1) * sizeof *nn)) == NULL)
		return -1;
	j->name = nn;
	if ((vv = realloc(j->value, (j->n + 1) * sizeof *vv)) == NULL)
		return -1;
	j->value = vv;
	if ((j->name[j->n] = strdup(name)) == NULL)
		return -1;
	if ((j->value[j->n] = strdup(value)) == NULL) {
		free(j->name[j->n]);
		return -1;
	}
	j->n++;
	return 0;
}

int
flatjson_parse(struct flatjson *j, const char *doc, size_t len)
{
	yaml_parser_t p;
	yaml_event_t ev;
	int depth = 0, ok = -1, done = 0, want_name = 1;
	char *name = NULL;

	memset(j, 0, sizeof *j);
	if (!yaml_parser_initialize(&p))
		return -1;
	yaml_parser_set_input_string(&p, (const unsigned char *)doc, len);
	while (!done) {
		if (!yaml_parser_parse(&p, &ev))
			break;
		switch (ev.type) {
		case YAML_STREAM_END_EVENT:
			done = 1;
			break;
		case YAML_MAPPING_START_EVENT:
		case YAML_SEQUENCE_START_EVENT:
			if (depth == 0 && ev.type != YAML_MAPPING_START_EVENT)
				done = 1;	/* not an object */
			else if (depth == 1)
				want_name = 1, free(name), name = NULL; /* a nested value, skipped */
			depth++;
			break;
		case YAML_MAPPING_END_EVENT:
		case YAML_SEQUENCE_END_EVENT:
			if (--depth == 0)
				ok = 0, done = 1;
			break;
		case YAML_SCALAR_EVENT:
			if (depth != 1)
				break;	/* a document that is one scalar ends with ok < 0 */
			if (want_name) {
				if ((name = strdup((const char *)ev.data.scalar.value)) == NULL)
					done = 1;
				want_name = 0;
			} else {
				if (add(j, name, (const char *)ev.data.scalar.value) < 0)
					done = 1;
				free(name);
				name = NULL;
				want_name = 1;
			}
			break;
		case YAML_ALIAS_EVENT:
			done = 1;	/* not JSON */
			break;
		default:
			break;
		}
		yaml_event_delete(&ev);
	}
	free(name);
	yaml_parser_delete(&p);
	if (ok < 0)
		flatjson_free(j);
	return ok;
}

const char *
flatjson_get(const struct flatjson *j, const char *name)
{
	for (size_t i = 0; i < j->n; i++)
		if (strcmp(j->name[i], name) == 0)
			return j->value[i];
	return NULL;
}

void
flatjson_free(struct flatjson *j)
{
	for (size_t i = 0; i < j->n; i++) {
		free(j->name[i]);
		OPENSSL_cleanse(j->value[i], strlen(j->value[i]));
		free(j->value[i]);
	}
	free(j->name);
	free(j->value);
	memset(j, 0, sizeof *j);
}
