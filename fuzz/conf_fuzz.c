/*
 * conf_fuzz: libFuzzer harness for the settings loader (lib/conf.c).
 *
 * conf_load takes a path, so each input is written to one memfd per process
 * and loaded through /proc/self/fd/N: no file system traffic, no temp file
 * to leave behind.  The input's length picks the environment that ${NAME}
 * sees (PGBAK_BUCKET set or not, values short or longer than a value may
 * be), so both sides of those branches are reached without spending input
 * bytes that would also have to be YAML.
 *
 * Beyond "no crash, no leak, no undefined behaviour" it checks what callers
 * rely on: an error is one line naming the file, status 100 (or 111 for
 * memory), leaves nothing to free, and never shows a secret taken from the
 * environment; a success has a database name in every entry.
 */
#define _GNU_SOURCE 1		/* memfd_create */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "conf.h"
#include "fuzz.h"

/* What ${NAME} expands to: a value no input holds by chance. */
#define SECRET "fz-Secret-0c1d93b7e2a4"

static int fd = -1;
static char path[64];
static char longval[5000];	/* longer than a value may be (4096) */

/* The names the seeds and the dictionary use in ${NAME}. */
static const char *const vars[] = {
	"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "PGBAK_DB_PASSWORD", "PW", "A",
};

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	if ((fd = memfd_create("conf_fuzz", 0)) == -1) {
		perror("conf_fuzz: memfd_create");
		abort();
	}
	snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
	memset(longval, 'x', sizeof longval - 1);
	memcpy(longval, SECRET, strlen(SECRET));
	return 0;
}

static void
environment(size_t n)
{
	size_t i;

	if (n & 1)
		setenv("PGBAK_BUCKET", "fz-bucket", 1);
	else
		unsetenv("PGBAK_BUCKET");
	for (i = 0; i < sizeof vars / sizeof vars[0]; i++)
		setenv(vars[i], n & 2 ? longval : SECRET, 1);
	if (n & 4)
		unsetenv("PW");
}

static void
check_error(const struct conf *c, const struct log_err *e, const uint8_t *data, size_t n)
{
	if (e->status != EXIT_USAGE && e->status != EXIT_TEMP) {
		fprintf(stderr, "conf_fuzz: status %d: %s\n", e->status, e->msg);
		abort();
	}
	if (strncmp(e->msg, path, strlen(path)) != 0 || fuzz_has_control(e->msg)) {
		fprintf(stderr, "conf_fuzz: message does not name the file or is not one "
		    "printable line: %s\n", e->msg);
		abort();
	}
	if (strstr(e->msg, SECRET) && !memmem(data, n, SECRET, strlen(SECRET))) {
		fprintf(stderr, "conf_fuzz: a secret from the environment in: %s\n", e->msg);
		abort();
	}
	if (c->path || c->dbs || c->ndbs || c->s3.bucket || c->s3.access_secret ||
	    c->local_dir || c->temp_dir || c->pg_dump) {
		fprintf(stderr, "conf_fuzz: a failed load left something in struct conf\n");
		abort();
	}
}

static void
check_loaded(const struct conf *c)
{
	size_t i;

	if (c->path == NULL || strcmp(c->path, path) != 0 || (c->ndbs && c->dbs == NULL)) {
		fprintf(stderr, "conf_fuzz: a loaded conf without its path or entries\n");
		abort();
	}
	for (i = 0; i < c->ndbs; i++)
		if (c->dbs[i].database == NULL || c->dbs[i].line < 1 ||
		    c->dbs[i].port < 0 || c->dbs[i].port > 65535) {
			fprintf(stderr, "conf_fuzz: entry %zu is not complete\n", i);
			abort();
		}
	if (c->s3.enable && c->s3.part_size && (c->s3.part_size < 5ULL << 20 ||
	    c->s3.part_size > 5ULL << 30)) {
		fprintf(stderr, "conf_fuzz: part_size out of range\n");
		abort();
	}
}

/*
 * What conf_load accepts, an S3 program's view (CONF_S3_ONLY) accepts too,
 * with the same s3 section and no password; and conf_s3_fd passes that
 * section on (it reads it back and compares, so a value the document
 * cannot carry fails it): the environment's values here are all ASCII.
 */
static void
check_s3_views(const struct conf *c)
{
	struct conf v;
	struct log_err e;
	size_t i;
	int fd;

	if (conf_load_for(&v, path, CONF_S3_ONLY, &e) == -1) {
		fprintf(stderr, "conf_fuzz: CONF_S3_ONLY refused what conf_load took: %s\n",
		    e.msg);
		abort();
	}
	for (i = 0; i < v.ndbs; i++)
		if (v.dbs[i].password != NULL) {
			fprintf(stderr, "conf_fuzz: CONF_S3_ONLY kept a password\n");
			abort();
		}
	if ((c->s3.access_secret == NULL) != (v.s3.access_secret == NULL) ||
	    (c->s3.access_secret && strcmp(c->s3.access_secret, v.s3.access_secret) != 0)) {
		fprintf(stderr, "conf_fuzz: CONF_S3_ONLY read another s3 section\n");
		abort();
	}
	conf_free(&v);
	if ((fd = conf_s3_fd(c, &e)) == -1) {
		fprintf(stderr, "conf_fuzz: conf_s3_fd: %s\n", e.msg);
		abort();
	}
	close(fd);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t n)
{
	struct conf c;
	struct log_err e;

	if (ftruncate(fd, 0) == -1 || (n && pwrite(fd, data, n, 0) != (ssize_t)n)) {
		perror("conf_fuzz: memfd");
		abort();
	}
	environment(n);
	memset(&e, 0, sizeof e);
	if (conf_load(&c, path, &e) == -1) {
		check_error(&c, &e, data, n);
		return 0;
	}
	check_loaded(&c);
	if (c.enable)
		check_s3_views(&c);
	conf_free(&c);
	return 0;
}
