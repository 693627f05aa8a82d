/* s3: the S3 operations pgbak needs, over the s3xfer transport (see s3.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "s3.h"
#include "s3hdr.h"
#include "s3xml.h"
#include "sigv4.h"

#define LIST_PAGES_MAX 1000	/* ListMultipartUploads pages followed */
/* A ListObjectsV2 page: 1000 keys of 1024 bytes, each escaped 6 times over,
 * and their other elements fit; a page that goes on is not S3's. */
#define LIST_PAGE_BYTES_MAX (16L << 20)

/* The root element of Complete's only answer that says the object is there */
#define XML_COMPLETE_RESULT "CompleteMultipartUploadResult"
/* The id of the upload CreateMultipartUpload made */
#define XML_UPLOAD_ID "InitiateMultipartUploadResult/UploadId"
/* The root elements of the answers of ListMultipartUploads, ListObjectsV2
 * and DeleteObjects; the paths under them are read with xml_under() */
#define XML_UPLOADS_RESULT "ListMultipartUploadsResult"
#define XML_LIST_RESULT "ListBucketResult"
#define XML_DELETE_RESULT "DeleteResult"
/* The namespace of the request bodies */
#define XML_S3_NS "http://s3.amazonaws.com/doc/2006-03-01/"

/* The rest of path when it lies under root ("root/..."), else NULL. */
static const char *
xml_under(const char *path, const char *root)
{
	size_t n = strlen(root);

	return strncmp(path, root, n) == 0 && path[n] == '/' ? path + n + 1 : NULL;
}

/* The probe's sink: a byte was asked for, so a body that goes on is refused. */
static int
discard(void *ctx, const char *p, size_t n)
{
	size_t *seen = ctx;

	(void)p;
	if ((*seen += n) > S3_BODY_MAX) {
		errno = EFBIG;
		return -1;
	}
	return 0;
}

/* s3_head with the SSE-C headers in h. */
static int
head(struct s3 *s, const char *key, struct s3_hdr *h, struct log_err *e)
{
	struct s3_req r = { .what = "check", .method = "HEAD", .key = key };
	struct s3_req bucket = { .what = "check the bucket of", .method = "HEAD", .key = NULL };
	size_t seen = 0;
	struct s3_req probe = { .what = "check", .method = "GET", .key = key,
	    .headers = { "range: bytes=0-0" }, .sink = discard, .sink_ctx = &seen };
	struct s3_hdr ph;
	struct log_err pe;
	int rc;

	if (s3_hdr_add(h, &r, s->cfg, S3_HDR_READ, 0) < 0)
		return s3_fail(s, &r, e, "too many headers");
	if (s3_call(s, &r, e) == 0)
		return 1;
	if (s->x.resp.status == 404) {
		/* the same 404 for a missing key and a missing bucket: ask the bucket */
		if (s3_call(s, &bucket, e) == 0)
			return 0;
		if (s->x.resp.status == 404)
			return s3_fail(s, &r, e, "HTTP 404 NoSuchBucket");
		return -1;
	}
	if (s->x.resp.status / 100 == 3 || s->x.resp.status / 100 == 4) {
		/* a HEAD reply has no body: a one-byte GET tells the S3 error code */
		if (s3_hdr_add(&ph, &probe, s->cfg, S3_HDR_READ, 0) < 0)
			return -1;
		rc = s3_call(s, &probe, &pe);
		s3_hdr_wipe(&ph);
		if (rc < 0 && s->x.resp.code[0] && e)
			*e = pe;
		if (rc < 0 && e)
			s3_hdr_sse_c_refused(s, &s->x.resp, key, e);
	}
	return -1;
}

int
s3_head(struct s3 *s, const char *key, struct log_err *e)
{
	struct s3_hdr h;
	int rc = head(s, key, &h, e);

	s3_hdr_wipe(&h);
	return rc;
}

int
s3_mpu_create(struct s3 *s, const char *key, time_t now, char **upload_id,
    struct log_err *e)
{
	char id[1024];
	struct s3_req r = { .what = "start the upload of", .method = "POST", .key = key,
	    .query = "uploads=" };
	struct s3_hdr h;
	int rc;

	if (s3_hdr_add(&h, &r, s->cfg, S3_HDR_NEW, now) < 0)
		return s3_fail(s, &r, e, "too many headers");
	rc = s3_call(s, &r, e);
	s3_hdr_wipe(&h);
	if (rc < 0)
		return -1;
	if (s->x.resp.len == 0 || s3xml_get(s->x.resp.body, s->x.resp.len,
	    XML_UPLOAD_ID, id, sizeof id) != 1 || id[0] == '\0')
		return s3_fail(s, &r, e, "no UploadId in the reply");
	if ((*upload_id = strdup(id)) == NULL)
		return s3_fail(s, &r, e, "out of memory");
	return 0;
}

