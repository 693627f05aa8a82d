/* creds: the credential chain, its order and its refresh (see creds.h). */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>

#include "creds.h"
#include "hdrval.h"

#define TRIED_MAX 1024		/* the "no credentials: tried ..." line */
#define RETRY_S 10		/* after a failed refresh, while the old ones still hold */

/* The SDKs' order after the settings, which the chain tries first. */
static const struct creds_way ways[] = {
	{ "environment", creds_env, 0 },
	{ "web identity", creds_web_identity, 0 },
	{ "profile", creds_profile, 1 },
	{ "container", creds_container, 0 },
	{ "instance metadata", creds_imds, 0 },
};

struct creds_chain {
	creds_source_fn *fn;	/* the source that yielded; NULL: the settings */
	struct creds_src in;	/* as given to fn, with copies of its strings */
	char *region, *profile;
	struct creds cur;
	char what[256];
	int fetches;
	int warned;		/* a failed refresh was reported once */
	long long retry_at;	/* no new refresh before this, after one failed */
};

void
creds_wipe_str(char **s)
{
	if (*s) {
		OPENSSL_cleanse(*s, strlen(*s));
		free(*s);
		*s = NULL;
	}
}

void
creds_wipe(struct creds *c)
{
	creds_wipe_str(&c->secret);
	creds_wipe_str(&c->token);
	free(c->access_key);
	memset(c, 0, sizeof *c);
}

/* n digits at *p as a number, advancing *p; -1 if not n digits. */
static int
digits(const char **p, int n)
{
	int v = 0;

	for (; n > 0; n--, (*p)++) {
		if (!isdigit((unsigned char)**p))
			return -1;
		v = v * 10 + (**p - '0');
	}
	return v;
}

/* Days from 1970-01-01 to y-m-d in the proleptic Gregorian calendar. */
static long long
days_from_civil(long long y, int m, int d)
{
	long long era, yoe, doy;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	return era * 146097 + yoe * 365 + yoe / 4 - yoe / 100 + doy - 719468;
}

long long
creds_time(const char *iso)
{
	static const int mdays[] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	const char *p = iso;
	int y, mo, d, h, mi, s, oh = 0, om = 0, sign = 0, leap;

	if (p == NULL)
		return -1;
	if ((y = digits(&p, 4)) < 0 || *p++ != '-' || (mo = digits(&p, 2)) < 0 ||
	    *p++ != '-' || (d = digits(&p, 2)) < 0 || (*p != 'T' && *p != 't') ||
	    (p++, (h = digits(&p, 2)) < 0) || *p++ != ':' || (mi = digits(&p, 2)) < 0 ||
	    *p++ != ':' || (s = digits(&p, 2)) < 0)
		return -1;
	if (*p == '.') {
		if (!isdigit((unsigned char)*++p))
			return -1;
		while (isdigit((unsigned char)*p))
			p++;
	}
	if (*p == 'Z' || *p == 'z') {
		p++;
	} else if (*p == '+' || *p == '-') {
		sign = *p++ == '-' ? -1 : 1;
		if ((oh = digits(&p, 2)) < 0 || (*p == ':' && *++p == '\0') ||
		    (om = digits(&p, 2)) < 0 || oh > 23 || om > 59)
			return -1;
	} else {
		return -1;
	}
	leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
	if (*p != '\0' || mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1] ||
	    (mo == 2 && d == 29 && !leap) || h > 23 || mi > 59 || s > 60)
		return -1;
	return days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + s -
	    sign * (oh * 3600 + om * 60);
}

static int
dup_into(char **dst, const char *s)
{
	*dst = NULL;
	return s == NULL || (*dst = strdup(s)) != NULL ? 0 : -1;
}

