/*
 * log: the one way pgbak programs report errors and choose exit statuses.
 *
 * Exit statuses, the same for every program (see pgbak(7)):
 *   0    success
 *   1    a "no" answer: the object is absent, or exists under --if-absent
 *   100  usage or configuration error: fix the command line or settings
 *   111  system, network or remote failure: may work when retried
 *   126  a program could not be run
 *   127  a program was not found
 *   128+N  a child was killed by signal N
 *
 * Libraries never print or exit: they fill a struct log_err and return -1.
 * Only main() calls die().
 */
#ifndef PGBAK_LOG_H
#define PGBAK_LOG_H

#include <stdarg.h>
#include <stdnoreturn.h>

enum {
	EXIT_OK = 0,
	EXIT_NO = 1,
	EXIT_USAGE = 100,
	EXIT_TEMP = 111,
	EXIT_NOEXEC = 126,
	EXIT_NOTFOUND = 127,
	EXIT_SIGNAL = 128
};

/* An error a library function reports to its caller. */
struct log_err {
	int status;		/* exit status it maps to: EXIT_USAGE, EXIT_TEMP, ... */
	char msg[1024];		/* one line, no program name, no trailing newline */
};

extern const char *log_prog;	/* program name, set by log_init */
extern int log_verbose;		/* -v count */

/* First thing in main: the program name from argv0, and descriptors 0, 1
 * and 2 open (a closed one becomes /dev/null; exit 111 if it cannot). */
void log_init(const char *argv0);
/* Standard input was closed when log_init ran: a program whose input is the
 * data to store refuses it rather than store /dev/null's empty stream. */
extern int log_stdin_closed;

/* Fill e (if not NULL) and return -1, so that "return log_fail(...)" reads well. */
int log_fail(struct log_err *e, int status, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* The same, with ": strerror(errno)" appended. */
int log_fail_sys(struct log_err *e, int status, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* "prog: message" on stderr. */
void warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void warn_sys(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* The same, printed only with -v. */
void info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
noreturn void die(int status, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
noreturn void die_sys(int status, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
noreturn void die_err(const struct log_err *e);

/* Exit EXIT_USAGE with one line for a getopt_long error: ch is ':' (missing
 * argument) or anything else (unknown option); needs opterr = 0 and an
 * optstring that starts with ':'. */
noreturn void die_badopt(int ch, char **argv, const char *usage);

/* Flush standard output, remembering why it first failed; 0, or -1 once it
 * has failed (it stays failed).  For output that must not stop the work. */
int log_flush_stdout(void);

/* main's last word, after the manner of gnulib's close_stdout: status when
 * standard output was all written, else one line saying why and EXIT_TEMP
 * (or status, when that already is a failure other than EXIT_NO). */
int log_stdout_done(int status);

/* --help's end: flush standard output and exit 0, or 111 with a message
 * when it could not be written. */
noreturn void log_help_done(void);

/* Print "prog VERSION" and the libraries, exit 0: every program's --version. */
noreturn void log_version(void);

#endif