int
s3_retain(struct s3 *s, const char *key, time_t now, struct log_err *e)
{
	struct s3_req r = { .what = "lock", .method = "PUT", .key = key, .query = "retention=" };
	char until[32], body[256];

	if (s->cfg->lock_mode == NULL || s3_hdr_until(s->cfg, now, until) < 0)
		return s3_fail(s, &r, e, "no Object Lock date");
	snprintf(body, sizeof body, "<Retention xmlns=\"" XML_S3_NS "\"><Mode>%s</Mode>"
	    "<RetainUntilDate>%s</RetainUntilDate></Retention>", s->cfg->lock_mode, until);
	r.body = (const unsigned char *)body;
	r.len = strlen(body);
	return s3_call(s, &r, e);	/* sign() adds the Content-MD5 S3 requires here */
}

/* "partNumber=N&uploadId=ID" or "uploadId=ID" (n == 0), encoded and sorted. */
static char *
upload_query(const char *upload_id, int n)
{
	char num[16];
	struct sigv4_param p[2] = { { "partNumber", num }, { "uploadId", upload_id } };

	snprintf(num, sizeof num, "%d", n);
	return n ? sigv4_query(p, 2) : sigv4_query(p + 1, 1);
}

int
s3_mpu_part_req(struct s3_req *r, const char *key, const char *upload_id, int n,
    const unsigned char *body, size_t len, const char *sha256, const char *md5,
    char **query)
{
	memset(r, 0, sizeof *r);
	if ((*query = upload_query(upload_id, n)) == NULL)
		return -1;
	r->what = "upload a part of";
	r->method = "PUT";
	r->key = key;
	r->query = *query;
	r->body = body;
	r->len = len;
	r->sha256 = sha256;
	r->md5 = md5;
	return 0;
}

/* A 200 alone does not say the upload was published: a proxy may answer
 * with nothing, or S3 may fail after the status line went out. */
static int
complete_result(const struct s3_resp *resp)
{
	char root[64];

	return resp->len > 0 && s3xml_root(resp->body, resp->len, root, sizeof root) == 1 &&
	    strcmp(root, XML_COMPLETE_RESULT) == 0;
}

int
s3_mpu_complete(struct s3 *s, const char *key, const char *upload_id,
    char *const *etags, int n, int if_absent, struct log_err *e)
{
	struct s3_req r = { .what = "complete the upload of", .method = "POST", .key = key,
	    .slow = 1, .headers = { if_absent ? S3_IF_ABSENT : NULL } };
	char *doc = NULL, *q, *tag;
	size_t len = 0;
	FILE *f;
	int i, rc, bad;

	if ((q = upload_query(upload_id, 0)) == NULL || (f = open_memstream(&doc, &len)) == NULL) {
		free(q);
		return s3_fail(s, &r, e, "out of memory");
	}
	fputs("<CompleteMultipartUpload>", f);
	for (i = 0; i < n; i++) {
		tag = s3xml_escape(etags[i] ? etags[i] : "");
		fprintf(f, "<Part><PartNumber>%d</PartNumber><ETag>%s</ETag></Part>", i + 1,
		    tag ? tag : "");
		free(tag);
	}
	fputs("</CompleteMultipartUpload>", f);
	bad = ferror(f);
	if (fclose(f) != 0 || bad) {
		free(doc);
		free(q);
		return s3_fail(s, &r, e, "out of memory");
	}
	r.query = q;
	r.body = (const unsigned char *)doc;
	r.len = len;
	rc = s3_call(s, &r, e);
	free(doc);
	free(q);
	if (rc == 0 && !complete_result(&s->x.resp))
		rc = s3_fail(s, &r, e, "HTTP %ld with %s " XML_COMPLETE_RESULT, s->x.resp.status,
		    s->x.resp.len ? "a body that is not a" : "an empty body, not a");
	return rc;
}

int
s3_mpu_abort(struct s3 *s, const char *key, const char *upload_id, struct log_err *e)
{
	struct s3_req r = { .what = "abort the upload of", .method = "DELETE", .key = key };
	char *q;
	int rc;

	if ((q = upload_query(upload_id, 0)) == NULL)
		return s3_fail(s, &r, e, "out of memory");
	r.query = q;
	rc = s3_call(s, &r, e);
	free(q);
	if (rc < 0 && s->x.resp.status == 404 && strcmp(s->x.resp.code, "NoSuchUpload") == 0)
		rc = 0;
	return rc;
}

struct listing {
	s3_upload_fn *fn;
	void *ctx;
	char key[1100], id[1024], initiated[64];
	char next_key[1100], next_id[1024];
	int truncated, stopped;
};

