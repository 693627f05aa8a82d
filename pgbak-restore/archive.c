/*
 * archive: a custom or directory backup into its database.  pg_restore -j
 * needs what it can seek in: a custom archive as a file (a pipe makes it
 * restore one table at a time) or the directory itself.  So the object is
 * first fetched into a temporary directory under temp_dir:
 *   pgbak-get KEY | [age -d] | [zstd -d or gzip -d] > TEMP/dump             custom
 *   pgbak-get KEY | [age -d] | [zstd -d or gzip -d] | tar -x -C TEMP/dump   directory
 * then pg_restore -j JOBS -e [-t TABLE...] -d DB TEMP/dump.  Each pipeline
 * succeeds only when every stage exited 0, and a failure names its culprit
 * (lib/culprit), as pipe.c's; the temporary directory is removed in all
 * cases, a stopping signal included (spawn stops the stages, then we
 * return here).
 */
#define _GNU_SOURCE 1		/* memfd_create */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "name.h"
#include "restore.h"
#include "rmtree.h"
#include "spawn.h"

/* What pg_restore reads, inside the temporary directory. */
#define ARCHIVE_NAME "/dump"

static int
is_dir(const char *key)
{
	struct name_parts np;

	return name_parse(key, &np, NULL) == 0 && (np.flags & NAME_DIR);
}

/* The fetch's stages into s: pgbak-get | ... and, for a directory, tar -x. */
static int
fetch_stages(struct stages *s, const struct ctx *x, const char *key, const char *path)
{
	if (stages_fetch(s, x, key) < 0)
		return -1;
	if (is_dir(key)) {
		if (argv_untar(&s->a[s->n], x, path) < 0)
			return -1;
		stage(s, "tar", x->env_bare);
	}
	return 0;
}

/* A failed pipeline into out: its culprit's line, as pipe_restore's. */
static void
failed(const struct spawn_pipe *p, const struct log_err *e, struct outcome *out)
{
	const struct spawn_stage *f;

	if (p->cancelled) {
		snprintf(out->why, sizeof out->why, "cancelled by a signal");
		out->could_not_run = 1;
	} else if (p->failed < 0) {
		snprintf(out->why, sizeof out->why, "%s", e->msg);
		out->could_not_run = 1;
	} else {
		f = &p->st[p->failed];
		out->stage = p->failed;
		out->stage_name = f->name;
		out->could_not_run = strcmp(f->name, "pgbak-get") == 0 ||
		    strcmp(f->name, "age") == 0;
		stage_why(f, out->why, sizeof out->why);
	}
}

static void
pipe_ready(const struct ctx *x, struct spawn_pipe *p, struct spawn_stage *st, size_t n)
{
	memset(p, 0, sizeof *p);
	p->st = st;
	p->n = n;
	p->in_fd = p->out_fd = -1;
	p->cancel_fd = x->cancel_fd;
}

/* Fetch key into path (a file, or a directory for tar); 0 or -1 (out). */
static int
fetch(const struct ctx *x, const char *key, const char *path, struct outcome *out)
{
	struct stages s;
	struct spawn_pipe p;
	struct log_err e;
	int fd = -1, rc, bad = 0;

	if (fetch_stages(&s, x, key, path) < 0) {
		stages_free(&s);
		snprintf(out->why, sizeof out->why, "out of memory");
		out->could_not_run = 1;
		return -1;
	}
	pipe_ready(x, &p, s.st, s.n);
	if (is_dir(key)) {
		bad = mkdir(path, 0700) < 0;
	} else if ((fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600)) >= 0) {
		p.out_fd = fd;
		p.out_name = path;
		p.count_out = 1;
	} else {
		bad = 1;
	}
	if (bad) {
		snprintf(out->why, sizeof out->why, "unable to create %s: %s", path,
		    strerror(errno));
		out->could_not_run = 1;
		stages_free(&s);
		return -1;
	}
	if (log_verbose) {
		fprintf(stderr, "%s: running ", log_prog);
		archive_show(stderr, x, key, NULL);
	}
	rc = spawn_run(&p, &e);
	out->got = s.st[0].bytes_out;
	out->sql = s.st[s.n - 1].bytes_out;
	if (fd >= 0)
		close(fd);
	if (rc < 0)
		failed(&p, &e, out);
	stages_free(&s);
	return rc;
}

/* One program, its stdout into out_fd (-1: /dev/null); 0, or -1 (out). */
static int
run_one(const struct ctx *x, const char *name, char *const *argv, char **env, int out_fd,
    struct outcome *out)
{
	struct spawn_stage st;
	struct spawn_pipe p;
	struct log_err e;

	memset(&st, 0, sizeof st);
	st.name = name;
	st.argv = argv;
	st.envp = env;
	st.capture = 1;
	pipe_ready(x, &p, &st, 1);
	p.out_fd = out_fd;
	if (spawn_run(&p, &e) == 0)
		return 0;
	failed(&p, &e, out);
	return -1;
}

/* Whether the listing (pg_restore -l) has a TABLE entry named name:
 * "215; 1259 16390 TABLE public solo postgres". */
