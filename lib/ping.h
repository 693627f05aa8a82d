/*
 * ping: one HTTP(S) GET whose answer matters only by its status, the way a
 * dead man's switch (healthchecks.io and its kin) is told that a job ran.
 *
 * The URL usually carries a token, so it is treated as a secret: no message
 * of this module holds it, only its host.  TLS is verified against the
 * system store, or the bundle named by CURL_CA_BUNDLE as for curl(1);
 * proxies come from the usual variables (https_proxy, no_proxy).
 */
#ifndef PGBAK_PING_H
#define PGBAK_PING_H

#include "log.h"

#define PING_TRIES 3		/* the first try and 2 retries */

/* 0 when url is an absolute http:// or https:// URL with a host, else -1
 * (EXIT_USAGE) with a message that does not show it. */
int ping_check(const char *url, struct log_err *e);

/* url with "/fail" appended to its path (before any query), healthchecks'
 * way of reporting a failure; malloc'd, NULL when url does not parse. */
char *ping_fail_url(const char *url);

/* GET url: 0 on a 2xx answer (after redirects, at most 3), else -1 with
 * "HOST: HTTP 500" or "HOST: the curl error" in e (EXIT_TEMP).  A network
 * error, a timeout, 429 or 5xx is retried up to PING_TRIES in all, 1 s then
 * 2 s apart; timeout_s bounds each try.  cancel_fd (-1: none) readable stops
 * it at once. */
int ping_get(const char *url, long timeout_s, int cancel_fd, struct log_err *e);

#endif