static void
list_item(void *ctx, const char *path, const char *text)
{
	struct listing *l = ctx;
	const char *name = strrchr(path, '/'), *sub = xml_under(path, XML_UPLOADS_RESULT);

	if (sub == NULL || name == NULL)
		return;
	name++;
	if (strcmp(sub, "Upload/Key") == 0)
		snprintf(l->key, sizeof l->key, "%s", text);
	else if (strcmp(sub, "Upload/UploadId") == 0)
		snprintf(l->id, sizeof l->id, "%s", text);
	else if (strcmp(sub, "Upload/Initiated") == 0)
		snprintf(l->initiated, sizeof l->initiated, "%s", text);
	else if (strcmp(sub, "Upload") == 0 && !l->stopped)
		l->stopped = l->fn(l->ctx, l->key, l->id, l->initiated) != 0;
	else if (strcmp(name, "IsTruncated") == 0)
		l->truncated = strcmp(text, "true") == 0;
	else if (strcmp(name, "NextKeyMarker") == 0)
		snprintf(l->next_key, sizeof l->next_key, "%s", text);
	else if (strcmp(name, "NextUploadIdMarker") == 0)
		snprintf(l->next_id, sizeof l->next_id, "%s", text);
	if (strcmp(sub, "Upload") == 0)
		l->key[0] = l->id[0] = l->initiated[0] = '\0';
}

int
s3_mpu_list(struct s3 *s, const char *prefix, s3_upload_fn *fn, void *ctx,
    struct log_err *e)
{
	struct s3_req r = { .what = "list the uploads of", .method = "GET", .key = NULL };
	struct listing *l;
	/* 100 a page: even with 1024-byte keys a page fits in S3_BODY_MAX */
	struct sigv4_param p[5] = { { "uploads", "" }, { "prefix", prefix },
	    { "max-uploads", "100" } };
	char *q;
	int page, rc = 0;

	if ((l = calloc(1, sizeof *l)) == NULL)
		return s3_fail(s, &r, e, "out of memory");
	l->fn = fn;
	l->ctx = ctx;
	for (page = 0; page < LIST_PAGES_MAX && rc == 0; page++) {
		size_t np = 3;

		if (page > 0) {
			p[np++] = (struct sigv4_param){ "key-marker", l->next_key };
			p[np++] = (struct sigv4_param){ "upload-id-marker", l->next_id };
		}
		if ((q = sigv4_query(p, np)) == NULL) {
			rc = s3_fail(s, &r, e, "out of memory");
			break;
		}
		r.query = q;
		rc = s3_call(s, &r, e);
		if (rc == 0 && s3xml_parse(s->x.resp.body ? s->x.resp.body : "", s->x.resp.len,
		    list_item, l) < 0)
			rc = s3_fail(s, &r, e, "the reply is not XML");
		free(q);
		if (rc < 0 || l->stopped || !l->truncated || l->next_key[0] == '\0')
			break;
		l->truncated = 0;
	}
	free(l);
	return rc;
}

long long
s3_time(const char *iso)
{
	struct tm tm;
	int n = 0;

	memset(&tm, 0, sizeof tm);
	if (sscanf(iso, "%4d-%2d-%2dT%2d:%2d:%2d%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
	    &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &n) != 6 || n != 19 ||
	    (iso[19] != '\0' && iso[19] != '.' && iso[19] != 'Z'))
		return -1;
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	return (long long)timegm(&tm);
}

#define LIST_KEYS "1000"	/* keys a ListObjectsV2 page: S3's most */
#define LIST_V2_PAGES_MAX 100000 /* pages followed: 100 million keys */

void
s3_list_page_free(struct s3_list_page *pg)
{
	size_t i;

	for (i = 0; i < pg->n; i++)
		free(pg->v[i].key);
	free(pg->v);
	free(pg->next);
	free(pg->cur.key);
	memset(pg, 0, sizeof *pg);
}

/* arr (of cap items of size bytes) with room for item n: arr, a larger
 * copy, or NULL (out of memory; arr is kept). */
static void *
grow(void *arr, size_t *cap, size_t n, size_t size)
{
	size_t c = *cap ? 2 * *cap : 64;

	if (n < *cap)
		return arr;
	if ((arr = realloc(arr, c * size)) != NULL)
		*cap = c;
	return arr;
}

static void
list_v2_reset(void *pg)
{
	s3_list_page_free(pg);
}