int
creds_env(const struct creds_src *in, struct creds *c, char *what, size_t wn, char *why,
    size_t yn, struct log_err *e)
{
	const char *k = getenv("AWS_ACCESS_KEY_ID"), *s = getenv("AWS_SECRET_ACCESS_KEY");
	const char *t = getenv("AWS_SESSION_TOKEN");

	(void)in;
	snprintf(why, yn, "%s", "");
	if ((k == NULL || *k == '\0') && (s == NULL || *s == '\0'))
		return 0;
	if (k == NULL || *k == '\0' || s == NULL || *s == '\0')
		return log_fail(e, EXIT_USAGE, "%s is set but %s is not: set both or neither",
		    k && *k ? "AWS_ACCESS_KEY_ID" : "AWS_SECRET_ACCESS_KEY",
		    k && *k ? "AWS_SECRET_ACCESS_KEY" : "AWS_ACCESS_KEY_ID");
	memset(c, 0, sizeof *c);
	if (dup_into(&c->access_key, k) < 0 || dup_into(&c->secret, s) < 0 ||
	    dup_into(&c->token, t && *t ? t : NULL) < 0) {
		creds_wipe(c);
		return log_fail_sys(e, EXIT_TEMP, "unable to read the environment's credentials");
	}
	snprintf(what, wn, "environment");
	return 1;
}

static int
set(const char *s)
{
	return s && *s;
}

int
creds_settings_check(const struct creds_settings *st, struct log_err *e)
{
	const char *in = st->file ? st->file : "the settings";

	if (!set(st->access_key) && !set(st->secret))
		return set(st->token) ? log_fail(e, EXIT_USAGE, "%s: session_token is set "
		    "without access_key and access_secret", in) : 0;
	if (!set(st->access_key) || !set(st->secret))
		return log_fail(e, EXIT_USAGE, "%s: %s is set but %s is not: set both or neither",
		    in, set(st->secret) ? "access_secret" : "access_key",
		    set(st->secret) ? "access_key" : "access_secret");
	if (hdrval_unfit(st->access_key) || strchr(st->access_key, '/'))
		return log_fail(e, EXIT_USAGE, "the access key has a space, '/' or a control "
		    "character");
	return 1;
}

/* The settings as a source: all of access_key and access_secret, or none. */
static int
from_settings(const struct creds_settings *st, struct creds *c, struct log_err *e)
{
	int r;

	if (st == NULL || (r = creds_settings_check(st, e)) <= 0)
		return st == NULL ? 0 : r;
	memset(c, 0, sizeof *c);
	if (dup_into(&c->access_key, st->access_key) < 0 || dup_into(&c->secret, st->secret) <
	    0 || dup_into(&c->token, set(st->token) ? st->token : NULL) < 0) {
		creds_wipe(c);
		return log_fail_sys(e, EXIT_TEMP, "unable to read the settings' credentials");
	}
	return 1;
}

/* What every source must give, checked in one place: 0, or -1 with e. */
static int
usable(const struct creds *c, const char *what, long long now, struct log_err *e)
{
	char when[32];
	time_t t;
	struct tm tm;

	if (c->access_key == NULL || *c->access_key == '\0' || c->secret == NULL ||
	    *c->secret == '\0')
		return log_fail(e, EXIT_TEMP, "%s gave no access key or no secret", what);
	if (hdrval_unfit(c->access_key) || strchr(c->access_key, '/'))
		return log_fail(e, EXIT_USAGE, "the access key from %s has a space, '/' or a "
		    "control character", what);
	if (hdrval_unfit(c->secret) || (c->token && hdrval_unfit(c->token)))
		return log_fail(e, EXIT_USAGE, "the secret or session token from %s has a "
		    "space or a control character", what);
	if (c->expires && c->expires <= now) {
		t = (time_t)c->expires;
		gmtime_r(&t, &tm);
		strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm);
		return log_fail(e, EXIT_TEMP, "the credentials from %s expired at %s", what, when);
	}
	return 0;
}

/* Append "name" or "name (why)" to the tried list. */
static void
tried_add(char *buf, size_t n, const struct creds_way *w, const struct creds_src *in,
    const char *why)
{
	size_t o = strlen(buf);

	if (o >= n)
		return;
	o += (size_t)snprintf(buf + o, n - o, ", %s", w->name);
	if (w->named && o < n)
		o += (size_t)snprintf(buf + o, n - o, " \"%s\"", in->profile ? in->profile :
		    "default");
	if (*why && o < n)
		snprintf(buf + o, n - o, " (%s)", why);
}

