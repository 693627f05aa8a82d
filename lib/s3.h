/*
 * s3: the object and multipart-upload operations the pgbak programs need
 * (HEAD, CreateMultipartUpload, UploadPart, Complete, Abort, the listings,
 * DeleteObjects), each one request or a few over the transport, s3xfer,
 * which signs, sends, retries and words the errors.
 */
#ifndef PGBAK_S3_H
#define PGBAK_S3_H

#include <time.h>

#include "s3xfer.h"

/* What pgbak-put says when it stops with a multipart upload it could not
 * abort (the one text pgbak-run looks for in what it says). */
#define S3_UPLOAD_LEFT "multipart upload left behind"

/* HEAD the object: 1 exists (s->x.resp has length, etag, last-modified),
 * 0 absent (the bucket exists), -1 anything else (e names the S3 code). */
int s3_head(struct s3 *s, const char *key, struct log_err *e);

/* CreateMultipartUpload at time now (lib/s3hdr's headers); *upload_id malloc'd. */
int s3_mpu_create(struct s3 *s, const char *key, time_t now, char **upload_id,
    struct log_err *e);

/* PutObjectRetention: lock key's current version as the object_lock
 * settings say, until now + their days (now: when its upload started, so
 * the date is the one CreateMultipartUpload asked for). */
int s3_retain(struct s3 *s, const char *key, time_t now, struct log_err *e);

/* The UploadPart request for part n of body (sha256 hex, md5 base64 given);
 * query is a buffer the request points into (freed by the caller). */
int s3_mpu_part_req(struct s3_req *r, const char *key, const char *upload_id, int n,
    const unsigned char *body, size_t len, const char *sha256, const char *md5,
    char **query);

/* Store only if the key does not exist yet: 412 PreconditionFailed if it does
 * (AWS S3 on PUT and Complete; RGW 16 on PUT only). */
#define S3_IF_ABSENT "if-none-match: *"

/* CompleteMultipartUpload with parts 1..n and their ETags; if_absent sends
 * S3_IF_ABSENT. */
int s3_mpu_complete(struct s3 *s, const char *key, const char *upload_id,
    char *const *etags, int n, int if_absent, struct log_err *e);

/* AbortMultipartUpload; an upload already gone (404 NoSuchUpload) is success. */
int s3_mpu_abort(struct s3 *s, const char *key, const char *upload_id, struct log_err *e);

/* Called for each in-progress upload; non-zero stops the listing. */
typedef int s3_upload_fn(void *ctx, const char *key, const char *upload_id,
    const char *initiated);

/* ListMultipartUploads under prefix (all pages). */
int s3_mpu_list(struct s3 *s, const char *prefix, s3_upload_fn *fn, void *ctx,
    struct log_err *e);

/* "2025-09-09T10:00:00.000Z" (S3's Initiated) -> seconds since the epoch, -1 if not. */
long long s3_time(const char *iso);

/* One object of a listing. */
struct s3_object {
	const char *key;
	uint64_t size;
	const char *last_modified;	/* "2025-09-09T10:00:00.000Z", see s3_time() */
	const char *storage_class;	/* as listed ("STANDARD"), or "" */
};

/* Called for each object, in key order; non-zero stops the listing. */
typedef int s3_object_fn(void *ctx, const struct s3_object *o);

/* ListObjectsV2 under prefix, every page.  A page (1000 keys) is streamed
 * into the parser, not kept whole, and its objects are passed to fn once
 * the page was read to its end: a page cut and asked again shows no object
 * twice.  A listing that cannot be followed to its end is an error. */
int s3_list(struct s3 *s, const char *prefix, s3_object_fn *fn, void *ctx,
    struct log_err *e);

/* One ListObjectsV2 page parsed: s3_list's pure part, for tests. */
struct s3_list_entry {
	char *key;
	uint64_t size;
	char last_modified[40];
	char storage_class[32];
};

struct s3_list_page {
	struct s3_list_entry *v;
	size_t n, cap;
	int truncated;		/* IsTruncated: another page follows */
	char *next;		/* NextContinuationToken, or NULL */
	int root;		/* 1 ListBucketResult, -1 another (an Error), 0 none yet */
	int nomem;
	struct s3_list_entry cur; /* the Contents being read */
};

