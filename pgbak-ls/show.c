/*
 * show: the listing printed, a line per backup: columns for people, or one
 * JSON object per line for programs (jq, a restore script).
 */
#include <stdio.h>
#include <string.h>

#include "ls.h"
#include "name.h"

/* s as a JSON string: quotes, backslashes and control characters escaped;
 * the rest (UTF-8, as name_parse took it) as it is. */
static void
json_str(const char *s)
{
	putchar('"');
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			printf("\\%c", c);
		else if (c < 0x20 || c == 0x7f)
			printf("\\u%04x", c);
		else
			putchar(c);
	}
	putchar('"');
}

/* YYYYMMDD as YYYY-MM-DD. */
static void
day(const char *ymd, char out[11])
{
	snprintf(out, 11, "%.4s-%.2s-%.2s", ymd, ymd + 4, ymd + 6);
}

static void
line_text(const struct ls_entry *en, int lock, const char *until)
{
	char d[11];

	day(en->date, d);
	printf("%s  %12llu  %-5s  %-7s  ", d, (unsigned long long)en->size,
	    en->flags & NAME_AGE ? "age" : "plain", en->flags & NAME_GLOBALS ? "globals" : "dump");
	if (lock)
		printf("%-12s  %-24s  ", *en->storage_class ? en->storage_class : "-",
		    *until ? until : "-");
	printf("%s\n", en->key);
}

static void
line_json(const struct ls_entry *en, int lock, const char *until)
{
	char d[11];

	day(en->date, d);
	fputs("{\"key\":", stdout);
	json_str(en->key);
	printf(",\"date\":\"%s\",\"size\":%llu,\"encrypted\":%s,\"globals\":%s,"
	    "\"format\":\"%s\",\"last_modified\":", d, (unsigned long long)en->size,
	    en->flags & NAME_AGE ? "true" : "false", en->flags & NAME_GLOBALS ? "true" : "false",
	    en->flags & NAME_CUSTOM ? "custom" : en->flags & NAME_DIR ? "directory" : "plain");
	json_str(en->modified);
	if (lock) {
		fputs(",\"storage_class\":", stdout);
		json_str(en->storage_class);
		fputs(",\"lock_until\":", stdout);
		if (*until)
			json_str(until);
		else
			fputs("null", stdout);
	}
	fputs("}\n", stdout);
}

int
ls_show(struct s3 *c, const struct ls_set *s, enum ls_format f, int lock, struct log_err *e)
{
	const struct ls_entry *en;
	size_t i;
	int rc;

	for (i = 0; i < s->n; i++) {
		en = s->v[i];
		if (lock && (rc = s3_head(c, en->key, e)) <= 0) {
			if (rc < 0)
				return -1;
			/* deleted since it was listed (pgbak-prune): not a backup any more */
			info("%s: gone since it was listed", en->key);
			continue;
		}
		if (f == LS_JSON)
			line_json(en, lock, lock ? c->x.resp.lock_until : "");
		else
			line_text(en, lock, lock ? c->x.resp.lock_until : "");
	}
	return 0;
}