static void
list_v2_item(void *ctx, const char *path, const char *text)
{
	struct s3_list_page *pg = ctx;
	struct s3_list_entry *v;
	const char *sub;
	char *end;

	if (strchr(path, '/') == NULL) {
		pg->root = strcmp(path, XML_LIST_RESULT) == 0 ? 1 : -1;
		return;
	}
	if ((sub = xml_under(path, XML_LIST_RESULT)) == NULL)
		return;
	if (strcmp(sub, "Contents/Key") == 0) {
		free(pg->cur.key);
		if ((pg->cur.key = strdup(text)) == NULL)
			pg->nomem = 1;
	} else if (strcmp(sub, "Contents/Size") == 0) {
		pg->cur.size = strtoull(text, &end, 10);
	} else if (strcmp(sub, "Contents/LastModified") == 0) {
		snprintf(pg->cur.last_modified, sizeof pg->cur.last_modified, "%s", text);
	} else if (strcmp(sub, "Contents/StorageClass") == 0) {
		snprintf(pg->cur.storage_class, sizeof pg->cur.storage_class, "%s", text);
	} else if (strcmp(sub, "Contents") == 0) {
		if (pg->cur.key == NULL)
			return;		/* no Key: nothing anyone could delete */
		if ((v = grow(pg->v, &pg->cap, pg->n, sizeof *v)) == NULL) {
			pg->nomem = 1;
			return;
		}
		pg->v = v;
		pg->v[pg->n++] = pg->cur;
		memset(&pg->cur, 0, sizeof pg->cur);
	} else if (strcmp(sub, "IsTruncated") == 0) {
		pg->truncated = strcmp(text, "true") == 0;
	} else if (strcmp(sub, "NextContinuationToken") == 0) {
		free(pg->next);
		if ((pg->next = strdup(text)) == NULL)
			pg->nomem = 1;
	}
}

int
s3_list_parse(struct s3_list_page *pg, const char *doc, size_t len)
{
	if (s3xml_parse(doc, len, list_v2_item, pg) < 0 || pg->nomem || pg->root != 1)
		return -1;
	return 0;
}

/* How a listing page is read: its parser callback, what empties the page
 * before each try, and where the callback records the root and a failed
 * allocation (the same for ListObjectsV2 and ListObjectVersions pages). */
struct page_kind {
	s3xml_fn *item;
	void *pg;
	void (*reset)(void *pg);
	const int *root, *nomem, *truncated;
	const char *name;	/* for "the reply is not a NAME result" */
	/* hand the page's entries to the caller (arg: its function and
	 * context); non-zero stops */
	int (*deliver)(void *pg, void *arg);
	/* the markers a truncated page gives (the first is required), and the
	 * query parameters that send them back (a NULL name: no more) */
	char **next[2];
	const char *marker[2];
};

/* A listing reply streamed into the parser as it arrives. */
struct list_stream {
	struct s3xml *x;
	const struct page_kind *k;
	int bad;		/* not XML, out of memory, or too long */
	size_t bytes;
};

static int
list_sink(void *ctx, const char *p, size_t n)
{
	struct list_stream *ls = ctx;

	if ((ls->bytes += n) > LIST_PAGE_BYTES_MAX || s3xml_feed(ls->x, p, n, 0) < 0 ||
	    *ls->k->nomem) {
		ls->bad = 1;
		errno = EBADMSG;
		return -1;
	}
	return 0;
}

/* One page, read again from its start when the body was cut (s3_call does
 * not retry a request whose sink took bytes).  0, or -1 with e. */
static int
list_page(struct s3 *s, struct s3_req *r, const struct page_kind *k, struct log_err *e)
{
	struct list_stream ls;
	int attempt, rc;

	for (attempt = 1;; attempt++) {
		k->reset(k->pg);
		memset(&ls, 0, sizeof ls);
		ls.k = k;
		if ((ls.x = s3xml_new(k->item, k->pg)) == NULL)
			return s3_fail(s, r, e, "out of memory");
		r->sink = list_sink;
		r->sink_ctx = &ls;
		rc = s3_call(s, r, e);
		if (rc == 0 && s3xml_feed(ls.x, "", 0, 1) < 0)
			ls.bad = 1;
		s3xml_free(ls.x);
		if (ls.bad || (rc == 0 && *k->root != 1))
			return s3_fail(s, r, e, *k->nomem ? "out of memory" :
			    "the reply is not a %s result", k->name);
		if (rc == 0)
			return 0;
		if (!s->x.retryable || s->x.resp.sunk == 0 || attempt >= s->cfg->tries)
			return -1;
		if (s3_retry_wait(s, attempt) < 0)
			return s3_fail(s, r, e, "interrupted by signal %d", (int)s3_stop);
	}
}

/* Follow a listing to its end: the query p[0..np) and the markers of the
 * page before (p has room for two more), page after page.  A truncated page
 * must give markers that move on, or the listing would never end. */
