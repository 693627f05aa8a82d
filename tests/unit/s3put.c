/*
 * s3put: the retry rule every S3 request shares (s3xfer), and the
 * multipart writer's retry, Complete check and abort against a scripted
 * HTTP responder on 127.0.0.1 (a forked child), so no S3 server is needed.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <openssl/evp.h>

#include "s3put.h"
#include "s3tap.h"

#define MiB (1 << 20)
#define KEY "k/x.gz"
#define PATH "/b/" KEY

static void
retry_rule(void)
{
	tap_ok(s3_retryable(CURLE_COULDNT_CONNECT, 0), "a refused connection is tried again");
	tap_ok(s3_retryable(CURLE_RECV_ERROR, 200), "a cut answer is tried again");
	tap_ok(!s3_retryable(CURLE_PEER_FAILED_VERIFICATION, 0),
	    "an untrusted certificate is not");
	tap_ok(!s3_retryable(CURLE_URL_MALFORMAT, 0), "our own mistake is not");
	tap_ok(s3_retryable(CURLE_OK, 503), "503 SlowDown is tried again");
	tap_ok(s3_retryable(CURLE_OK, 500), "500 is tried again");
	tap_ok(s3_retryable(CURLE_OK, 408) && s3_retryable(CURLE_OK, 429),
	    "408 and 429 are tried again");
	tap_ok(s3_retryable(CURLE_OK, 200), "an <Error> in a 200 (Complete) is tried again");
	tap_ok(!s3_retryable(CURLE_OK, 403) && !s3_retryable(CURLE_OK, 404) &&
	    !s3_retryable(CURLE_OK, 412), "403, 404, 412 are not");
	tap_ok(!s3_retryable(CURLE_OK, 301) && !s3_retryable(CURLE_OK, 307),
	    "a redirect is not");
}

static void
retry_delay(void)
{
	struct s3 s;
	long v;

	memset(&s, 0, sizeof s);
	v = s3_retry_delay_ms(&s, 1);
	tap_ok(v >= 250 && v <= 500, "no deadline: the backoff itself");
	s.deadline = s3_mono_ms() + 100;
	tap_ok(s3_retry_delay_ms(&s, 4) <= 100, "the wait ends at the deadline");
	s.deadline = s3_mono_ms() - 10;
	tap_ok(s3_retry_delay_ms(&s, 4) == 0, "past the deadline: no wait");
}

/* One scripted exchange: the request expected, the answer given. */
struct step {
	const char *method;
	const char *target;	/* a prefix of "path?query" */
	int status;
	const char *headers;	/* "Name: value\r\n"... */
	const char *body;
};

/* Whether the writer is to send Content-MD5 (cfg.content_md5); the
 * responder calls a PUT that does otherwise unexpected. */
static int content_md5;

/* Read one request's head and body; its request line into line, whether
 * it had a Content-MD5 into *md5. */
static int
read_request(int c, char *line, size_t cap, int *md5)
{
	static char buf[65536];
	size_t n = 0;
	ssize_t r;
	char *end, *cl;
	long long body, have;

	for (;;) {
		if (n == sizeof buf - 1 || (r = read(c, buf + n, sizeof buf - 1 - n)) <= 0)
			return -1;
		n += (size_t)r;
		buf[n] = '\0';
		if ((end = strstr(buf, "\r\n\r\n")) != NULL)
			break;
	}
	snprintf(line, cap, "%.*s", (int)strcspn(buf, "\r"), buf);
	body = 0;
	*md5 = 0;
	for (cl = buf; (cl = strchr(cl, '\n')) != NULL && cl < end; ) {
		if (strncasecmp(++cl, "content-length:", 15) == 0)
			body = atoll(cl + 15);
		*md5 |= strncasecmp(cl, "content-md5:", 12) == 0;
	}
	have = (long long)(n - (size_t)(end + 4 - buf));
	while (have < body && (r = read(c, buf, sizeof buf)) > 0)
		have += r;
	return have < body ? -1 : 0;
}

/* The responder: answer each connection's one request with the next step,
 * and write "METHOD TARGET" (or "unexpected ...") to log. */
