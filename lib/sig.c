/* sig: the signals a pgbak program cleans up after (see sig.h). */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "sig.h"

void
sig_stop_set(sigset_t *set)
{
	static const int term[] = {
		SIGHUP, SIGINT, SIGQUIT, SIGUSR1, SIGUSR2, SIGPIPE, SIGALRM, SIGTERM,
		SIGXCPU, SIGXFSZ, SIGVTALRM, SIGPROF,
#ifdef SIGSTKFLT
		SIGSTKFLT,
#endif
#ifdef SIGIO
		SIGIO,
#endif
#ifdef SIGPWR
		SIGPWR,
#endif
	};
	size_t i;
	int s;

	sigemptyset(set);
	for (i = 0; i < sizeof term / sizeof term[0]; i++)
		sigaddset(set, term[i]);
	for (s = SIGRTMIN; s <= SIGRTMAX; s++)
		sigaddset(set, s);
}

int
sig_catch(void (*handler)(int), int flags)
{
	struct sigaction sa;
	int s;

	memset(&sa, 0, sizeof sa);
	sa.sa_handler = handler;
	sa.sa_flags = flags;
	sig_stop_set(&sa.sa_mask);
	/* EINVAL: one the system keeps for itself (valgrind takes a real-time
	 * signal), which nobody can send us then */
	for (s = 1; s < NSIG; s++)
		if (sigismember(&sa.sa_mask, s) == 1 && sigaction(s, &sa, NULL) < 0 &&
		    errno != EINVAL)
			return -1;
	return 0;
}

void
die_by_signal(int sig)
{
	sigset_t set;

	if (sig == 0)
		return;
	signal(sig, SIG_DFL);
	sigemptyset(&set);
	sigaddset(&set, sig);
	sigprocmask(SIG_UNBLOCK, &set, NULL);
	raise(sig);
	exit(EXIT_SIGNAL + sig);
}