static int
list_all(struct s3 *s, struct s3_req *r, const struct page_kind *k, struct sigv4_param *p,
    size_t np0, void *arg, struct log_err *e)
{
	char *held[2] = { NULL, NULL }, *q;
	size_t np, j;
	long page;
	int rc = 0, stop = 0, moved;

	for (page = 0; rc == 0 && !stop; page++) {
		if (page == LIST_V2_PAGES_MAX) {
			rc = s3_fail(s, r, e, "more than %d pages", LIST_V2_PAGES_MAX);
			break;
		}
		/* an empty marker is not sent: AWS refuses an empty version-id-marker */
		for (j = 0, np = np0; j < 2 && k->marker[j]; j++)
			if (held[j] && *held[j])
				p[np++] = (struct sigv4_param){ k->marker[j], held[j] };
		if ((q = sigv4_query(p, np)) == NULL) {
			rc = s3_fail(s, r, e, "out of memory");
			break;
		}
		r->query = q;
		rc = list_page(s, r, k, e);
		free(q);
		if (rc < 0)
			break;
		stop = k->deliver(k->pg, arg);
		if (!*k->truncated)
			break;
		for (j = 0, moved = 0; j < 2 && k->marker[j]; j++)
			moved |= strcmp(held[j] ? held[j] : "", *k->next[j] ? *k->next[j] : "") != 0;
		if (*k->next[0] == NULL || **k->next[0] == '\0' || !moved) {
			rc = s3_fail(s, r, e, "a truncated page without a new marker");
			break;
		}
		for (j = 0; j < 2 && k->marker[j]; j++) {
			free(held[j]);
			held[j] = *k->next[j];
			*k->next[j] = NULL;
		}
	}
	k->reset(k->pg);
	free(held[0]);
	free(held[1]);
	return rc;
}

struct list_v2_to {
	s3_object_fn *fn;
	void *ctx;
};

static int
list_v2_deliver(void *page, void *arg)
{
	struct s3_list_page *pg = page;
	struct list_v2_to *to = arg;
	size_t i;

	for (i = 0; i < pg->n; i++) {
		struct s3_object o = { pg->v[i].key, pg->v[i].size, pg->v[i].last_modified,
		    pg->v[i].storage_class };

		if (to->fn(to->ctx, &o) != 0)
			return 1;
	}
	return 0;
}

int
s3_list(struct s3 *s, const char *prefix, s3_object_fn *fn, void *ctx, struct log_err *e)
{
	struct s3_req r = { .what = "list the objects of", .method = "GET", .key = NULL };
	struct s3_list_page pg;
	struct page_kind k = { list_v2_item, &pg, list_v2_reset, &pg.root, &pg.nomem,
	    &pg.truncated, "ListObjectsV2", list_v2_deliver, { &pg.next, NULL },
	    { "continuation-token", NULL } };
	struct sigv4_param p[5] = { { "list-type", "2" }, { "prefix", prefix },
	    { "max-keys", LIST_KEYS } };
	struct list_v2_to to = { fn, ctx };

	memset(&pg, 0, sizeof pg);
	return list_all(s, &r, &k, p, 3, &to, e);
}

#define XML_VERSIONS_RESULT "ListVersionsResult"
#define XML_VERSIONING "VersioningConfiguration/Status"
#define XML_RETAIN_UNTIL "Retention/RetainUntilDate"

void
s3_versions_page_free(struct s3_versions_page *pg)
{
	size_t i;

	for (i = 0; i < pg->n; i++) {
		free(pg->v[i].key);
		free(pg->v[i].version_id);
	}
	free(pg->v);
	free(pg->next_key);
	free(pg->next_version);
	free(pg->cur.key);
	free(pg->cur.version_id);
	memset(pg, 0, sizeof *pg);
}

static void
versions_reset(void *pg)
{
	s3_versions_page_free(pg);
}

/* Replace *dst by a copy of text; nomem set when that fails. */
static void
set_text(char **dst, const char *text, int *nomem)
{
	free(*dst);
	if ((*dst = strdup(text)) == NULL)
		*nomem = 1;
}