static void
serve(int ls, const struct step *st, int n, int log)
{
	char line[2048], method[16], target[1024], out[4096];
	int c, i, k, md5;

	for (i = 0; i < n; i++) {
		if ((c = accept(ls, NULL, NULL)) < 0 ||
		    read_request(c, line, sizeof line, &md5) < 0)
			_exit(1);
		if (sscanf(line, "%15s %1023s", method, target) != 2)
			_exit(1);
		if (strcmp(method, st[i].method) != 0 ||
		    strncmp(target, st[i].target, strlen(st[i].target)) != 0 ||
		    (strcmp(method, "PUT") == 0 && md5 != content_md5)) {
			dprintf(log, "unexpected %s %s%s\n", method, target,
			    md5 != content_md5 ? md5 ? " with Content-MD5" : " without Content-MD5" :
			    "");
			k = snprintf(out, sizeof out, "HTTP/1.1 400 Bad Request\r\n"
			    "Content-Length: 0\r\nConnection: close\r\n\r\n");
			i = n;
		} else {
			dprintf(log, "%s %.*s\n", method, (int)strlen(st[i].target), target);
			/* a HEAD's Content-Length, when given, is the object's */
			k = snprintf(out, sizeof out, "HTTP/1.1 %d X\r\n%s", st[i].status,
			    st[i].headers);
			if (strstr(st[i].headers, "Content-Length") == NULL)
				k += snprintf(out + k, sizeof out - (size_t)k,
				    "Content-Length: %zu\r\n", strlen(st[i].body));
			k += snprintf(out + k, sizeof out - (size_t)k, "Connection: close\r\n"
			    "\r\n%s", strcmp(method, "HEAD") ? st[i].body : "");
		}
		if (write(c, out, (size_t)k) != k)
			_exit(1);
		close(c);
	}
	_exit(0);
}

struct run {
	int rc;
	struct log_err e;
	char log[4096];
};

/* Upload size bytes (from a file on fd 0) to a responder playing st. */
static void
run(const struct step *st, int n, size_t size, struct run *out)
{
	static char endpoint[64], host[64], base[] = "/b", bucket[] = "b", region[] = "us-east-1",
	    ak[] = "AKIDEXAMPLE", sk[] = "secret";
	struct sockaddr_in a = { .sin_family = AF_INET };
	socklen_t alen = sizeof a;
	struct s3_cfg cfg = { .base_path = base, .bucket = bucket, .region = region,
	    .access_key = ak, .secret = sk, .part_size = 5 * MiB, .max_parts = 10000,
	    .parallel = 1, .tries = 3, .stall = 10, .path_style = 1,
	    .content_md5 = content_md5 };
	struct s3put_opts o = { .key = KEY, .commit_fd = -1 };
	char tmp[] = "/tmp/s3put.tXXXXXX", *data;
	int ls, lp[2], wake[2], fd, saved;
	struct s3 s;
	ssize_t r;
	size_t got = 0;
	pid_t pid;

	memset(out, 0, sizeof *out);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if ((ls = socket(AF_INET, SOCK_STREAM, 0)) < 0 || bind(ls, (void *)&a, sizeof a) < 0 ||
	    listen(ls, 8) < 0 || getsockname(ls, (void *)&a, &alen) < 0 || pipe(lp) < 0 ||
	    pipe(wake) < 0) {
		perror("s3put.t: responder");
		exit(1);
	}
	snprintf(endpoint, sizeof endpoint, "http://127.0.0.1:%d", ntohs(a.sin_port));
	snprintf(host, sizeof host, "127.0.0.1:%d", ntohs(a.sin_port));
	cfg.endpoint = endpoint;
	cfg.host = host;
	if ((pid = fork()) == 0) {
		close(lp[0]);
		serve(ls, st, n, lp[1]);
	}
	close(ls);
	close(lp[1]);

	/* the input: a regular file, so its size sets the parts */
	if ((fd = mkstemp(tmp)) < 0 || (data = calloc(1, size + 1)) == NULL ||
	    write(fd, data, size) != (ssize_t)size || lseek(fd, 0, SEEK_SET) != 0) {
		perror("s3put.t: input");
		exit(1);
	}
	free(data);
	unlink(tmp);
	saved = dup(0);
	dup2(fd, 0);
	close(fd);
	o.wake_fd = wake[0];
	if (s3_init(&s, &cfg, &out->e) < 0) {
		printf("# %s\n", out->e.msg);
		exit(1);
	}
	out->rc = s3put_upload(&s, &o, &out->e);
	s3_free(&s);
	dup2(saved, 0);
	close(saved);
	close(wake[0]);
	close(wake[1]);

	kill(pid, SIGTERM);	/* a step the writer never asked for */
	waitpid(pid, NULL, 0);
	while (got < sizeof out->log - 1 &&
	    (r = read(lp[0], out->log + got, sizeof out->log - 1 - got)) > 0)
		got += (size_t)r;
	close(lp[0]);
}

#define INITIATED "<InitiateMultipartUploadResult><UploadId>u1</UploadId>" \
	"</InitiateMultipartUploadResult>"
#define COMPLETED "<CompleteMultipartUploadResult><Key>" KEY "</Key>" \
	"</CompleteMultipartUploadResult>"