static int
listed(char *list, const char *name)
{
	char *line, *save, *t;
	size_t n = strlen(name);

	for (line = strtok_r(list, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		if (*line == ';' || (t = strstr(line, " TABLE ")) == NULL)
			continue;
		t += sizeof " TABLE " - 1;
		if ((t = strchr(t, ' ')) == NULL)	/* past the schema */
			continue;
		if (strncmp(t + 1, name, n) == 0 && t[1 + n] == ' ')
			return 1;
	}
	return 0;
}

/*
 * -t TABLE: pg_restore -t restores nothing, and exits 0, for a table the
 * archive does not have (a typo, the wrong day's backup), which would look
 * like a success.  So each is looked up in the archive's listing first.
 */
static int
tables_present(const struct ctx *x, const char *path, struct outcome *out)
{
	struct argv a ARGV_AUTO = { 0 };
	struct stat sb;
	char *list = NULL;
	size_t i;
	int fd, rc = -1;

	if (x->o->ntables == 0)
		return 0;
	if (argv_pg_list(&a, x, path) < 0 ||
	    (fd = memfd_create("pgbak-restore-list", MFD_CLOEXEC)) < 0) {
		snprintf(out->why, sizeof out->why, "unable to list %s: %s", path,
		    strerror(errno));
		return -1;
	}
	if (run_one(x, "pg_restore -l", a.v, x->env_bare, fd, out) < 0) {
		;	/* out says why */
	} else if (fstat(fd, &sb) < 0 || (list = calloc(1, (size_t)sb.st_size + 1)) == NULL ||
	    pread(fd, list, (size_t)sb.st_size, 0) != sb.st_size) {
		snprintf(out->why, sizeof out->why, "unable to read pg_restore's listing");
	} else {
		rc = 0;
		for (i = 0; i < x->o->ntables && rc == 0; i++) {
			if (pread(fd, list, (size_t)sb.st_size, 0) != sb.st_size) {
				snprintf(out->why, sizeof out->why, "unable to read pg_restore's "
				    "listing");
				rc = -1;
			} else if (!listed(list, x->o->tables[i])) {
				snprintf(out->why, sizeof out->why, "-t %s: the backup has no table "
				    "of that name (pg_restore -l lists its tables)", x->o->tables[i]);
				rc = -1;
			}
		}
	}
	free(list);
	close(fd);
	return rc;
}

/* pg_restore -j ... path into db; 0 or -1 (out). */
static int
pg_restore(const struct ctx *x, const char *db, const char *path, struct outcome *out)
{
	struct argv a ARGV_AUTO = { 0 };

	if (argv_pg_restore(&a, x, db, path) < 0) {
		snprintf(out->why, sizeof out->why, "out of memory");
		out->could_not_run = 1;
		return -1;
	}
	return run_one(x, "pg_restore", a.v, x->env_pg, -1, out);
}

int
archive_restore(const struct ctx *x, const char *key, const char *db, struct outcome *out)
{
	const char *root = conf_temp_dir(x->c);
	size_t n = strlen(root) + sizeof "/pgbak-restore.XXXXXX" ARCHIVE_NAME;
	char *dir = malloc(n), *path = malloc(n);
	double t0 = now_s();
	struct log_err e;
	int rc = -1;

	memset(out, 0, sizeof *out);
	out->stage = -1;
	if (dir == NULL || path == NULL) {
		snprintf(out->why, sizeof out->why, "out of memory");
		out->could_not_run = 1;
		goto done;
	}
	snprintf(dir, n, "%s/pgbak-restore.XXXXXX", root);
	if (mkdtemp(dir) == NULL) {	/* mode 0700 */
		snprintf(out->why, sizeof out->why, "unable to create a temporary directory "
		    "in %s: %s", root, strerror(errno));
		out->could_not_run = 1;
		free(dir);
		dir = NULL;
		goto done;
	}
	snprintf(path, n, "%s" ARCHIVE_NAME, dir);
	if (fetch(x, key, path, out) == 0 && tables_present(x, path, out) == 0)
		rc = pg_restore(x, db, path, out);
	if (rmtree(dir, &e) < 0)
		warn("%s", e.msg);
done:
	out->seconds = now_s() - t0;
	free(dir);
	free(path);
	return rc;
}

/* -n: the fetch, then pg_restore (db NULL: the fetch alone, for -v). */
void
archive_show(FILE *f, const struct ctx *x, const char *key, const char *db)
{
	const char *root = conf_temp_dir(x->c);
	char path[4096];
	struct stages s;
	struct argv a = { 0 };
	size_t i;

	snprintf(path, sizeof path, "%s/pgbak-restore.XXXXXX" ARCHIVE_NAME, root);
	if (fetch_stages(&s, x, key, path) < 0)
		die(EXIT_TEMP, "out of memory");
	for (i = 0; i < s.n; i++) {
		if (i)
			fputs(" | ", f);
		argv_show(f, s.st[i].argv);
	}
	if (!is_dir(key))
		fprintf(f, " > %s", path);
	fputc('\n', f);
	stages_free(&s);
	if (db == NULL)
		return;
	if (argv_pg_restore(&a, x, db, path) < 0)
		die(EXIT_TEMP, "out of memory");
	psql_show(f, x, a.v);
	fputs(" (then the temporary directory is removed)\n", f);
	argv_free(&a);
}
