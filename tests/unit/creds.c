/*
 * creds: Expiration times as STS, IMDS and RGW write them, the shared
 * files' INI reading, and the chain's order and refresh over fake sources.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "creds.h"
#include "tap.h"

/* A fake source: what it answers, and how often it was asked. */
static struct fake {
	int answer;		/* 1, 0 or -1 */
	long long ttl;		/* 0: never expires; else expires now + ttl */
	const char *key;
	int asked;
} fa, fb, fc;

static int
fake(struct fake *f, struct creds *c, char *what, size_t wn, char *why, size_t yn,
    struct log_err *e, const char *name)
{
	f->asked++;
	if (f->answer == 0) {
		snprintf(why, yn, "%s unset", name);
		return 0;
	}
	if (f->answer < 0)
		return log_fail(e, EXIT_TEMP, "%s failed", name);
	memset(c, 0, sizeof *c);
	c->access_key = strdup(f->key);
	c->secret = strdup("secret");
	c->expires = f->ttl ? (long long)time(NULL) + f->ttl : 0;
	snprintf(what, wn, "%s", name);
	return 1;
}

#define FAKE(x) \
static int \
src_##x(const struct creds_src *in, struct creds *c, char *what, size_t wn, char *why, \
    size_t yn, struct log_err *e) \
{ \
	(void)in; \
	return fake(&f##x, c, what, wn, why, yn, e, "src " #x); \
}
FAKE(a)
FAKE(b)
FAKE(c)

static const struct creds_way three[] = {
	{ "src a", src_a, 0 }, { "src b", src_b, 1 }, { "src c", src_c, 0 },
};

static void
reset(void)
{
	fa = (struct fake){ 0, 0, "KEYA", 0 };
	fb = (struct fake){ 0, 0, "KEYB", 0 };
	fc = (struct fake){ 0, 0, "KEYC", 0 };
}

static void
test_time(void)
{
	ok(creds_time("1970-01-01T00:00:00Z") == 0, "the epoch");
	ok(creds_time("2026-11-30T17:09:11Z") == 1796058551LL, "STS's Z form");
	ok(creds_time("2026-11-30T17:09:11.464837+00:00") == 1796058551LL,
	    "RGW's fraction and +00:00");
	ok(creds_time("2026-11-30T18:09:11+01:00") == 1796058551LL, "an offset east");
	ok(creds_time("2026-11-30T16:09:11-0100") == 1796058551LL, "an offset west, no colon");
	ok(creds_time("2024-02-29T00:00:00Z") == 1709164800LL, "a leap day");
	ok(creds_time("2025-02-29T00:00:00Z") == -1, "not a leap year");
	ok(creds_time("2026-11-30T17:09:11") == -1, "no zone: refused");
	ok(creds_time("2026-11-30 17:09:11Z") == -1, "a space for T: refused");
	ok(creds_time("2026-13-01T00:00:00Z") == -1, "month 13");
	ok(creds_time("2026-11-30T24:00:00Z") == -1, "hour 24");
	ok(creds_time("2026-11-30T17:09:11Zjunk") == -1, "trailing bytes");
	ok(creds_time("2026-11-30T17:09:11.Z") == -1, "an empty fraction");
	ok(creds_time("") == -1 && creds_time(NULL) == -1, "empty and NULL");
}

static void
test_ini(void)
{
	const char *doc = "# comment\n[default]\naws_access_key_id = AKID1\n"
	    "aws_secret_access_key=sec ret \n\n[profile prod]\r\n"
	    "region = eu-west-1\r\ns3 =\n  region = nested-not-ours\n"
	    "credential_process = /bin/helper \"a b\"\n[ spaced ]\nk = v\n; x\n";
	char *v;

	v = creds_ini_value(doc, "default", "aws_access_key_id");
	ok(v && strcmp(v, "AKID1") == 0, "a key in [default]");
	free(v);
	v = creds_ini_value(doc, "default", "aws_secret_access_key");
	ok(v && strcmp(v, "sec ret") == 0, "blanks around the value trimmed, inside kept");
	free(v);
	v = creds_ini_value(doc, "profile prod", "region");
	ok(v && strcmp(v, "eu-west-1") == 0, "CRLF lines; [profile NAME]");
	free(v);
	v = creds_ini_value(doc, "profile prod", "credential_process");
	ok(v && strcmp(v, "/bin/helper \"a b\"") == 0, "a nested section's lines skipped");
	free(v);
	v = creds_ini_value(doc, "spaced", "k");
	ok(v && strcmp(v, "v") == 0, "[ spaced ] section name trimmed");
	free(v);
	ok(creds_ini_value(doc, "prod", "region") == NULL, "[prod] is not [profile prod]");
	ok(creds_ini_value(doc, "default", "region") == NULL, "a key of another section");
	ok(creds_ini_value("", "default", "x") == NULL, "an empty document");
}

static void
test_order(void)
{
	struct creds_src in = { "us-east-1", "p", 0, -1 };
	struct creds_settings st = { "SETKEY", "setsecret", NULL, "/etc/pgbak.yml" };
	struct creds_settings none = { NULL, NULL, NULL, "/etc/pgbak.yml" };
	struct creds_chain *ch;
	const struct creds *c;
	struct log_err e;

	reset();
	fa.answer = fb.answer = fc.answer = 1;
	ok(creds_open_ways(&ch, &st, &in, three, 3, &e) == 0, "settings and three sources");
	ok(creds_get(ch, &c, &e) == 0 && strcmp(c->access_key, "SETKEY") == 0 &&
	    strcmp(creds_source(ch), "settings") == 0, "the settings win");
	ok(fa.asked == 0 && fb.asked == 0, "...and no source is asked");
	creds_close(ch);

	reset();
	fb.answer = fc.answer = 1;
	ok(creds_open_ways(&ch, &none, &in, three, 3, &e) == 0, "no settings");
	ok(creds_get(ch, &c, &e) == 0 && strcmp(c->access_key, "KEYB") == 0 &&
	    strcmp(creds_source(ch), "src b") == 0, "the first source that yields wins");
	ok(fa.asked == 1 && fb.asked == 1 && fc.asked == 0, "...later ones are not asked");
	ok(creds_fetches(ch) == 1, "one fetch");
	creds_close(ch);

	reset();
	fa.answer = -1, fb.answer = 1;
	ok(creds_open_ways(&ch, &none, &in, three, 3, &e) == -1 && ch == NULL &&
	    strcmp(e.msg, "src a failed") == 0, "a failing source stops the chain");
	ok(fb.asked == 0, "...rather than fall through to another identity");

	reset();
	ok(creds_open_ways(&ch, &none, &in, three, 3, &e) == -1 && e.status == EXIT_USAGE,
	    "no source: EXIT_USAGE");
	is_str(e.msg, "no credentials: tried settings, src a (src a unset), "
	    "src b \"p\" (src b unset), src c (src c unset)", "...one line of what was tried");

	st.secret = NULL;
	ok(creds_open_ways(&ch, &st, &in, three, 3, &e) == -1 && e.status == EXIT_USAGE,
	    "access_key without access_secret: EXIT_USAGE");
	is_str(e.msg, "/etc/pgbak.yml: access_key is set but access_secret is not: set both "
	    "or neither", "...naming the file");
	st = (struct creds_settings){ NULL, NULL, "tok", NULL };
	ok(creds_open_ways(&ch, &st, &in, three, 3, &e) == -1 &&
	    strstr(e.msg, "session_token is set without") != NULL, "a lone session_token");
	st = (struct creds_settings){ "A B", "s", NULL, NULL };
	ok(creds_open_ways(&ch, &st, &in, three, 3, &e) == -1 &&
	    strstr(e.msg, "has a space") != NULL, "an access key with a space");
	st = (struct creds_settings){ "K", "S", "T", NULL };
	ok(creds_open_ways(&ch, &st, &in, three, 3, &e) == 0 && creds_get(ch, &c, &e) == 0 &&
	    strcmp(c->token, "T") == 0, "the settings' session_token is used");
	creds_close(ch);

	reset();
	fa.answer = 1, fa.ttl = -5;
	ok(creds_open_ways(&ch, &none, &in, three, 3, &e) == -1 &&
	    strstr(e.msg, "the credentials from src a expired at ") != NULL,
	    "credentials already expired when fetched: refused");
}

static void
test_refresh(void)
{
	struct creds_src in = { "us-east-1", "default", 0, -1 };
	struct creds_settings none = { NULL, NULL, NULL, NULL };
	struct creds_chain *ch;
	const struct creds *c;
	struct log_err e;
	long long until;
	int i;

	reset();
	fa.answer = 1;
	ok(creds_open_ways(&ch, &none, &in, three, 3, &e) == 0, "credentials that never expire");
	for (i = 0; i < 3; i++)
		creds_get(ch, &c, &e);
	ok(creds_fetches(ch) == 1 && fa.asked == 1, "...are fetched once");
	creds_close(ch);

	reset();
	fa.answer = 1, fa.ttl = 3600;
	creds_open_ways(&ch, &none, &in, three, 3, &e);
	creds_get(ch, &c, &e);
	ok(creds_fetches(ch) == 1, "an hour left: no refresh");
	creds_close(ch);

	reset();
	fa.answer = 1, fa.ttl = CREDS_REFRESH_S - 10;
	creds_open_ways(&ch, &none, &in, three, 3, &e);
	fa.key = "KEYA2";
	ok(creds_get(ch, &c, &e) == 0 && strcmp(c->access_key, "KEYA2") == 0,
	    "within CREDS_REFRESH_S of expiry: refreshed from the same source");
	ok(creds_fetches(ch) == 2 && fb.asked == 0, "...the second fetch, no other source");
	fa.answer = -1;
	ok(creds_get(ch, &c, &e) == 1 && strstr(e.msg, "unable to refresh the credentials from "
	    "src a, using the current ones until they expire: src a failed") != NULL,
	    "a failed refresh while valid: 1 with why, to warn");
	ok(c && strcmp(c->access_key, "KEYA2") == 0, "...and the old ones are kept");
	ok(creds_get(ch, &c, &e) == 0 && creds_fetches(ch) == 3,
	    "...not asked again at once, nor warned twice");
	creds_close(ch);

	reset();
	fa.answer = 1, fa.ttl = 1;
	ok(creds_open_ways(&ch, &none, &in, three, 3, &e) == 0, "a second left");
	until = (long long)time(NULL) + 1;
	while ((long long)time(NULL) <= until)	/* the clock, not a guess: until expiry */
		nanosleep(&(struct timespec){ 0, 50000000 }, NULL);
	fa.answer = -1;
	ok(creds_get(ch, &c, &e) == -1 && strstr(e.msg, "the credentials from src a expired "
	    "and could not be refreshed: src a failed") != NULL, "expired and not refreshable: -1");
	fa.answer = 1, fa.ttl = 3600, fa.key = "KEYA3";
	ok(creds_get(ch, &c, &e) == 0 && strcmp(c->access_key, "KEYA3") == 0,
	    "...the source recovering: refreshed at once (twin)");
	creds_close(ch);
}

int
main(void)
{
	test_time();
	test_ini();
	test_order();
	test_refresh();
	return tap_done();
}
