/* culprit: the stage to blame, by cause (see culprit.h). */
#include <signal.h>

#include "culprit.h"

void
culprit_end(struct culprit *c, int status, int sig)
{
	c->gone = c->ended = 1;
	c->failed = status != 0 || sig != 0;
	c->sigpipe = sig == SIGPIPE;
}

void
culprit_cut(struct culprit *c, int open)
{
	if (open && !c->gone)
		c->cut = 1;
}

void
culprit_left(struct culprit *c)
{
	c->gone = 1;
}

void
culprit_withhold(struct culprit *c, int open)
{
	if (open && !c->gone)
		c->withheld = 1;
}

void
culprit_stop(struct culprit *c)
{
	if (!c->ended)
		c->stopped = 1;
}

int
culprit_own(const struct culprit *c)
{
	return c->failed && !c->sigpipe && !c->cut && !c->withheld && !c->stopped;
}

int
culprit_find(const struct culprit *c, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (culprit_own(&c[i]))
			return (int)i;
	for (i = 0; i < n; i++)
		if (c[i].failed && !c[i].stopped)
			return (int)i;
	return -1;
}