static void
versions_item(void *ctx, const char *path, const char *text)
{
	struct s3_versions_page *pg = ctx;
	struct s3_version_entry *v;
	const char *sub, *field;
	char *end;

	if (strchr(path, '/') == NULL) {
		pg->root = strcmp(path, XML_VERSIONS_RESULT) == 0 ? 1 : -1;
		return;
	}
	if ((sub = xml_under(path, XML_VERSIONS_RESULT)) == NULL)
		return;
	if (strcmp(sub, "Version") == 0 || strcmp(sub, "DeleteMarker") == 0) {
		if (pg->cur.key == NULL || pg->cur.version_id == NULL) {
			/* without both there is nothing anyone could delete */
			free(pg->cur.key);
			free(pg->cur.version_id);
			memset(&pg->cur, 0, sizeof pg->cur);
			return;
		}
		if ((v = grow(pg->v, &pg->cap, pg->n, sizeof *v)) == NULL) {
			pg->nomem = 1;
			return;
		}
		pg->v = v;
		pg->cur.is_marker = sub[0] == 'D';
		pg->v[pg->n++] = pg->cur;
		memset(&pg->cur, 0, sizeof pg->cur);
		return;
	}
	if (strncmp(sub, "Version/", 8) == 0)
		field = sub + 8;
	else if (strncmp(sub, "DeleteMarker/", 13) == 0)
		field = sub + 13;
	else
		field = NULL;
	if (field == NULL) {
		if (strcmp(sub, "IsTruncated") == 0)
			pg->truncated = strcmp(text, "true") == 0;
		else if (strcmp(sub, "NextKeyMarker") == 0)
			set_text(&pg->next_key, text, &pg->nomem);
		else if (strcmp(sub, "NextVersionIdMarker") == 0)
			set_text(&pg->next_version, text, &pg->nomem);
	} else if (strcmp(field, "Key") == 0) {
		set_text(&pg->cur.key, text, &pg->nomem);
	} else if (strcmp(field, "VersionId") == 0) {
		set_text(&pg->cur.version_id, text, &pg->nomem);
	} else if (strcmp(field, "IsLatest") == 0) {
		pg->cur.is_latest = strcmp(text, "true") == 0;
	} else if (strcmp(field, "Size") == 0) {
		pg->cur.size = strtoull(text, &end, 10);
	} else if (strcmp(field, "LastModified") == 0) {
		snprintf(pg->cur.last_modified, sizeof pg->cur.last_modified, "%s", text);
	}
}

int
s3_versions_parse(struct s3_versions_page *pg, const char *doc, size_t len)
{
	if (s3xml_parse(doc, len, versions_item, pg) < 0 || pg->nomem || pg->root != 1)
		return -1;
	return 0;
}

struct versions_to {
	s3_version_fn *fn;
	void *ctx;
};

static int
versions_deliver(void *page, void *arg)
{
	struct s3_versions_page *pg = page;
	struct versions_to *to = arg;
	size_t i;

	for (i = 0; i < pg->n; i++) {
		const struct s3_version_entry *v = &pg->v[i];
		struct s3_version o = { v->key, v->version_id, v->is_latest, v->is_marker,
		    v->size, v->last_modified };

		if (to->fn(to->ctx, &o) != 0)
			return 1;
	}
	return 0;
}

int
s3_list_versions(struct s3 *s, const char *prefix, s3_version_fn *fn, void *ctx,
    struct log_err *e)
{
	struct s3_req r = { .what = "list the object versions of", .method = "GET",
	    .key = NULL };
	struct s3_versions_page pg;
	struct page_kind k = { versions_item, &pg, versions_reset, &pg.root, &pg.nomem,
	    &pg.truncated, "ListObjectVersions", versions_deliver,
	    { &pg.next_key, &pg.next_version }, { "key-marker", "version-id-marker" } };
	struct sigv4_param p[5] = { { "versions", "" }, { "prefix", prefix },
	    { "max-keys", LIST_KEYS } };
	struct versions_to to = { fn, ctx };

	memset(&pg, 0, sizeof pg);
	return list_all(s, &r, &k, p, 3, &to, e);
}

int
s3_versioned(struct s3 *s, struct log_err *e)
{
	struct s3_req r = { .what = "read the versioning of", .method = "GET", .key = NULL,
	    .query = "versioning=" };
	char status[32];
	int got;

	if (s3_call(s, &r, e) < 0) {
		/* a provider without versioning (501) can hold no versions */
		if (s->x.resp.status == 501 || strcmp(s->x.resp.code, "NotImplemented") == 0)
			return 0;
		return -1;
	}
	got = s3xml_get(s->x.resp.body ? s->x.resp.body : "", s->x.resp.len, XML_VERSIONING,
	    status, sizeof status);
	if (got < 0)
		return s3_fail(s, &r, e, "the reply is not XML");
	/* Suspended: the versions made before are still there */
	return got == 1 && (strcmp(status, "Enabled") == 0 || strcmp(status, "Suspended") == 0);
}

int
s3_retention(struct s3 *s, const char *key, const char *version_id, char *until, size_t cap,
    struct log_err *e)
{
	struct s3_req r = { .what = "read the retention of", .method = "GET", .key = key };
	struct sigv4_param p[2] = { { "retention", "" }, { "versionId", version_id } };
	char *q;
	int rc, got;

