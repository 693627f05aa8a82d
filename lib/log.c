/* log: error reporting and the exit-status table (see log.h). */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <curl/curl.h>
#include <openssl/crypto.h>
#include <yaml.h>
#include <zlib.h>

#include "log.h"

const char *log_prog = "pgbak";
int log_verbose;

/*
 * A program started with 0, 1 or 2 closed would get its first pipe, socket
 * or file there, and read its input from it or write its output and errors
 * into it.  Each closed one becomes /dev/null first, as daemons and skalibs
 * do: the lowest free descriptor is the one being filled, since the ones
 * below it are open.
 */
int log_stdin_closed;

static void
std_fds_open(void)
{
	int fd;

	for (fd = 0; fd <= 2; fd++) {
		if (fcntl(fd, F_GETFD) >= 0 || errno != EBADF)
			continue;
		if (fd == 0)
			log_stdin_closed = 1;
		if (open("/dev/null", fd == 0 ? O_RDONLY : O_WRONLY) < 0)
			die_sys(EXIT_TEMP, "unable to open /dev/null for closed descriptor %d", fd);
	}
}

void
log_init(const char *argv0)
{
	const char *s;

	if (argv0 != NULL && *argv0 != '\0') {
		s = strrchr(argv0, '/');
		log_prog = s ? s + 1 : argv0;
	}
	std_fds_open();
}

static int
vfail(struct log_err *e, int status, int errnum, const char *fmt, va_list ap)
{
	size_t n;

	if (e == NULL)
		return -1;
	e->status = status;
	vsnprintf(e->msg, sizeof e->msg, fmt, ap);
	if (errnum) {
		n = strlen(e->msg);
		snprintf(e->msg + n, sizeof e->msg - n, ": %s", strerror(errnum));
	}
	return -1;
}

int
log_fail(struct log_err *e, int status, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vfail(e, status, 0, fmt, ap);
	va_end(ap);
	return -1;
}

int
log_fail_sys(struct log_err *e, int status, const char *fmt, ...)
{
	va_list ap;
	int errnum = errno;

	va_start(ap, fmt);
	vfail(e, status, errnum, fmt, ap);
	va_end(ap);
	return -1;
}

/*
 * Write one message as exactly one line: a newline or terminal escape that
 * came from argv, a key or a file shows as '?', so an error is always one
 * line and never moves a watching operator's cursor.  One write per message,
 * so lines from parallel children do not interleave.
 */
static void
emit(char *buf, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if ((unsigned char)buf[i] < 0x20 || buf[i] == 0x7f)
			buf[i] = '?';
	buf[n++] = '\n';
	fwrite(buf, 1, n, stderr);
	fflush(stderr);
}

static void
vlog(int errnum, const char *fmt, va_list ap)
{
	char buf[2048];
	size_t n;

	n = (size_t)snprintf(buf, sizeof buf, "%s: ", log_prog);
	if (n < sizeof buf)
		vsnprintf(buf + n, sizeof buf - n, fmt, ap);
	n = strlen(buf);
	if (errnum && n < sizeof buf)
		snprintf(buf + n, sizeof buf - n, ": %s", strerror(errnum));
	n = strlen(buf);
	if (n > sizeof buf - 2)
		n = sizeof buf - 2;
	emit(buf, n);
}

void
warn(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(0, fmt, ap);
	va_end(ap);
}

void
warn_sys(const char *fmt, ...)
{
	va_list ap;
	int errnum = errno;

	va_start(ap, fmt);
	vlog(errnum, fmt, ap);
	va_end(ap);
}

void
info(const char *fmt, ...)
{
	va_list ap;

	if (!log_verbose)
		return;
	va_start(ap, fmt);
	vlog(0, fmt, ap);
	va_end(ap);
}

void
die(int status, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(0, fmt, ap);
	va_end(ap);
	exit(status);
}

void
die_sys(int status, const char *fmt, ...)
{
	va_list ap;
	int errnum = errno;

	va_start(ap, fmt);
	vlog(errnum, fmt, ap);
	va_end(ap);
	exit(status);
}

void
die_err(const struct log_err *e)
{
	char buf[2048];
	int n;

	n = snprintf(buf, sizeof buf - 1, "%s: %s", log_prog, e->msg);
	if (n < 0)
		n = 0;
	if ((size_t)n > sizeof buf - 2)
		n = sizeof buf - 2;
	emit(buf, (size_t)n);
	exit(e->status ? e->status : EXIT_TEMP);
}

void
die_badopt(int ch, char **argv, const char *usage)
{
	const char *arg = argv[optind - 1];

	if (ch == ':')
		die(EXIT_USAGE, "option %s needs an argument; %s", arg, usage);
	if (strncmp(arg, "--", 2) == 0 || optopt == 0)
		die(EXIT_USAGE, "invalid option %s; %s", arg, usage);
	die(EXIT_USAGE, "invalid option -%c; %s", optopt, usage);
}

void
log_version(void)
{
	int maj, min, pat;

	yaml_get_version(&maj, &min, &pat);
	printf("%s (pgbak) %s\n", log_prog, PGBAK_VERSION);
	printf("libcurl %s, %s, zlib %s, libyaml %d.%d.%d\n",
	    curl_version_info(CURLVERSION_NOW)->version,
	    OpenSSL_version(OPENSSL_VERSION), zlibVersion(), maj, min, pat);
	exit(log_stdout_done(EXIT_OK));
}

/* Why standard output first failed: 0 it has not, -1 for a cause stdio lost. */
static int stdout_errno;

int
log_flush_stdout(void)
{
	int rc;

	if (stdout_errno)
		return -1;
	errno = 0;
	rc = fflush(stdout);
	if (rc == EOF && errno)
		stdout_errno = errno;
	else if (rc == EOF || ferror(stdout))
		stdout_errno = -1;
	return stdout_errno ? -1 : 0;
}

int
log_stdout_done(int status)
{
	if (log_flush_stdout() == 0)
		return status;
	if (stdout_errno > 0) {
		errno = stdout_errno;
		warn_sys("unable to write to standard output");
	} else {
		warn("unable to write to standard output");
	}
	return status == EXIT_OK || status == EXIT_NO ? EXIT_TEMP : status;
}

void
log_help_done(void)
{
	exit(log_stdout_done(EXIT_OK));
}
