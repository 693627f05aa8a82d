/*
 * flatjson: the top-level string and number members of a JSON object, as
 * the credential sources return them (credential_process, the container
 * endpoint, IMDS): {"AccessKeyId": "...", "Expiration": "...", "Version": 1}.
 *
 * JSON is read with libyaml, whose flow style is a superset of the JSON
 * these endpoints send, rather than with a parser written here.  Nested
 * objects and arrays are skipped, not returned.
 */
#ifndef PGBAK_FLATJSON_H
#define PGBAK_FLATJSON_H

#include <stddef.h>

struct flatjson {
	size_t n;
	char **name;
	char **value;		/* values are wiped when freed: they may be secrets */
};

/* Parse doc[0..len).  0, or -1 when it is not a JSON object (or on ENOMEM). */
int flatjson_parse(struct flatjson *j, const char *doc, size_t len);

/* The value of member name, or NULL. */
const char *flatjson_get(const struct flatjson *j, const char *name);

void flatjson_free(struct flatjson *j);

#endif