#define SLOWDOWN "<Error><Code>SlowDown</Code></Error>"

/* Two parts, the first answered 503 once: tried again under the one rule. */
static const struct step completes[] = {
	{ "POST", PATH "?uploads=", 200, "", INITIATED },
	{ "PUT", PATH "?partNumber=1&uploadId=u1", 503, "", SLOWDOWN },
	{ "PUT", PATH "?partNumber=1&uploadId=u1", 200, "ETag: \"e1\"\r\n", "" },
	{ "PUT", PATH "?partNumber=2&uploadId=u1", 200, "ETag: \"e2\"\r\n", "" },
	{ "POST", PATH "?uploadId=u1", 200, "", COMPLETED },
	{ "HEAD", PATH, 200, "ETag: \"x-2\"\r\nContent-Length: 6291456\r\n", "" },
};

/* The same, but Complete answers an empty 200 and the object is not there:
 * not published, so the upload is aborted. */
static const struct step empty_complete[] = {
	{ "POST", PATH "?uploads=", 200, "", INITIATED },
	{ "PUT", PATH "?partNumber=1&uploadId=u1", 200, "ETag: \"e1\"\r\n", "" },
	{ "PUT", PATH "?partNumber=2&uploadId=u1", 200, "ETag: \"e2\"\r\n", "" },
	{ "POST", PATH "?uploadId=u1", 200, "", "" },
	{ "HEAD", PATH, 404, "", "" },
	{ "HEAD", "/b", 200, "", "" },
	{ "DELETE", PATH "?uploadId=u1", 204, "", "" },
};

/* A part refused for good (403): no Complete, the upload aborted. */
static const struct step part_refused[] = {
	{ "POST", PATH "?uploads=", 200, "", INITIATED },
	{ "PUT", PATH "?partNumber=1&uploadId=u1", 403, "",
	    "<Error><Code>AccessDenied</Code></Error>" },
	{ "DELETE", PATH "?uploadId=u1", 204, "", "" },
};

/* Input shorter than a part: one PUT, then the HEAD that verifies. */
static const struct step single[] = {
	{ "PUT", PATH, 200, "ETag: \"e\"\r\n", "" },
	{ "HEAD", PATH, 200, "Content-Length: 1048576\r\n", "" },
};

/* Complete's answer lost, but the object holds exactly our parts: the
 * multipart ETag of two zero parts (5 MiB, 1 MiB), from the ETags S3 gave
 * them (their MD5s), and 6 MiB. */
static char ours[128], etag1[64], etag2[64];
static const struct step lost_answer[] = {
	{ "POST", PATH "?uploads=", 200, "", INITIATED },
	{ "PUT", PATH "?partNumber=1&uploadId=u1", 200, etag1, "" },
	{ "PUT", PATH "?partNumber=2&uploadId=u1", 200, etag2, "" },
	{ "POST", PATH "?uploadId=u1", 200, "", "" },
	{ "HEAD", PATH, 200, ours, "" },
	{ "HEAD", PATH, 200, ours, "" },
};

/* The same, but the object there is another writer's (its ETag is not
 * the one of our parts): not ours, the upload aborted. */
static const struct step lost_not_ours[] = {
	{ "POST", PATH "?uploads=", 200, "", INITIATED },
	{ "PUT", PATH "?partNumber=1&uploadId=u1", 200, etag1, "" },
	{ "PUT", PATH "?partNumber=2&uploadId=u1", 200, etag2, "" },
	{ "POST", PATH "?uploadId=u1", 200, "", "" },
	{ "HEAD", PATH, 200, "ETag: \"0123456789abcdef0123456789abcdef-2\"\r\n"
	    "Content-Length: 6291456\r\n", "" },
	{ "DELETE", PATH "?uploadId=u1", 204, "", "" },
};

/* Part ETags that are no MD5 (SSE-KMS, SSE-C): the count and size decide. */
static const struct step lost_kms[] = {
	{ "POST", PATH "?uploads=", 200, "", INITIATED },
	{ "PUT", PATH "?partNumber=1&uploadId=u1", 200, "ETag: \"e1\"\r\n", "" },
	{ "PUT", PATH "?partNumber=2&uploadId=u1", 200, "ETag: \"e2\"\r\n", "" },
	{ "POST", PATH "?uploadId=u1", 200, "", "" },
	{ "HEAD", PATH, 200, "ETag: \"kms-2\"\r\nContent-Length: 6291456\r\n", "" },
	{ "HEAD", PATH, 200, "ETag: \"kms-2\"\r\nContent-Length: 6291456\r\n", "" },
};
static const struct step lost_kms_other[] = {
	{ "POST", PATH "?uploads=", 200, "", INITIATED },
	{ "PUT", PATH "?partNumber=1&uploadId=u1", 200, "ETag: \"e1\"\r\n", "" },
	{ "PUT", PATH "?partNumber=2&uploadId=u1", 200, "ETag: \"e2\"\r\n", "" },
	{ "POST", PATH "?uploadId=u1", 200, "", "" },
	{ "HEAD", PATH, 200, "ETag: \"kms-3\"\r\nContent-Length: 6291456\r\n", "" },
	{ "DELETE", PATH "?uploadId=u1", 204, "", "" },
};

