/*
 * creds_file: the shared files' source of the chain (see creds.h), as the
 * AWS SDKs read them:
 *   AWS_SHARED_CREDENTIALS_FILE (~/.aws/credentials), section [NAME];
 *   AWS_CONFIG_FILE (~/.aws/config), section [profile NAME] ([default] too);
 *   NAME from AWS_PROFILE, else "default".
 * In the credentials file's section: aws_access_key_id, aws_secret_access_key,
 * aws_session_token; else credential_process from either file; else the same
 * keys in the config file's section (botocore's order).  region is read
 * from the config file for s3cfg.
 *
 * credential_process runs with a fixed argv split here (whitespace, "double
 * quotes"), never through a shell: the value is a command line in a file,
 * not a script.  Its standard output is bounded and it has a time limit; it
 * prints JSON Version 1 (AccessKeyId, SecretAccessKey, SessionToken,
 * Expiration), read with flatjson.  A refresh runs it again.
 */
#define _GNU_SOURCE 1		/* memfd_create, F_ADD_SEALS */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "creds.h"
#include "flatjson.h"
#include "spawn.h"

#define FILE_MAX (1024 * 1024)		/* bytes of a credentials or config file */
#define PROCESS_OUT_MAX (64 * 1024)	/* bytes credential_process may print */
#define PROCESS_TIMEOUT_MS 60000	/* ...and how long it may take */
#define PROCESS_ARGS_MAX 64

static int
is_blank(char ch)
{
	return ch == ' ' || ch == '\t' || ch == '\r';
}

/* [s, end) without blanks at either end. */
static void
trim(const char **s, const char **end)
{
	while (*s < *end && is_blank(**s))
		(*s)++;
	while (*end > *s && is_blank((*end)[-1]))
		(*end)--;
}

char *
creds_ini_value(const char *doc, const char *section, const char *key)
{
	const char *p = doc, *nl, *a, *b, *eq;
	size_t sn = strlen(section), kn = strlen(key);
	int in = 0;
	char *v;

	for (; *p; p = *nl ? nl + 1 : nl) {
		nl = p + strcspn(p, "\n");
		if (is_blank(*p))	/* a nested value's line (s3 =\n  x = y): not ours */
			continue;
		a = p, b = nl;
		trim(&a, &b);
		if (a == b || *a == '#' || *a == ';')
			continue;
		if (*a == '[') {
			if (b[-1] != ']' || b - a < 2) {
				in = 0;
				continue;
			}
			a++, b--;
			trim(&a, &b);
			in = (size_t)(b - a) == sn && memcmp(a, section, sn) == 0;
			continue;
		}
		if (!in || (eq = memchr(a, '=', (size_t)(b - a))) == NULL)
			continue;
		b = eq;
		trim(&a, &b);
		if ((size_t)(b - a) != kn || memcmp(a, key, kn) != 0)
			continue;
		a = eq + 1, b = nl;
		trim(&a, &b);
		if ((v = strndup(a, (size_t)(b - a))) == NULL)
			return NULL;
		return v;
	}
	errno = ENOENT;
	return NULL;
}

/* The file's path: the variable's value ("~/" is $HOME's), else ~/.aws/dflt. */
static int
file_path(char *buf, size_t n, const char *var, const char *dflt)
{
	const char *v = getenv(var), *home = getenv("HOME");

	if (v && *v && strncmp(v, "~/", 2) != 0)
		return snprintf(buf, n, "%s", v) < (int)n ? 0 : -1;
	if (home == NULL || *home == '\0')
		return -1;
	if (v && *v)
		return snprintf(buf, n, "%s/%s", home, v + 2) < (int)n ? 0 : -1;
	return snprintf(buf, n, "%s/.aws/%s", home, dflt) < (int)n ? 0 : -1;
}

/* The file as a string (wiped with creds_wipe_str): 1, 0 when there is no such
 * file, -1 with e.  Read to its end, not by its size: /dev/null is a usual
 * AWS_CONFIG_FILE for "none". */