	if (cap)
		until[0] = '\0';
	if ((q = sigv4_query(p, 2)) == NULL)
		return s3_fail(s, &r, e, "out of memory");
	r.query = q;
	rc = s3_call(s, &r, e);
	free(q);
	if (rc < 0) {
		/* AWS: NoSuchObjectLockConfiguration; RGW 16: ...NotFoundError */
		if (s->x.resp.status == 404 && (strcmp(s->x.resp.code,
		    "NoSuchObjectLockConfiguration") == 0 || strcmp(s->x.resp.code,
		    "ObjectLockConfigurationNotFoundError") == 0))
			return 0;
		return -1;
	}
	got = s3xml_get(s->x.resp.body ? s->x.resp.body : "", s->x.resp.len, XML_RETAIN_UNTIL,
	    until, cap);
	if (got < 0)
		return s3_fail(s, &r, e, "the reply is not XML");
	return got == 1 && until[0] != '\0';
}

char *
s3_delete_body(char *const *keys, char *const *versions, size_t n, size_t *len)
{
	char *doc = NULL, *k, *v = NULL;
	size_t i;
	FILE *f;
	int bad = 0;

	*len = 0;
	if ((f = open_memstream(&doc, len)) == NULL)
		return NULL;
	fputs("<Delete><Quiet>true</Quiet>", f);
	for (i = 0; i < n && !bad; i++) {
		k = s3xml_escape(keys[i]);
		if (versions && (v = s3xml_escape(versions[i])) == NULL)
			bad = 1;
		else if (k == NULL)
			bad = 1;
		else if (versions)
			fprintf(f, "<Object><Key>%s</Key><VersionId>%s</VersionId></Object>", k, v);
		else
			fprintf(f, "<Object><Key>%s</Key></Object>", k);
		free(k);
		free(v);
		v = NULL;
	}
	fputs("</Delete>", f);
	bad |= ferror(f);
	if (fclose(f) != 0 || bad) {
		free(doc);
		return NULL;
	}
	return doc;
}

struct delete_verdict {
	long errors;
	char *key, *code;
	size_t kcap, ccap;
	char cur_key[1100], cur_version[1100], cur_code[64];
	int root;
	s3_refusal_fn *fn;	/* called for each <Error>, or NULL */
	void *ctx;
};

static void
delete_item(void *ctx, const char *path, const char *text)
{
	struct delete_verdict *d = ctx;
	const char *sub;

	if (strchr(path, '/') == NULL)
		d->root = strcmp(path, XML_DELETE_RESULT) == 0 ? 1 : -1;
	else if ((sub = xml_under(path, XML_DELETE_RESULT)) == NULL)
		return;
	else if (strcmp(sub, "Error/Key") == 0)
		snprintf(d->cur_key, sizeof d->cur_key, "%s", text);
	else if (strcmp(sub, "Error/VersionId") == 0)
		snprintf(d->cur_version, sizeof d->cur_version, "%s", text);
	else if (strcmp(sub, "Error/Code") == 0)
		snprintf(d->cur_code, sizeof d->cur_code, "%s", text);
	else if (strcmp(sub, "Error") == 0) {
		if (d->errors++ == 0 && d->kcap) {
			snprintf(d->key, d->kcap, "%s", d->cur_key);
			snprintf(d->code, d->ccap, "%s", d->cur_code);
		}
		if (d->fn)
			d->fn(d->ctx, d->cur_key, d->cur_version, d->cur_code);
		d->cur_key[0] = d->cur_version[0] = d->cur_code[0] = '\0';
	}
}

long
s3_delete_refusals(const char *doc, size_t len, s3_refusal_fn *fn, void *ctx)
{
	struct delete_verdict d;

	memset(&d, 0, sizeof d);
	d.fn = fn;
	d.ctx = ctx;
	/* every refusal must be seen: a cut reply is no verdict */
	if (s3xml_parse(doc, len, delete_item, &d) < 0 || d.root != 1)
		return -1;
	return d.errors;
}

long
s3_delete_errors(const char *doc, size_t len, char *key, size_t kcap, char *code,
    size_t ccap)
{
	struct delete_verdict d;
	int rc;

	memset(&d, 0, sizeof d);
	d.key = key, d.kcap = kcap, d.code = code, d.ccap = ccap;
	if (kcap)
		key[0] = '\0';
	if (ccap)
		code[0] = '\0';
	rc = s3xml_parse(doc, len, delete_item, &d);
	/* a reply cut at S3_BODY_MAX still names the first refused key */
	if (d.errors > 0)
		return d.errors;
	return rc < 0 || d.root != 1 ? -1 : 0;
}

/* The refusals of one batch, copied out of the reply (whose buffer the
 * next request reuses) for s3_delete_versions' caller to judge. */