static void
md5_hex(char hex[33], const unsigned char *p, size_t n)
{
	unsigned char md[16];
	int i;

	EVP_Digest(p, n, md, NULL, EVP_md5(), NULL);
	for (i = 0; i < 16; i++)
		snprintf(hex + 2 * i, 3, "%02x", md[i]);
}

static void
multipart_etag(void)
{
	unsigned char md5s[32], *zero = calloc(1, 5 * MiB);
	char hex[33];
	int i;

	md5_hex(hex, zero, 5 * MiB);
	snprintf(etag1, sizeof etag1, "ETag: \"%s\"\r\n", hex);
	for (i = 0; i < 16; i++)
		sscanf(hex + 2 * i, "%2hhx", &md5s[i]);
	md5_hex(hex, zero, 1 * MiB);
	snprintf(etag2, sizeof etag2, "ETag: \"%s\"\r\n", hex);
	for (i = 0; i < 16; i++)
		sscanf(hex + 2 * i, "%2hhx", &md5s[16 + i]);
	md5_hex(hex, md5s, 32);
	snprintf(ours, sizeof ours, "ETag: \"%s-2\"\r\nContent-Length: 6291456\r\n", hex);
	free(zero);
}

/* The writer, given size bytes, makes exactly the requests of st, in order,
 * and ends with rc (and, when -1, a message holding cause). */
static void
plays(const struct step *st, int n, size_t size, int rc, const char *cause, const char *desc)
{
	char want[4096] = "";
	struct run r;
	int i;

	for (i = 0; i < n; i++)
		snprintf(want + strlen(want), sizeof want - strlen(want), "%s %s\n",
		    st[i].method, st[i].target);
	run(st, n, size, &r);
	tap_ok(r.rc == rc && (cause == NULL || strstr(r.e.msg, cause) != NULL), desc);
	if (r.rc != rc || (cause && strstr(r.e.msg, cause) == NULL))
		printf("# rc %d: %s\n", r.rc, r.rc < 0 ? r.e.msg : "");
	tap_is(r.log, want, "...by the requests scripted, no more");
}

#define N(a) (int)(sizeof a / sizeof a[0])

static void
writer(void)
{
	multipart_etag();
	plays(single, N(single), 1 * MiB, 0, NULL,
	    "shorter than a part (the plan's first): one PUT, verified");
	plays(completes, N(completes), 6 * MiB, 0, NULL,
	    "two parts, part 1 answered 503 once: sent again, completed, verified");
	plays(empty_complete, N(empty_complete), 6 * MiB, -1, "CompleteMultipartUploadResult",
	    "an empty 200 to Complete, no object: a failure, and the upload aborted");
	plays(lost_answer, N(lost_answer), 6 * MiB, 0, NULL,
	    "an empty 200 to Complete, but our parts are there: published");
	plays(lost_not_ours, N(lost_not_ours), 6 * MiB, -1, "CompleteMultipartUploadResult",
	    "an empty 200 to Complete, another object there: a failure, the upload aborted");
	plays(lost_kms, N(lost_kms), 6 * MiB, 0, NULL,
	    "part ETags that are no MD5s (SSE): the part count and size say it is ours");
	plays(lost_kms_other, N(lost_kms_other), 6 * MiB, -1, "CompleteMultipartUploadResult",
	    "...and another count says it is not: the upload aborted");
	/* Content-MD5 only where required: the responder checks each PUT */
	content_md5 = 1;
	plays(single, N(single), 1 * MiB, 0, NULL,
	    "content_md5 set (Object Lock): the single PUT carries Content-MD5");
	plays(completes, N(completes), 6 * MiB, 0, NULL,
	    "...and so does every part");
	content_md5 = 0;
	plays(part_refused, N(part_refused), 6 * MiB, -1, "AccessDenied",
	    "a 403 to a part: not tried again, no Complete, the upload aborted");
}

int
main(void)
{
	signal(SIGPIPE, SIG_IGN);
	retry_rule();
	retry_delay();
	writer();
	return tap_done();
}
