/* creds_http: a stub until the network sources land (branch credsnet). */
#include <stdio.h>

#include "creds.h"

static int
not_built(char *why, size_t yn)
{
	snprintf(why, yn, "not built");
	return 0;
}

int
creds_web_identity(const struct creds_src *in, struct creds *c, char *what, size_t wn,
    char *why, size_t yn, struct log_err *e)
{
	(void)in, (void)c, (void)what, (void)wn, (void)e;
	return not_built(why, yn);
}

int
creds_container(const struct creds_src *in, struct creds *c, char *what, size_t wn,
    char *why, size_t yn, struct log_err *e)
{
	(void)in, (void)c, (void)what, (void)wn, (void)e;
	return not_built(why, yn);
}

int
creds_imds(const struct creds_src *in, struct creds *c, char *what, size_t wn, char *why,
    size_t yn, struct log_err *e)
{
	(void)in, (void)c, (void)what, (void)wn, (void)e;
	return not_built(why, yn);
}