struct refusals {
	struct refusal { char *key, *version, *code; } *v;
	size_t n;
	int nomem;
};

static void
refusal_add(void *ctx, const char *key, const char *version, const char *code)
{
	struct refusals *rf = ctx;
	struct refusal *v;

	if (rf->nomem || (v = realloc(rf->v, (rf->n + 1) * sizeof *v)) == NULL) {
		rf->nomem = 1;
		return;
	}
	rf->v = v;
	v = &rf->v[rf->n];
	v->key = strdup(key);
	v->version = strdup(version);
	v->code = strdup(code);
	rf->n++;
	if (v->key == NULL || v->version == NULL || v->code == NULL)
		rf->nomem = 1;
}

static void
refusals_free(struct refusals *rf)
{
	size_t i;

	for (i = 0; i < rf->n; i++) {
		free(rf->v[i].key);
		free(rf->v[i].version);
		free(rf->v[i].code);
	}
	free(rf->v);
	memset(rf, 0, sizeof *rf);
}

/* Judge a batch's refusals: each one fn accepts is done with; the first
 * other fails the batch, naming it and how many more there were. */
static int
refusals_judge(struct s3 *s, struct s3_req *r, struct refusals *rf, size_t batch,
    s3_refused_fn *fn, void *ctx, struct log_err *e)
{
	size_t i, bad = 0, first = 0;
	struct log_err fe;
	int fe_set = 0;

	for (i = 0; i < rf->n; i++) {
		fe.msg[0] = '\0';
		if (fn && fn(ctx, rf->v[i].key, rf->v[i].version, rf->v[i].code, &fe) == 0)
			continue;
		if (bad++ == 0) {
			first = i;
			fe_set = fn != NULL && fe.msg[0] != '\0';
		}
	}
	if (bad == 0)
		return 0;
	if (fe_set && e) {
		*e = fe;
		return -1;
	}
	r->key = rf->v[first].key;
	r->what = "delete";
	if (bad > 1)
		return s3_fail(s, r, e, "%s%s%s (and %zu more of %zu keys)",
		    *rf->v[first].code ? rf->v[first].code : "no error code",
		    *rf->v[first].version ? " on version " : "", rf->v[first].version, bad - 1,
		    batch);
	return s3_fail(s, r, e, "%s%s%s", *rf->v[first].code ? rf->v[first].code :
	    "no error code", *rf->v[first].version ? " on version " : "",
	    rf->v[first].version);
}

int
s3_delete_versions(struct s3 *s, char *const *keys, char *const *versions, size_t n,
    s3_refused_fn *fn, void *ctx, struct log_err *e)
{
	struct s3_req r = { .what = "delete the objects of", .method = "POST", .key = NULL,
	    .query = "delete=" };
	struct refusals rf = { NULL, 0, 0 };
	char key[1100], code[64];
	size_t at, batch, len;
	char *doc;
	long bad;
	int rc;

	for (at = 0; at < n; at += batch) {
		batch = n - at < S3_DELETE_MAX ? n - at : S3_DELETE_MAX;
		r.key = NULL;
		r.what = "delete the objects of";
		if ((doc = s3_delete_body(keys + at, versions ? versions + at : NULL, batch,
		    &len)) == NULL)
			return s3_fail(s, &r, e, "out of memory");
		r.body = (const unsigned char *)doc;
		r.len = len;
		rc = s3_call(s, &r, e);
		free(doc);
		if (rc < 0)
			return -1;
		bad = s3_delete_refusals(s->x.resp.body ? s->x.resp.body : "", s->x.resp.len,
		    refusal_add, &rf);
		if (rf.nomem) {
			refusals_free(&rf);
			return s3_fail(s, &r, e, "out of memory");
		}
		if (bad < 0) {
			refusals_free(&rf);
			/* a reply cut at S3_BODY_MAX still names the first refused key */
			bad = s3_delete_errors(s->x.resp.body ? s->x.resp.body : "",
			    s->x.resp.len, key, sizeof key, code, sizeof code);
			if (bad <= 0)
				return s3_fail(s, &r, e, "the reply is not a DeleteResult");
			r.key = key;
			r.what = "delete";
			return s3_fail(s, &r, e, "%s (and more: the reply was cut)",
			    *code ? code : "no error code");
		}
		rc = refusals_judge(s, &r, &rf, batch, fn, ctx, e);
		refusals_free(&rf);
		if (rc < 0)
			return -1;
	}
	return 0;
}

int
s3_delete_many(struct s3 *s, char *const *keys, size_t n, struct log_err *e)
{
	return s3_delete_versions(s, keys, NULL, n, NULL, NULL, e);
}