/* 0, or -1 when doc is not XML or not a ListBucketResult (pg then holds
 * what was read; free it either way). */
int s3_list_parse(struct s3_list_page *pg, const char *doc, size_t len);
void s3_list_page_free(struct s3_list_page *pg);

/* Whether the bucket keeps versions (GetBucketVersioning): 1 Enabled or
 * Suspended (versions made before the suspension are still there), 0 never
 * enabled (or a provider that does not implement it: 501), -1 e. */
int s3_versioned(struct s3 *s, struct log_err *e);

/* One entry of ListObjectVersions: a version or a delete marker. */
struct s3_version {
	const char *key;
	const char *version_id;
	int is_latest;		/* the key's current entry */
	int is_marker;		/* a delete marker, not data */
	uint64_t size;
	const char *last_modified;
};

/* Called for each entry, in key order, each key's newest first; non-zero
 * stops the listing. */
typedef int s3_version_fn(void *ctx, const struct s3_version *v);

/* ListObjectVersions under prefix, every page (KeyMarker, VersionIdMarker),
 * streamed and bounded as s3_list. */
int s3_list_versions(struct s3 *s, const char *prefix, s3_version_fn *fn, void *ctx,
    struct log_err *e);

/* One ListObjectVersions page parsed: s3_list_versions' pure part, for tests. */
struct s3_version_entry {
	char *key, *version_id;
	int is_latest, is_marker;
	uint64_t size;
	char last_modified[40];
};

struct s3_versions_page {
	struct s3_version_entry *v;	/* Version and DeleteMarker, in document order */
	size_t n, cap;
	int truncated;
	char *next_key, *next_version;	/* NextKeyMarker, NextVersionIdMarker, or NULL */
	int root;		/* 1 ListVersionsResult, -1 another, 0 none yet */
	int nomem;
	struct s3_version_entry cur;
};

int s3_versions_parse(struct s3_versions_page *pg, const char *doc, size_t len);
void s3_versions_page_free(struct s3_versions_page *pg);

/* GetObjectRetention of one version: 1 it has one (until gets its
 * RetainUntilDate, e.g. "2025-09-09T10:00:00.000Z"), 0 none, -1 e. */
int s3_retention(struct s3 *s, const char *key, const char *version_id, char *until,
    size_t cap, struct log_err *e);

#define S3_DELETE_MAX 1000	/* keys in one DeleteObjects request */

/* DeleteObjects in batches of S3_DELETE_MAX, quiet: success only when every
 * key was deleted (a key already gone counts as deleted); else e names the
 * first key S3 refused and its code. */
int s3_delete_many(struct s3 *s, char *const *keys, size_t n, struct log_err *e);

/* Judges an entry DeleteObjects refused (version "" when the reply names
 * none): 0 accepted (it may stay, e.g. it is locked), -1 a failure (fe
 * filled, or left empty for the refusal itself to be named). */
typedef int s3_refused_fn(void *ctx, const char *key, const char *version, const char *code,
    struct log_err *fe);

/* DeleteObjects of n versions (versions[i] of keys[i]; versions NULL: the
 * keys themselves), by s3_delete_many's batches: a refusal fails unless fn
 * accepts it.  fn runs after each batch's reply was read, so it may make
 * requests of its own on s. */
int s3_delete_versions(struct s3 *s, char *const *keys, char *const *versions, size_t n,
    s3_refused_fn *fn, void *ctx, struct log_err *e);

/* The pure parts of s3_delete_many, for tests: the request body for n keys
 * (with versions[i] when versions is not NULL; malloc'd, *len set; NULL when
 * out of memory), and the reply's verdict: the number of <Error>s, the
 * first one's Key and Code (cut to fit), -1 when doc is not a DeleteResult. */
char *s3_delete_body(char *const *keys, char *const *versions, size_t n, size_t *len);
long s3_delete_errors(const char *doc, size_t len, char *key, size_t kcap, char *code,
    size_t ccap);

/* Every <Error> of a DeleteResult, to fn (version "" when it names none):
 * their number, or -1 when doc is not a whole DeleteResult. */
typedef void s3_refusal_fn(void *ctx, const char *key, const char *version,
    const char *code);
long s3_delete_refusals(const char *doc, size_t len, s3_refusal_fn *fn, void *ctx);

#endif
