/* Unit tests of lib/ping: which URLs are accepted, the /fail URL, and the
 * errors of a GET that cannot succeed (a closed port on 127.0.0.1), which
 * name the host and never the token. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "ping.h"
#include "tap.h"

static const struct { const char *url, *fail; } fails[] = {
	{ "https://hc-ping.com/5e2a-token", "https://hc-ping.com/5e2a-token/fail" },
	{ "https://hc-ping.com/5e2a-token/", "https://hc-ping.com/5e2a-token/fail" },
	{ "https://hc-ping.com/5e2a-token?rid=7", "https://hc-ping.com/5e2a-token/fail?rid=7" },
	{ "http://127.0.0.1:8000", "http://127.0.0.1:8000/fail" },
	{ "http://h:1/ping/key/slug", "http://h:1/ping/key/slug/fail" },
};

static const char *const good[] = {
	"https://hc-ping.com/uuid", "http://127.0.0.1:9/x", "HTTPS://h/x", "http://h",
};
/* No scheme, another scheme, no host, not a URL at all. */
static const char *const bad[] = {
	"hc-ping.com/sekrit-token", "ftp://h/sekrit-token", "file:///sekrit-token",
	"https:///sekrit-token", "", "sekrit-token", "https://exa mple/sekrit-token",
};

/* A port on 127.0.0.1 nobody listens on: bound, then closed. */
static int
closed_port(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	socklen_t n = sizeof a;
	int fd = socket(AF_INET, SOCK_STREAM, 0), port;

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof a) < 0 ||
	    getsockname(fd, (struct sockaddr *)&a, &n) < 0)
		return 1;
	port = ntohs(a.sin_port);
	close(fd);
	return port;
}

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

int
main(void)
{
	struct log_err e;
	char url[128], *f;
	int fds[2];
	double t0;
	size_t i;

	for (i = 0; i < sizeof fails / sizeof fails[0]; i++) {
		f = ping_fail_url(fails[i].url);
		is_str(f, fails[i].fail, "fail URL of %s", fails[i].url);
		free(f);
	}
	ok(ping_fail_url("not a url") == NULL, "no fail URL for what is not a URL");
	for (i = 0; i < sizeof good / sizeof good[0]; i++)
		ok(ping_check(good[i], &e) == 0, "accepted: %s", good[i]);
	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		e.msg[0] = '\0';
		ok(ping_check(bad[i], &e) == -1 && e.status == EXIT_USAGE &&
		    strstr(e.msg, "sekrit") == NULL && *e.msg, "refused, not shown: \"%s\"", bad[i]);
	}

	unsetenv("http_proxy"), unsetenv("HTTP_PROXY"), unsetenv("all_proxy");
	unsetenv("ALL_PROXY");
	snprintf(url, sizeof url, "http://127.0.0.1:%d/sekrit-token", closed_port());
	t0 = now();
	ok(ping_get(url, 5, -1, &e) == -1 && e.status == EXIT_TEMP, "a closed port fails");
	ok(now() - t0 >= 2.9, "after %d tries, 1 s then 2 s apart (%.1f s)", PING_TRIES,
	    now() - t0);
	ok(strstr(e.msg, "127.0.0.1") == e.msg && strstr(e.msg, "sekrit") == NULL,
	    "the error names the host, not the token: %s", e.msg);

	if (pipe(fds) < 0 || write(fds[1], "x", 1) != 1)
		return 1;
	t0 = now();
	ok(ping_get(url, 5, fds[0], &e) == -1 && strstr(e.msg, "cancelled") != NULL,
	    "a readable cancel descriptor stops the retries: %s", e.msg);
	ok(now() - t0 < 0.9, "at once (%.2f s)", now() - t0);
	close(fds[0]), close(fds[1]);
	return tap_done();
}
