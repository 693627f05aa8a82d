/* report: pgbak-run's one line (or one JSON object) per database. */
#include <stdio.h>
#include <string.h>

#include "log.h"
#include "run.h"

static const char *const state_name[] = { "not run", "ok", "skipped", "failed" };

/* 1800 -> "30m", 5400 -> "1h30m", 2 -> "2s": the way timeouts are written. */
void
report_duration(long s, char *buf, size_t n)
{
	long h = s / 3600, m = s / 60 % 60, sec = s % 60;
	size_t k = 0;

	buf[0] = '\0';
	if (h)
		k += (size_t)snprintf(buf + k, n - k, "%ldh", h);
	if (m && k < n)
		k += (size_t)snprintf(buf + k, n - k, "%ldm", m);
	if ((sec || s == 0) && k < n)
		snprintf(buf + k, n - k, "%lds", sec);
}

/* Length of the valid UTF-8 sequence at s, 0 if it is not one. */
static size_t
utf8_len(const unsigned char *s)
{
	size_t n, i;
	unsigned long cp;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		n = 2, cp = s[0] & 0x1f;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		n = 3, cp = s[0] & 0x0f;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		n = 4, cp = s[0] & 0x07;
	else
		return 0;
	for (i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return n;
}

/* A JSON string: quotes, backslashes and controls escaped, bytes that are
 * not UTF-8 (a LATIN1 server message) replaced by U+FFFD. */
static void
json_str(FILE *f, const char *str)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t n;

	if (str == NULL) {
		fputs("null", f);
		return;
	}
	fputc('"', f);
	while (*s) {
		if (*s == '"' || *s == '\\') {
			fprintf(f, "\\%c", *s++);
		} else if (*s == '\n') {
			fputs("\\n", f), s++;
		} else if (*s == '\t') {
			fputs("\\t", f), s++;
		} else if (*s < 0x20 || *s == 0x7f) {
			fprintf(f, "\\u%04x", *s++);
		} else if ((n = utf8_len(s)) == 0) {
			fputs("\\ufffd", f), s++;
		} else {
			fwrite(s, 1, n, f);
			s += n;
		}
	}
	fputc('"', f);
}

void
report(FILE *f, const struct run_result *r, int json)
{
	double ratio = r->dump_bytes ? (double)r->gzip_bytes / (double)r->dump_bytes : 0;
	double mibs = r->seconds > 0 ? (double)r->dump_bytes / 1048576.0 / r->seconds : 0;
	const char *key = r->key ? r->key : r->db->database;

	if (json) {
		fputs("{\"database\":", f);
		json_str(f, r->db->database);
		fputs(",\"key\":", f);
		json_str(f, r->key);
		fputs(",\"status\":", f);
		json_str(f, state_name[r->state]);
		fputs(",\"reason\":", f);
		json_str(f, r->state == RUN_OK ? NULL : r->reason);
		fprintf(f, ",\"verified\":%s", r->verified ? "true" : "false");
		fprintf(f, ",\"dump_bytes\":%llu,\"gzip_bytes\":%llu,\"ratio\":%.4f,"
		    "\"seconds\":%.3f,\"mib_per_s\":%.2f}\n",
		    (unsigned long long)r->dump_bytes, (unsigned long long)r->gzip_bytes,
		    ratio, r->seconds, mibs);
	} else {
		fprintf(f, "%s: dump %llu B, gzip %llu B, ratio %.3f, %.2f s, %.2f MiB/s: %s",
		    key, (unsigned long long)r->dump_bytes, (unsigned long long)r->gzip_bytes,
		    ratio, r->seconds, mibs, state_name[r->state]);
		if (r->state == RUN_OK && r->verified)
			fputs(", verified", f);
		if (r->state == RUN_OK && r->checked > 0)
			fputs(", restore checked", f);
		if (r->state != RUN_OK && r->reason[0])
			fprintf(f, ": %s", r->reason);
		fputc('\n', f);
	}
	/* a summary that cannot be written stops no backup: main says so once */
	if (f == stdout)
		log_flush_stdout();
	else
		fflush(f);
}
