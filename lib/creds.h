/*
 * creds: the AWS default credential chain, resolved in one place for every
 * S3 program (and so for pgbak-run's children, which are S3 programs).
 *
 * The sources, tried in the SDKs' order; the first that yields wins and is
 * remembered, so a refresh asks that same source again:
 *   1. flags and settings (access_key, access_secret, session_token)
 *   2. environment: AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN
 *   3. web identity (IRSA): AWS_WEB_IDENTITY_TOKEN_FILE, AWS_ROLE_ARN,
 *      AWS_ROLE_SESSION_NAME; STS AssumeRoleWithWebIdentity (creds_http.c)
 *   4. shared files: AWS_SHARED_CREDENTIALS_FILE, AWS_CONFIG_FILE, AWS_PROFILE,
 *      with credential_process (creds_file.c)
 *   5. container: AWS_CONTAINER_CREDENTIALS_RELATIVE_URI / _FULL_URI with
 *      AWS_CONTAINER_AUTHORIZATION_TOKEN[_FILE] (creds_http.c)
 *   6. EC2 instance metadata, IMDSv2 only (creds_http.c)
 *
 * Temporary credentials are refreshed CREDS_REFRESH_S before they expire,
 * at the moment a request is signed: a multipart upload that outlives one
 * role session signs each part with the credentials current then.
 *
 * Secrets live only in struct creds, are wiped when dropped, and never
 * appear in a message: messages name the source, never the secret.
 */
#ifndef PGBAK_CREDS_H
#define PGBAK_CREDS_H

#include <stddef.h>

#include "log.h"

#define CREDS_REFRESH_S 300	/* refresh this long before Expiration */

struct creds {
	char *access_key;
	char *secret;		/* wiped by creds_wipe */
	char *token;		/* session token, or NULL; wiped by creds_wipe */
	long long expires;	/* seconds since the epoch; 0: never */
};

/* Free c's strings, wiping the secret and the token; c is zeroed. */
void creds_wipe(struct creds *c);

/* Wipe and free *s (a secret, or a document holding one); *s is NULL. */
void creds_wipe_str(char **s);

/* "2026-11-30T12:00:00Z" (STS, IMDS, container, credential_process
 * Expiration; fractions and a +00:00 offset accepted) -> seconds since the
 * epoch, -1 if not such a time. */
long long creds_time(const char *iso);

/*
 * One source.  Each returns
 *    1  credentials in *c; what (wn bytes) names where from, without a
 *       secret: "web identity, role arn:aws:iam::123:role/backup"
 *    0  this source is not set up here; why (yn bytes) says why, for the
 *       "no credentials: tried ..." line: "AWS_ROLE_ARN unset", "no answer in 1 s"
 *   -1  set up but failed (e, EXIT_USAGE when the fix is the configuration,
 *       EXIT_TEMP when it may work later); the chain stops there, as the
 *       SDKs do, rather than fall through to another identity.
 * region is the resolved signing region (STS's regional endpoint).
 */
struct creds_src {
	const char *region;
	const char *profile;	/* AWS_PROFILE or "default" (creds_file.c) */
	long timeout_ms;	/* for the network sources; 0: their default */
	int cancel_fd;		/* > 2 and readable: stop a credential_process that
				 * runs (a signal, s3_wake_fd); else none */
};

typedef int creds_source_fn(const struct creds_src *in, struct creds *c, char *what,
    size_t wn, char *why, size_t yn, struct log_err *e);

creds_source_fn creds_env;		/* AWS_ACCESS_KEY_ID, ...: both or neither */
creds_source_fn creds_web_identity;	/* creds_http.c */
creds_source_fn creds_container;	/* creds_http.c */
creds_source_fn creds_imds;		/* creds_http.c */
creds_source_fn creds_profile;		/* creds_file.c: keys, then credential_process */

/* The chain: the settings' values (may be NULL), then the sources above. */
struct creds_settings {
	const char *access_key;
	const char *secret;
	const char *token;
	const char *file;	/* the settings file, for messages, or NULL */
};

struct creds_chain;

/* Whether the settings can be a source: access_key and access_secret both
 * or neither, session_token only with them, a key without a space or '/'.
 * 1 they are one, 0 they are none, -1 with e (EXIT_USAGE) naming st->file. */
int creds_settings_check(const struct creds_settings *st, struct log_err *e);

/* One source of the chain after the settings, with its name in the
 * "no credentials: tried ..." line; named: followed by the profile's name. */
struct creds_way {
	const char *name;
	creds_source_fn *fn;
	int named;
};

/* The region of the profile in AWS_CONFIG_FILE (creds_file.c): 0 with
 * *region malloc'd (NULL when the profile has none, or no file), or -1 with
 * e when the file cannot be read. */
int creds_profile_region(const char *profile, char **region, struct log_err *e);

/* The value of key in [section] of an INI document (creds_file.c), blanks
 * trimmed; malloc'd, or NULL (errno ENOENT when there is none). */
char *creds_ini_value(const char *doc, const char *section, const char *key);

/* Resolve the chain once.  0 with *ch (creds_close it), or -1 with e:
 * EXIT_USAGE and "no credentials: tried settings, environment, ..." when
 * no source yields. */
int creds_open(struct creds_chain **ch, const struct creds_settings *st,
    const struct creds_src *in, struct log_err *e);

/* The same over the sources w[0..nw) instead of the SDKs' (unit tests). */
int creds_open_ways(struct creds_chain **ch, const struct creds_settings *st,
    const struct creds_src *in, const struct creds_way *w, size_t nw, struct log_err *e);

/* The credentials to sign with now: refreshed from the same source when
 * they expire within CREDS_REFRESH_S.  0, or 1 when a refresh failed while
 * the old ones are still valid: they are kept, and e says why for the
 * caller to warn (1 once per failing spell; the source is asked again at
 * most every few seconds meanwhile); once expired it is -1 with e.
 * *c stays valid until the next creds_get or creds_close.  A chain is
 * used by one thread. */
int creds_get(struct creds_chain *ch, const struct creds **c, struct log_err *e);

/* Where they came from ("environment", "profile \"prod\"", ...), for -v. */
const char *creds_source(const struct creds_chain *ch);

/* How many times the source was asked (the first time included). */
int creds_fetches(const struct creds_chain *ch);

void creds_close(struct creds_chain *ch);

#endif