static int
read_doc(const char *path, char **doc, struct log_err *e)
{
	size_t off = 0;
	ssize_t r;
	int fd;

	*doc = NULL;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)) < 0) {
		if (errno == ENOENT || errno == ENOTDIR)
			return 0;
		return log_fail_sys(e, EXIT_USAGE, "unable to read %s", path);
	}
	if ((*doc = malloc(FILE_MAX + 1)) == NULL) {
		close(fd);
		return log_fail_sys(e, EXIT_TEMP, "unable to read %s", path);
	}
	while (off <= FILE_MAX && ((r = read(fd, *doc + off, FILE_MAX + 1 - off)) > 0 ||
	    (r < 0 && errno == EINTR)))
		off += r > 0 ? (size_t)r : 0;
	if (r < 0 || off > FILE_MAX || memchr(*doc, '\0', off) != NULL) {
		if (r < 0)
			log_fail_sys(e, EXIT_USAGE, "unable to read %s", path);
		else
			log_fail(e, EXIT_USAGE, "%s: not a text file of at most %d bytes", path,
			    FILE_MAX);
		OPENSSL_cleanse(*doc, off);
		free(*doc);
		*doc = NULL;
		close(fd);
		return -1;
	}
	close(fd);
	(*doc)[off] = '\0';
	return 1;
}

/* The two files of a profile, read. */
struct files {
	char cred_path[4096], conf_path[4096];
	char *cred, *conf;	/* NULL: no such file */
	char conf_section[300];	/* "profile NAME", or "default" */
};

static int
files_read(struct files *f, const char *profile, struct log_err *e)
{
	memset(f, 0, sizeof *f);
	snprintf(f->conf_section, sizeof f->conf_section, strcmp(profile, "default") == 0 ?
	    "%s" : "profile %s", profile);
	if (file_path(f->cred_path, sizeof f->cred_path, "AWS_SHARED_CREDENTIALS_FILE",
	    "credentials") == 0 && read_doc(f->cred_path, &f->cred, e) < 0)
		return -1;
	if (file_path(f->conf_path, sizeof f->conf_path, "AWS_CONFIG_FILE", "config") == 0 &&
	    read_doc(f->conf_path, &f->conf, e) < 0) {
		creds_wipe_str(&f->cred);
		return -1;
	}
	return 0;
}

static void
files_free(struct files *f)
{
	creds_wipe_str(&f->cred);
	creds_wipe_str(&f->conf);
}

/* key of the profile in the config file: [profile NAME], or [default]. */
static char *
conf_value(const struct files *f, const char *key)
{
	char *v;

	if (f->conf == NULL)
		return NULL;
	if ((v = creds_ini_value(f->conf, f->conf_section, key)) == NULL &&
	    strcmp(f->conf_section, "default") == 0)
		v = creds_ini_value(f->conf, "profile default", key);
	return v;
}

static int
has_section(const char *doc, const char *section)
{
	const char *p = doc, *a, *b;
	size_t n = strlen(section);

	for (; doc && *p; p += strcspn(p, "\n"), p += *p == '\n') {
		a = p, b = p + strcspn(p, "\n");
		trim(&a, &b);
		if (b - a < 2 || *a != '[' || b[-1] != ']')
			continue;
		a++, b--;
		trim(&a, &b);
		if ((size_t)(b - a) == n && memcmp(a, section, n) == 0)
			return 1;
	}
	return 0;
}

int
creds_profile_region(const char *profile, char **region, struct log_err *e)
{
	struct files f;

	*region = NULL;
	if (files_read(&f, profile ? profile : "default", e) < 0)
		return -1;
	*region = conf_value(&f, "region");
	files_free(&f);
	if (*region && **region == '\0') {
		free(*region);
		*region = NULL;
	}
	return 0;
}

/* The keys of a section: 1 with c, 0 when it has no aws_access_key_id, -1. */
static int
keys_of(const char *doc, const char *section, const char *path, const char *profile,
    struct creds *c, struct log_err *e)
{
	char *k, *s, *t;

	if (doc == NULL || (k = creds_ini_value(doc, section, "aws_access_key_id")) == NULL)
		return 0;
	s = creds_ini_value(doc, section, "aws_secret_access_key");
	t = creds_ini_value(doc, section, "aws_session_token");
	if (s == NULL || *k == '\0' || *s == '\0') {
		free(k);
		creds_wipe_str(&s);
		creds_wipe_str(&t);
		return log_fail(e, EXIT_USAGE, "profile \"%s\" in %s: aws_access_key_id and "
		    "aws_secret_access_key go together", profile, path);
	}
	memset(c, 0, sizeof *c);
	c->access_key = k, c->secret = s, c->token = t;
	if (t && *t == '\0')
		creds_wipe_str(&c->token);
	return 1;
}

