/*
 * sig: the signals after which a pgbak program cleans up before it dies.
 *
 * Every signal whose default action ends the process is one, as far as it
 * can be caught: SIGTERM and SIGINT, and as much SIGQUIT, SIGUSR1, SIGALRM,
 * the real-time signals...  Left out: SIGKILL, which nothing can catch, and
 * the faults of the program's own code (SIGSEGV, SIGBUS, SIGFPE, SIGILL,
 * SIGABRT, SIGTRAP, SIGSYS), after which its memory cannot be trusted to
 * clean up with.  Their default action is the program's to keep.
 */
#ifndef PGBAK_SIG_H
#define PGBAK_SIG_H

#include <signal.h>

/* Fill set with the signals named above. */
void sig_stop_set(sigset_t *set);

/* Give each of them handler, with sa_flags flags and every one of them
 * blocked while it runs; -1 (errno set) when one could not be set.  One the
 * system keeps for itself (valgrind takes a real-time signal) is skipped. */
int sig_catch(void (*handler)(int), int flags);

/* After cleaning up, die of signal sig (its default action, restored and
 * unblocked), as a caller waiting for us expects; exit 128+sig should it
 * survive.  Returns at once when sig is 0: no signal stopped us. */
void die_by_signal(int sig);

#endif
