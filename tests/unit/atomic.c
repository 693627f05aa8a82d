/* Unit test of lib/atomic: the new content or the old, never a part, never
 * a temporary file left, never a planted link written through. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "atomic.h"
#include "tap.h"

static char dir[256];
static int dfd;

struct fill {
	const char *text;	/* what to write */
	int fail;		/* then fail */
	char seen[256];		/* the temporary name, as /proc shows it */
	mode_t mode;		/* its mode while written */
	int calls;
};

static int
fill(int fd, void *arg, struct log_err *e)
{
	struct fill *f = arg;
	char link[64];
	struct stat st;
	ssize_t n;

	f->calls++;
	snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
	if ((n = readlink(link, f->seen, sizeof f->seen - 1)) < 0)
		n = 0;
	f->seen[n] = '\0';
	if (fstat(fd, &st) == 0)
		f->mode = st.st_mode & 07777;
	if (write(fd, f->text, strlen(f->text)) != (ssize_t)strlen(f->text))
		return log_fail_sys(e, EXIT_TEMP, "short write");
	if (f->fail)
		return log_fail(e, EXIT_TEMP, "the dump failed");
	return 0;
}

/* The whole of dir/name, or NULL. */
static char *
slurp(const char *name)
{
	static char buf[4096];
	ssize_t n;
	int fd = openat(dfd, name, O_RDONLY);

	if (fd < 0)
		return NULL;
	n = read(fd, buf, sizeof buf - 1);
	close(fd);
	buf[n < 0 ? 0 : n] = '\0';
	return buf;
}

/* How many entries dir holds besides "." and "..". */
static int
entries(void)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	int n = 0;

	while (d && (de = readdir(d)) != NULL)
		n += strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0;
	if (d)
		closedir(d);
	return n;
}

static int
matches(const char *s, const char *re)
{
	regex_t r;
	int m;

	if (regcomp(&r, re, REG_EXTENDED | REG_NOSUB) != 0)
		return 0;
	m = regexec(&r, s, 0, NULL, 0) == 0;
	regfree(&r);
	return m;
}

static void
test_write(void)
{
	struct fill f = { "one\n", 0, "", 0, 0 };
	struct log_err e;
	struct stat st;
	char re[512];
	int i, rc;

	umask(077);
	is_long(atomic_write(dfd, dir, "m.prom", ".m.prom.XXXXXX", 0644, fill, &f, &e), 0,
	    "a new file: 0");
	is_str(slurp("m.prom"), "one\n", "it holds what fill wrote");
	ok(fstatat(dfd, "m.prom", &st, 0) == 0 && (st.st_mode & 07777) == 0644,
	    "it has mode 0644 although the umask is 077");
	is_long(f.mode, 0600, "while written it has mode 0600");
	snprintf(re, sizeof re, "^%s/\\.m\\.prom\\.[0-9]{6}$", dir);
	ok(matches(f.seen, re), "fill writes the temporary name, XXXXXX as digits (%s)", f.seen);
	is_long(entries(), 1, "nothing but the file is left");

	f.text = "two\n";
	is_long(atomic_write(dfd, dir, "m.prom", ".m.prom.XXXXXX", 0600, fill, &f, &e), 0,
	    "a replacement: 0");
	is_str(slurp("m.prom"), "two\n", "the file holds the new content");
	ok(fstatat(dfd, "m.prom", &st, 0) == 0 && (st.st_mode & 07777) == 0600,
	    "and the new mode, 0600");

	snprintf(re, sizeof re, "^%s/\\.b\\.gz\\.[0-9]+\\.[0-9]{6}\\.tmp$", dir);
	is_long(atomic_write(dfd, dir, "b.gz", ".b.gz.42.XXXXXX.tmp", 0600, fill, &f, &e), 0,
	    "a template with a tail: 0");
	ok(matches(f.seen, re), "the last XXXXXX become digits, the tail stays (%s)", f.seen);
	unlinkat(dfd, "b.gz", 0);

	for (i = 0, rc = 0; i < 50 && rc == 0; i++)
		rc = atomic_write(dfd, dir, "m.prom", ".m.prom.XXXXXX", 0644, fill, &f, &e);
	is_long(rc, 0, "50 replacements in a row: 0");
	is_long(entries(), 1, "and nothing left beside the file");
}

static void
test_fail(void)
{
	struct fill f = { "three, cut short", 1, "", 0, 0 };
	struct log_err e;
	char want[600];

	is_long(atomic_write(dfd, dir, "m.prom", ".m.prom.XXXXXX", 0644, fill, &f, &e), -1,
	    "fill fails: -1");
	is_str(e.msg, "the dump failed", "with fill's message");
	is_str(slurp("m.prom"), "two\n", "the old content stays");
	is_long(entries(), 1, "the temporary file is removed");

	f.fail = 0;
	mkdirat(dfd, "isdir", 0755);
	mkdirat(dfd, "isdir/x", 0755);
	is_long(atomic_write(dfd, dir, "isdir", ".isdir.XXXXXX", 0644, fill, &f, &e), -1,
	    "the name is a directory: -1");
	snprintf(want, sizeof want, "^unable to rename %s/\\.isdir\\.[0-9]{6} to %s/isdir: ",
	    dir, dir);
	ok(matches(e.msg, want), "unable to rename TEMP to NAME (%s)", e.msg);
	is_long(entries(), 2, "the temporary file is removed");
	unlinkat(dfd, "isdir/x", AT_REMOVEDIR);
	unlinkat(dfd, "isdir", AT_REMOVEDIR);

	/* A link planted at the temporary name is never written through. */
	symlinkat("m.prom", dfd, ".fixed.tmp");
	f.calls = 0;
	is_long(atomic_write(dfd, dir, "fixed", ".fixed.tmp", 0644, fill, &f, &e), -1,
	    "a link at a fixed temporary name: -1");
	snprintf(want, sizeof want, "unable to create a temporary file in %s: %s", dir,
	    strerror(EEXIST));
	is_str(e.msg, want, "unable to create a temporary file in DIR");
	is_long(f.calls, 0, "fill is not called");
	is_str(slurp("m.prom"), "two\n", "the link's target is untouched");
	unlinkat(dfd, ".fixed.tmp", 0);
	is_long(atomic_write(dfd, dir, "fixed", ".fixed.tmp", 0644, fill, &f, &e), 0,
	    "without the link: 0");
	is_str(slurp("fixed"), "three, cut short", "and the file written");
	unlinkat(dfd, "fixed", 0);

	is_long(atomic_write(dfd, "/nowhere", "m.prom", "no/such/.m.XXXXXX", 0644, fill, &f,
	    &e), -1, "a temporary name that cannot be created: -1");
	ok(strncmp(e.msg, "unable to create a temporary file in /nowhere: ", 47) == 0,
	    "the message names the directory as the caller shows it (%s)", e.msg);
}

int
main(void)
{
	snprintf(dir, sizeof dir, "%s/atomic.XXXXXX",
	    getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	if (mkdtemp(dir) == NULL || (dfd = open(dir, O_RDONLY | O_DIRECTORY)) < 0) {
		printf("1..0 # SKIP no temporary directory: %s\n", strerror(errno));
		return 0;
	}
	test_write();
	test_fail();
	unlinkat(dfd, "m.prom", 0);
	close(dfd);
	rmdir(dir);
	return tap_done();
}