/* Split a command line into argv: blanks separate, "double quotes" group
 * (\" and \\ inside them).  0, or -1 when it is empty, unbalanced or long. */
static int
split_argv(char *s, char **argv, size_t max)
{
	size_t n = 0;
	char *o;

	for (;;) {
		while (is_blank(*s) || *s == '\n')
			s++;
		if (*s == '\0')
			break;
		if (n + 1 >= max)
			return -1;
		argv[n++] = o = s;
		while (*s && !is_blank(*s) && *s != '\n') {
			if (*s != '"') {
				*o++ = *s++;
				continue;
			}
			for (s++; *s && *s != '"'; )
				*o++ = *s == '\\' && (s[1] == '"' || s[1] == '\\') ? (s++, *s++) :
				    *s++;
			if (*s++ != '"')
				return -1;
		}
		if (*s)
			s++;
		*o = '\0';
	}
	argv[n] = NULL;
	return n ? 0 : -1;
}

/* A descriptor the process writes into that cannot grow past max bytes. */
static int
bounded_out(size_t max)
{
	int fd = memfd_create("pgbak-credential-process", MFD_CLOEXEC | MFD_ALLOW_SEALING);

	if (fd < 0)
		return -1;
	if (ftruncate(fd, (off_t)max) < 0 ||
	    fcntl(fd, F_ADD_SEALS, F_SEAL_GROW | F_SEAL_SHRINK | F_SEAL_SEAL) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/* The JSON credential_process printed, into c. */
static int
parse_process(const char *doc, size_t len, const char *who, struct creds *c,
    struct log_err *e)
{
	struct flatjson j;
	const char *v, *k, *s, *t, *x;
	int r = 0;

	memset(&j, 0, sizeof j);
	if (flatjson_parse(&j, doc, len) < 0)
		return log_fail(e, EXIT_USAGE, "%s printed no JSON object", who);
	v = flatjson_get(&j, "Version");
	k = flatjson_get(&j, "AccessKeyId");
	s = flatjson_get(&j, "SecretAccessKey");
	t = flatjson_get(&j, "SessionToken");
	x = flatjson_get(&j, "Expiration");
	memset(c, 0, sizeof *c);
	if (v == NULL || strcmp(v, "1") != 0)
		r = log_fail(e, EXIT_USAGE, "%s printed Version %s, not 1", who, v ? v : "(none)");
	else if (k == NULL || s == NULL || *k == '\0' || *s == '\0')
		r = log_fail(e, EXIT_USAGE, "%s printed no AccessKeyId or no SecretAccessKey",
		    who);
	else if (x && (c->expires = creds_time(x)) < 0)
		r = log_fail(e, EXIT_USAGE, "%s printed Expiration %s: not a time like "
		    "2026-11-30T17:09:11Z", who, x);
	else if ((c->access_key = strdup(k)) == NULL || (c->secret = strdup(s)) == NULL ||
	    (t && *t && (c->token = strdup(t)) == NULL))
		r = log_fail_sys(e, EXIT_TEMP, "unable to read what %s printed", who);
	if (r < 0)
		creds_wipe(c);
	flatjson_free(&j);
	return r < 0 ? -1 : 1;
}

/* Run credential_process cmd of profile into c. */
static int
run_process(const char *cmd, const char *profile, int cancel_fd, struct creds *c,
    struct log_err *e)
{
	struct spawn_stage st;
	struct spawn_pipe p;
	struct log_err se;
	char *line = strdup(cmd), *argv[PROCESS_ARGS_MAX], who[300], why[1024], *doc = NULL;
	off_t used;
	int fd = -1, r = -1;

	snprintf(who, sizeof who, "credential_process of profile \"%s\"", profile);
	if (line == NULL)
		return log_fail_sys(e, EXIT_TEMP, "unable to run %s", who);
	if (split_argv(line, argv, PROCESS_ARGS_MAX) < 0) {
		free(line);
		return log_fail(e, EXIT_USAGE, "%s: want a command and at most %d arguments, "
		    "with balanced \"quotes\"", who, PROCESS_ARGS_MAX - 2);
	}
	if ((fd = bounded_out(PROCESS_OUT_MAX + 1)) < 0) {
		free(line);
		return log_fail_sys(e, EXIT_TEMP, "unable to run %s", who);
	}
	memset(&st, 0, sizeof st);
	memset(&p, 0, sizeof p);
	st.name = argv[0];
	st.argv = argv;
	st.capture = 1;
	p.st = &st, p.n = 1;
	p.in_fd = -1, p.out_fd = fd, p.cancel_fd = cancel_fd > 2 ? cancel_fd : -1;
	p.timeout_ms = PROCESS_TIMEOUT_MS;
	if (spawn_run(&p, &se) < 0) {
		if (p.cancelled)
			snprintf(why, sizeof why, "stopped by a signal");
		else if (p.timed_out)
			snprintf(why, sizeof why, "took more than %d s", PROCESS_TIMEOUT_MS / 1000);
		else if (p.err.status)
			snprintf(why, sizeof why, "%s", p.err.msg);
		else
			spawn_describe(&st, why, sizeof why);
		r = log_fail(e, st.status == EXIT_NOTFOUND || st.status == EXIT_NOEXEC ?
		    EXIT_USAGE : EXIT_TEMP, "%s: %s", who, why);
		spawn_last_line(&st.ring, why, sizeof why);
		if (*why && r < 0 && strlen(e->msg) + strlen(why) + 3 < sizeof e->msg)
			strcat(strcat(e->msg, ": "), why);
		goto out;
	}
	used = lseek(fd, 0, SEEK_CUR);
	if (used > PROCESS_OUT_MAX) {
		r = log_fail(e, EXIT_USAGE, "%s printed more than %d bytes", who,
		    PROCESS_OUT_MAX);
		goto out;
	}
	if (used < 0 || (doc = malloc((size_t)used + 1)) == NULL ||
	    pread(fd, doc, (size_t)used, 0) != used) {
		r = log_fail_sys(e, EXIT_TEMP, "unable to read what %s printed", who);
		goto out;
	}
	r = parse_process(doc, (size_t)used, who, c, e);
out:
	if (doc) {
		OPENSSL_cleanse(doc, (size_t)used);
		free(doc);
	}
	close(fd);
	free(line);
	return r;
}

int
creds_profile(const struct creds_src *in, struct creds *c, char *what, size_t wn, char *why,
    size_t yn, struct log_err *e)
{
	const char *profile = in->profile ? in->profile : "default";
	struct files f;
	char *cmd;
	int r;

	if (files_read(&f, profile, e) < 0)
		return -1;
	if (f.cred == NULL && f.conf == NULL) {
		files_free(&f);
		snprintf(why, yn, "no file");
		return 0;
	}
	if ((r = keys_of(f.cred, profile, f.cred_path, profile, c, e)) != 0) {
		snprintf(what, wn, "profile \"%s\", %s", profile, f.cred_path);
		files_free(&f);
		return r;
	}
	if ((cmd = f.cred ? creds_ini_value(f.cred, profile, "credential_process") : NULL) ==
	    NULL)
		cmd = conf_value(&f, "credential_process");
	if (cmd) {
		r = *cmd ? run_process(cmd, profile, in->cancel_fd, c, e) :
		    log_fail(e, EXIT_USAGE, "profile \"%s\": credential_process is empty",
		    profile);
		snprintf(what, wn, "profile \"%s\", credential_process", profile);
		free(cmd);
		files_free(&f);
		return r;
	}
	if ((r = keys_of(f.conf, f.conf_section, f.conf_path, profile, c, e)) != 0 ||
	    (strcmp(profile, "default") == 0 &&
	    (r = keys_of(f.conf, "profile default", f.conf_path, profile, c, e)) != 0)) {
		snprintf(what, wn, "profile \"%s\", %s", profile, f.conf_path);
		files_free(&f);
		return r;
	}
	snprintf(why, yn, "%s", (f.cred && has_section(f.cred, profile)) ||
	    (f.conf && has_section(f.conf, f.conf_section)) ? "no keys" : "no such profile");
	files_free(&f);
	return 0;
}