int
creds_open_ways(struct creds_chain **out, const struct creds_settings *st,
    const struct creds_src *in, const struct creds_way *w, size_t nw, struct log_err *e)
{
	struct creds_chain *ch;
	char tried[TRIED_MAX] = "no credentials: tried settings", why[256];
	size_t i;
	int r;

	*out = NULL;
	if ((ch = calloc(1, sizeof *ch)) == NULL)
		return log_fail_sys(e, EXIT_TEMP, "unable to find the credentials");
	ch->in = *in;
	if (dup_into(&ch->region, in->region) < 0 || dup_into(&ch->profile, in->profile) < 0) {
		creds_close(ch);
		return log_fail_sys(e, EXIT_TEMP, "unable to find the credentials");
	}
	ch->in.region = ch->region, ch->in.profile = ch->profile;
	if ((r = from_settings(st, &ch->cur, e)) < 0) {
		creds_close(ch);
		return -1;
	}
	if (r == 1)
		snprintf(ch->what, sizeof ch->what, "settings");
	for (i = 0; r == 0 && i < nw; i++) {
		why[0] = '\0';
		r = w[i].fn(&ch->in, &ch->cur, ch->what, sizeof ch->what, why, sizeof why, e);
		if (r == 0)
			tried_add(tried, sizeof tried, &w[i], &ch->in, why);
		else if (r == 1)
			ch->fn = w[i].fn;
	}
	if (r < 0) {
		creds_wipe(&ch->cur);
		creds_close(ch);
		return -1;
	}
	if (r == 0) {
		creds_close(ch);
		return log_fail(e, EXIT_USAGE, "%s", tried);
	}
	ch->fetches = 1;
	if (usable(&ch->cur, ch->what, (long long)time(NULL), e) < 0) {
		creds_close(ch);
		return -1;
	}
	*out = ch;
	return 0;
}

int
creds_open(struct creds_chain **ch, const struct creds_settings *st,
    const struct creds_src *in, struct log_err *e)
{
	return creds_open_ways(ch, st, in, ways, sizeof ways / sizeof ways[0], e);
}

int
creds_get(struct creds_chain *ch, const struct creds **c, struct log_err *e)
{
	long long now = (long long)time(NULL);
	struct creds nc;
	struct log_err fe;
	char what[256], why[256];
	int r;

	*c = &ch->cur;
	if (ch->fn == NULL || ch->cur.expires == 0 || now < ch->cur.expires - CREDS_REFRESH_S)
		return 0;
	if (now < ch->retry_at && now < ch->cur.expires)
		return 0;
	memset(&nc, 0, sizeof nc);
	why[0] = '\0';
	fe.msg[0] = '\0';
	ch->fetches++;
	r = ch->fn(&ch->in, &nc, what, sizeof what, why, sizeof why, &fe);
	if (r == 0)
		log_fail(&fe, EXIT_TEMP, "%s is no longer set up (%s)", ch->what, why);
	if (r == 1 && usable(&nc, ch->what, now, &fe) == 0) {
		creds_wipe(&ch->cur);
		ch->cur = nc;
		ch->warned = 0;
		return 0;
	}
	creds_wipe(&nc);
	if (now < ch->cur.expires) {
		ch->retry_at = now + RETRY_S;
		if (ch->warned)
			return 0;
		ch->warned = 1;
		log_fail(e, EXIT_TEMP, "unable to refresh the credentials from %s, using the "
		    "current ones until they expire: %s", ch->what, fe.msg);
		return 1;
	}
	return log_fail(e, fe.status ? fe.status : EXIT_TEMP, "the credentials from %s expired "
	    "and could not be refreshed: %s", ch->what, fe.msg);
}

const char *
creds_source(const struct creds_chain *ch)
{
	return ch->what;
}

int
creds_fetches(const struct creds_chain *ch)
{
	return ch->fetches;
}

void
creds_close(struct creds_chain *ch)
{
	if (ch == NULL)
		return;
	creds_wipe(&ch->cur);
	free(ch->region);
	free(ch->profile);
	free(ch);
}
