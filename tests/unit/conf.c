/*
 * Unit tests of lib/conf: the fixtures in tests/data/conf (one per class of
 * good and bad settings file), examples/settings.yml, files made here that
 * are awkward to commit (binary junk, a huge value, an oversized file), and
 * conf_duration/conf_size.  Run from the source tree, or set PGBAK_SRC.
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "conf.h"
#include "tap.h"

static char src[4096];		/* the source tree */
static char tmp[4096];		/* a private directory for generated files */
static char made[32][64];	/* the names of those files, to remove them */
static size_t nmade;

/* The source tree: $PGBAK_SRC, the working directory, or above argv[0]. */
static int
find_src(const char *argv0)
{
	const char *env = getenv("PGBAK_SRC");
	char probe[4200];
	char *slash;
	int up;

	if (env && *env) {
		snprintf(src, sizeof src, "%s", env);
		return 0;
	}
	if (access("tests/data/conf/valid.yml", R_OK) == 0) {
		snprintf(src, sizeof src, ".");
		return 0;
	}
	snprintf(src, sizeof src, "%s", argv0);
	for (up = 0; up < 6 && (slash = strrchr(src, '/')) != NULL; up++) {
		*slash = '\0';
		snprintf(probe, sizeof probe, "%s/tests/data/conf/valid.yml", src);
		if (access(probe, R_OK) == 0)
			return 0;
	}
	return -1;
}

static const char *
data(const char *name)
{
	static char path[4200];

	snprintf(path, sizeof path, "%s/tests/data/conf/%s", src, name);
	return path;
}

/* A generated file under tmp with the given bytes and mode. */
static const char *
gen(const char *name, const void *bytes, size_t n, mode_t mode)
{
	static char path[4200];
	int fd;

	snprintf(path, sizeof path, "%s/%s", tmp, name);
	if (nmade < sizeof made / sizeof made[0])
		snprintf(made[nmade++], sizeof made[0], "%s", name);
	unlink(path);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode);
	if (fd == -1 || write(fd, bytes, n) != (ssize_t)n || close(fd) == -1) {
		diag("cannot write %s", path);
		exit(1);
	}
	chmod(path, mode);
	return path;
}

/*
 * conf_load must fail with EXIT_USAGE and one line "PATH:LINE:COL: ..."
 * holding needle.  line 0: a file-level error "PATH: ...".
 */
static void
bad_file(const char *path, int line, int col, const char *needle)
{
	const char *name = strrchr(path, '/') + 1;
	char want[4400];
	struct conf c;
	struct log_err e;

	memset(&e, 0, sizeof e);
	if (!ok(conf_load(&c, path, &e) == -1 && e.status == EXIT_USAGE,
	    "%s: refused with status 100", name)) {
		diag("status %d: %s", e.status, e.msg);
		if (e.status == 0)
			conf_free(&c);
	}
	if (line) {
		snprintf(want, sizeof want, "%s:%d:%d: ", path, line, col);
		ok(strncmp(e.msg, want, strlen(want)) == 0, "%s: message starts with FILE%s",
		    name, want + strlen(path));
	} else {
		snprintf(want, sizeof want, "%s", path);
		ok(strstr(e.msg, path) != NULL, "%s: message names the file", name);
	}
	ok(strstr(e.msg, needle) != NULL, "%s: message says \"%s\"", name, needle);
	ok(strchr(e.msg, '\n') == NULL, "%s: message is one line", name);
	if (strstr(e.msg, want) == NULL || strstr(e.msg, needle) == NULL)
		diag("message: %s", e.msg);
}

static int
load(struct conf *c, const char *path)
{
	struct log_err e;

	if (conf_load(c, path, &e) == -1) {
		diag("%s", e.msg);
		return -1;
	}
	return 0;
}

static void
test_valid(void)
{
	struct conf c;

	if (!ok(load(&c, data("valid.yml")) == 0, "the seed's example (spaces) loads"))
		return;
	is_long(c.enable, 1, "enable");
	is_long(c.interval, 86400, "interval");
	is_long(c.timeout, 1800, "timeout defaults to 30 minutes");
	is_long(c.ndbs, 1, "one database");
	is_str(c.dbs[0].host, "127.0.0.1", "host");
	is_long(c.dbs[0].port, 5432, "port");
	is_str(c.dbs[0].user, "postgres", "user");
	is_str(c.dbs[0].password, "secret", "password");
	is_str(c.dbs[0].database, "appdb", "database");
	is_str(c.dbs[0].backup_file_prefix, "backups/postgres/prod/appdb/", "backup_file_prefix");
	is_long(c.dbs[0].line, 9, "the entry's line");
	is_long(c.dbs[0].database_at.line * 100 + c.dbs[0].database_at.col, 1319,
	    "where database is written (13:19), for later messages");
	is_long(c.dbs[0].backup_file_prefix_at.line * 100 + c.dbs[0].backup_file_prefix_at.col,
	    1529, "where backup_file_prefix is written (15:29)");
	is_long(c.ping_url_at.line, 0, "no ping_url: no position");
	is_long(c.dbs[0].timeout, 0, "the entry's timeout is the task's");
	is_long(c.s3.enable, 1, "s3.enable");
	is_long(c.s3.present, 1, "s3 present");
	is_str(c.s3.endpoint, "s3.example.com", "s3.endpoint");
	is_str(c.s3.bucket, "private", "s3.bucket");
	is_str(c.s3.access_key, "readwrite", "s3.access_key");
	is_str(c.s3.access_secret, "xxx", "s3.access_secret");
	is_long(c.s3.path_style, -1, "s3.path_style defaults to automatic");
	is_long((long long)c.s3.part_size, 0, "s3.part_size defaults to the schedule");
	is_long(c.use_temp_file, 0, "use_temp_file");
	is_str(c.temp_dir, "/var/tmp", "temp_dir");
	is_str(c.local_dir, NULL, "no local_dir while s3 is on");
	is_long(c.has_secret, 1, "a written password is a secret");
	is_str(c.path, data("valid.yml"), "path kept");
	conf_free(&c);
	ok(c.dbs == NULL && c.path == NULL && c.ndbs == 0, "conf_free leaves nothing behind");
}

static void
test_full(void)
{
	struct conf c;

	if (!ok(load(&c, data("full.yml")) == 0, "full.yml (every key) loads"))
		return;
	is_long(c.enable, 1, "enable: yes");
	is_long(c.interval, 12 * 3600, "interval: 12h");
	is_long(c.timeout, 45 * 60, "timeout: 45m");
	is_long(c.use_temp_file, 1, "use_temp_file: on");
	is_str(c.temp_dir, "/srv/tmp", "temp_dir");
	is_str(c.local_dir, "/srv/backups", "local_dir");
	is_str(c.pg_dump, "/usr/lib/postgresql/15/bin/pg_dump", "pg_dump");
	is_long(c.ndbs, 2, "two databases");
	is_str(c.dbs[0].host, "db1.example.com", "dbs[0].host");
	is_long(c.dbs[0].port, 6543, "dbs[0].port");
	is_str(c.dbs[0].user, "backup", "dbs[0].user");
	is_str(c.dbs[0].password, "s3cr3t: with colon", "dbs[0].password");
	is_str(c.dbs[0].backup_file_prefix, "pg/one/", "dbs[0].backup_file_prefix");
	is_long(c.dbs[0].timeout, 7200, "dbs[0].timeout");
	is_str(c.dbs[1].database, "two", "dbs[1] in flow style");
	is_long(c.dbs[1].line, 19, "dbs[1] line");
	ok(c.dbs[1].host == NULL && c.dbs[1].port == 0 && c.dbs[1].password == NULL,
	    "dbs[1] defaults");
	is_str(c.s3.endpoint, "http://127.0.0.1:7480", "s3.endpoint");
	is_str(c.s3.bucket, "backups", "s3.bucket");
	is_str(c.s3.access_key, "AKIDEXAMPLE", "s3.access_key");
	is_str(c.s3.access_secret, "wJalrXUtnFEMI", "s3.access_secret");
	is_str(c.s3.region, "eu-west-1", "s3.region");
	is_long(c.s3.path_style, 1, "s3.path_style");
	is_str(c.s3.ca_file, "/etc/ssl/extra.pem", "s3.ca_file");
	is_str(c.s3.storage_class, "STANDARD_IA", "s3.storage_class");
	is_long((long long)c.s3.part_size, 64LL << 20, "s3.part_size");
	is_long(c.s3.max_parts, 10000, "s3.max_parts");
	is_long(c.s3.parallel, 8, "s3.parallel");
	conf_free(&c);
}

static void
test_example(void)
{
	struct conf c;
	struct log_err e;

	char path[4200];

	snprintf(path, sizeof path, "%s/examples/settings.yml", src);
	setenv("PGBAK_DB_PASSWORD", "from-env", 1);
	setenv("AWS_ACCESS_KEY_ID", "AKID", 1);
	setenv("AWS_SECRET_ACCESS_KEY", "SECRET", 1);
	if (ok(load(&c, path) == 0, "examples/settings.yml loads")) {
		is_str(c.dbs[0].password, "from-env", "its password comes from the environment");
		is_str(c.s3.access_secret, "SECRET", "its secret comes from the environment");
		is_long(c.has_secret, 0, "no secret is written in it");
		is_long(c.ndbs, 2, "it has two databases");
		is_long(c.dbs[1].timeout, 7200, "the second has its own timeout");
		conf_free(&c);
	}
	unsetenv("PGBAK_DB_PASSWORD");
	ok(conf_load(&c, path, &e) == -1 && e.status == EXIT_USAGE &&
	    strstr(e.msg, "environment variable PGBAK_DB_PASSWORD is not set") != NULL,
	    "an unset ${NAME} is an error naming the variable");
	unsetenv("AWS_ACCESS_KEY_ID");
	unsetenv("AWS_SECRET_ACCESS_KEY");
}

static void
test_env(void)
{
	struct conf c;
	struct log_err e;

	setenv("PGBAK_TEST_PW", "pw-value", 1);
	setenv("PGBAK_TEST_KEY", "key-value", 1);
	setenv("PGBAK_TEST_SECRET", "secret-value", 1);
	if (ok(load(&c, data("env.yml")) == 0, "env.yml loads")) {
		is_str(c.dbs[0].password, "pw-value", "password: ${NAME}");
		is_str(c.dbs[1].password, "${PGBAK_TEST_PW}x", "only a whole value is expanded");
		is_str(c.s3.access_key, "key-value", "access_key: ${NAME}");
		is_str(c.s3.access_secret, "secret-value", "access_secret: '${NAME}'");
		is_long(c.has_secret, 1, "the literal password counts as a secret");
		conf_free(&c);
	}
	unsetenv("PGBAK_TEST_SECRET");
	ok(conf_load(&c, data("env.yml"), &e) == -1 &&
	    strstr(e.msg, ":12:22: tasks.postgres.s3.access_secret: environment variable "
	    "PGBAK_TEST_SECRET is not set") != NULL, "unset access_secret variable named");
	unsetenv("PGBAK_TEST_PW");
	unsetenv("PGBAK_TEST_KEY");
	bad_file(data("env-bad-name.yml"), 6, 19, "must hold an environment variable name");
}

/* CONF_S3_ONLY: the view of an S3 program.  The s3 section's ${NAME} are
 * expanded; a database's are not, nor is any password kept. */
static void
test_s3_only(void)
{
	struct conf c;
	struct log_err e;

	setenv("PGBAK_TEST_KEY", "key-value", 1);
	setenv("PGBAK_TEST_SECRET", "secret-value", 1);
	unsetenv("PGBAK_TEST_PW");
	if (ok(conf_load_for(&c, data("env.yml"), CONF_S3_ONLY, &e) == 0,
	    "CONF_S3_ONLY: a database's unset ${NAME} does not matter")) {
		is_str(c.s3.access_secret, "secret-value", "...the s3 section's is expanded");
		ok(c.dbs[0].password == NULL && c.dbs[1].password == NULL,
		    "...and no password is kept, ${NAME} or literal");
		is_str(c.dbs[1].database, "other", "...while the databases' names are read");
		conf_free(&c);
	}
	ok(conf_load(&c, data("env.yml"), &e) == -1 && strstr(e.msg, "PGBAK_TEST_PW") != NULL,
	    "twin: conf_load expands the database's ${NAME}");
	unsetenv("PGBAK_TEST_SECRET");
	ok(conf_load_for(&c, data("env.yml"), CONF_S3_ONLY, &e) == -1 &&
	    strstr(e.msg, ":12:22: tasks.postgres.s3.access_secret: environment variable "
	    "PGBAK_TEST_SECRET is not set") != NULL,
	    "twin: CONF_S3_ONLY still expands the s3 section's, FILE:LINE:COL");
	if (ok(conf_load_for(&c, data("env.yml"), CONF_S3_ONLY | CONF_LITERAL, &e) == 0,
	    "CONF_LITERAL: nothing is expanded")) {
		is_str(c.s3.access_secret, "${PGBAK_TEST_SECRET}", "...${NAME} is a value");
		conf_free(&c);
	}
	unsetenv("PGBAK_TEST_KEY");
}

/* conf_s3_fd: what pgbak-run hands its S3 children reads back the same. */
static void
test_s3_fd(void)
{
	static const char yml[] =
	    "tasks:\n  postgres:\n    dbs:\n      - database: a\n        password: pw\n"
	    "    s3:\n      bucket: b\n      endpoint: http://127.0.0.1:9\n"
	    "      access_key: ${PGBAK_TEST_KEY}\n      access_secret: ${PGBAK_TEST_SECRET}\n"
	    "      region: \"r\\\"q\\\\\"\n"
	    "      storage_class: \"\\t\\x7f\xc3\xa9\\u0085\\u2028\\uFEFF\\u0080\"\n"
	    "      path_style: false\n      part_size: 16MiB\n      parallel: 3\n"
	    "      max_rate: 40MiB\n";
	struct conf c, back;
	struct log_err e;
	char path[64], buf[4096];
	ssize_t n;
	int fd;

	setenv("PGBAK_TEST_KEY", "${PGBAK_TEST_SECRET}", 1);	/* not expanded twice */
	setenv("PGBAK_TEST_SECRET", "s\"e\\c:r #et\n", 1);
	if (!ok(load(&c, gen("s3fd.yml", yml, sizeof yml - 1, 0600)) == 0, "s3fd.yml loads"))
		goto out;
	fd = conf_s3_fd(&c, &e);
	if (!ok(fd > 2, "conf_s3_fd gives a descriptor")) {
		diag("%s", e.msg);
		conf_free(&c);
		goto out;
	}
	ok(fcntl(fd, F_GETFD) == FD_CLOEXEC, "...close-on-exec");
	ok(write(fd, "x", 1) == -1, "...that cannot be written");
	snprintf(path, sizeof path, "/dev/fd/%d", fd);
	if (ok(conf_load_for(&back, path, CONF_S3_ONLY | CONF_LITERAL, &e) == 0,
	    "...read back as the children read it")) {
		is_str(back.s3.access_key, "${PGBAK_TEST_SECRET}", "a value like ${NAME} stays");
		is_str(back.s3.access_secret, "s\"e\\c:r #et\n", "quotes, '\\', '#', newline");
		is_str(back.s3.region, "r\"q\\", "a quoted value");
		is_str(back.s3.storage_class,
		    "\t\x7f\xc3\xa9\xc2\x85\xe2\x80\xa8\xef\xbb\xbf\xc2\x80",
		    "control bytes, UTF-8, and what YAML reads as a break (NEL, U+2028)");
		is_str(back.s3.endpoint, "http://127.0.0.1:9", "the endpoint");
		ok(back.s3.path_style == 0 && back.s3.part_size == 16 << 20 &&
		    back.s3.parallel == 3 && back.s3.max_parts == 0 && back.s3.enable == 1 &&
		    back.s3.max_rate == 40 << 20,
		    "the numbers and booleans, unset ones unset");
		ok(back.ndbs == 0, "no database is in it");
		conf_free(&back);
	}
	n = pread(fd, buf, sizeof buf - 1, 0);
	buf[n > 0 ? n : 0] = '\0';
	ok(strstr(buf, "pw") == NULL && strstr(buf, "dbs") == NULL,
	    "the password is not in the descriptor");
	close(fd);
	conf_free(&c);
out:
	unsetenv("PGBAK_TEST_KEY");
	unsetenv("PGBAK_TEST_SECRET");
}

static void
test_bucket(void)
{
	struct conf c;

	bad_file(data("missing-bucket.yml"), 4, 5, "s3.bucket is missing");
	setenv("PGBAK_BUCKET", "", 1);
	bad_file(data("missing-bucket.yml"), 4, 5, "s3.bucket is missing");
	setenv("PGBAK_BUCKET", "from-env", 1);
	if (ok(load(&c, data("missing-bucket.yml")) == 0, "PGBAK_BUCKET stands in for s3.bucket"))
		conf_free(&c);
	unsetenv("PGBAK_BUCKET");
	if (ok(load(&c, data("disabled.yml")) == 0, "a disabled task needs no bucket")) {
		is_long(c.enable, 0, "enable: false");
		is_long(c.s3.enable, 0, "s3.enable: off");
		is_long(c.ndbs, 0, "dbs: []");
		is_str(c.local_dir, "./backups", "local_dir defaults to ./backups with s3 off");
		conf_free(&c);
	}
}

static void
test_bad_fixtures(void)
{
	static const struct {
		const char *file;
		int line, col;
		const char *needle;
	} t[] = {
		{ "tabs.yml", 3, 1, "found character that cannot start any token: tabs are not "
		    "allowed for indentation in YAML; use spaces" },
		{ "syntax.yml", 7, 1, "found unexpected end of stream (while scanning a quoted "
		    "scalar at line 4)" },
		{ "unknown-key.yml", 4, 5, "unknown key \"intervall\" in tasks.postgres" },
		{ "unknown-db-key.yml", 6, 9, "unknown key \"passwd\" in tasks.postgres.dbs[0]" },
		{ "unknown-s3-key.yml", 7, 7, "unknown key \"secret_key\" in tasks.postgres.s3" },
		{ "wrong-type-port.yml", 6, 15, "tasks.postgres.dbs[0].port: expected an integer "
		    "from 1 to 65535, found \"70000\"" },
		{ "wrong-type-bool.yml", 3, 13, "tasks.postgres.enable: expected true or false" },
		{ "wrong-type-dbs.yml", 4, 7, "tasks.postgres.dbs: expected a list, found a "
		    "mapping" },
		{ "wrong-type-part-size.yml", 6, 18, "part_size: expected a size from 5MiB to "
		    "5GiB" },
		{ "wrong-type-secret.yml", 5, 19, "password: expected a string, found a mapping" },
		{ "missing-database.yml", 6, 9, "tasks.postgres.dbs[1]: missing database" },
		{ "missing-section.yml", 2, 1, "no tasks.postgres section" },
		{ "alias.yml", 8, 15, "dbs[0].host: aliases are not supported in tasks.postgres" },
		{ "alias-section.yml", 4, 9, "tasks.postgres.s3: aliases are not supported in "
		    "tasks.postgres" },
		{ "merge-key.yml", 6, 9, "merge keys (<<) are not supported" },
		{ "duplicate-key.yml", 7, 9, "duplicate key port in tasks.postgres.dbs[0] "
		    "(first at line 6)" },
		{ "duplicate-section.yml", 5, 1, "duplicate key tasks (first at line 1)" },
		{ "deep.yml", 6, 72, "nested deeper than 64 levels" },
		{ "two-documents.yml", 4, 1, "more than one YAML document" },
		{ "top-list.yml", 1, 1, "expected a mapping at the top of the file" },
	};
	struct conf c;
	struct log_err e;
	size_t i;

	for (i = 0; i < sizeof t / sizeof t[0]; i++)
		bad_file(data(t[i].file), t[i].line, t[i].col, t[i].needle);
	conf_load(&c, data("wrong-type-secret.yml"), &e);
	ok(strstr(e.msg, "hunter2") == NULL, "a secret's value is never in a message");
	if (ok(load(&c, data("alias-bomb.yml")) == 0, "an alias bomb in another task is skipped"))
		conf_free(&c);
}

static void
test_generated(void)
{
	static const char head[] = "tasks:\n  postgres:\n    s3: {bucket: b}\n    dbs:\n"
	    "      - database: appdb\n        password: \"";
	static const char junk[] = "tasks:\n  postgres:\n    dbs: [{database: \"a\xff\xfe\"}]\n";
	static const char nul[] = "tasks:\n  postgres:\n    enable: tr\0ue\n";
	static const char esc[] = "tasks:\n  postgres:\n    s3: {bucket: b}\n"
	    "    dbs: [{database: \"a\\0b\"}]\n";
	static const char ok600[] = "tasks:\n  postgres:\n    s3: {bucket: b}\n";
	char *big;
	size_t n;
	struct conf c;

	bad_file(gen("junk.yml", junk, sizeof junk - 1, 0644), 3, 24,
	    "invalid leading UTF-8 octet (byte 0xFF)");
	bad_file(gen("nul.yml", nul, sizeof nul - 1, 0644), 3, 15,
	    "control characters are not allowed");
	bad_file(gen("escaped-nul.yml", esc, sizeof esc - 1, 0644), 4, 22, "has a NUL byte");

	/* A 5000-byte password: over the 4096-byte cap on one value. */
	n = sizeof head - 1;
	big = malloc(2 * 1024 * 1024);
	memcpy(big, head, n);
	memset(big + n, 'p', 5000);
	memcpy(big + n + 5000, "\"\n", 2);
	bad_file(gen("huge-value.yml", big, n + 5002, 0600), 6, 19,
	    "password: value longer than 4096 bytes");
	memcpy(big + n + 4096, "\"\n", 2);
	if (ok(load(&c, gen("4096-value.yml", big, n + 4098, 0600)) == 0,
	    "a 4096-byte value is accepted")) {
		conf_free(&c);
	}

	/* A file over 1 MiB, even of comments, is refused before parsing. */
	memset(big, '#', 2 * 1024 * 1024);
	bad_file(gen("huge-file.yml", big, 1024 * 1024 + 1, 0600), 0, 0,
	    "larger than 1048576 bytes");
	memcpy(big, ok600, sizeof ok600 - 1);
	big[1024 * 1024 - 1] = '\n';
	if (ok(load(&c, gen("1mib.yml", big, 1024 * 1024, 0600)) == 0,
	    "a file of exactly 1 MiB loads"))
		conf_free(&c);
	free(big);

	if (ok(load(&c, gen("private.yml", ok600, sizeof ok600 - 1, 0600)) == 0,
	    "mode 600 file loads")) {
		is_long(c.others_can_read, 0, "mode 600: others cannot read");
		conf_free(&c);
	}
	if (ok(load(&c, gen("shared.yml", ok600, sizeof ok600 - 1, 0640)) == 0,
	    "mode 640 file loads")) {
		is_long(c.others_can_read, 1, "mode 640: others can read");
		is_long(c.has_secret, 0, "no secret in it");
		conf_free(&c);
	}
	bad_file(gen("empty.yml", "", 0, 0600), 1, 1, "no tasks.postgres section");
	bad_file(data("no-such-file.yml"), 0, 0, "No such file or directory");
	bad_file(tmp, 0, 0, "is a directory");
}

/* The keys beyond the seed: retention, encrypt, hooks, globals, gzip_level. */
static void
test_extras(void)
{
	static const char good[] = "tasks:\n  postgres:\n    s3: {bucket: b}\n"
	    "    gzip_level: 1\n    pg_dumpall: /usr/bin/pg_dumpall\n"
	    "    retention: {keep_daily: 7, keep_weekly: 4}\n"
	    "    encrypt:\n      age_recipients: [age1abc, age1def]\n      age: /usr/bin/age\n"
	    "    on_success: [/bin/echo, ok, \"two words\"]\n    on_failure: []\n"
	    "    ping_url: https://hc.example/uuid\n    metrics_file: /var/lib/m.prom\n"
	    "    dbs:\n      - {database: a, globals: true, retention: {keep_days: 30}}\n"
	    "      - {database: b}\n";
	static const char noage[] = "tasks:\n  postgres:\n    s3: {bucket: b}\n"
	    "    encrypt: {age: /usr/bin/age}\n";
	static const char level[] = "tasks:\n  postgres:\n    s3: {bucket: b}\n"
	    "    gzip_level: 10\n";
	static const char keep[] = "tasks:\n  postgres:\n    s3: {bucket: b}\n"
	    "    retention: {keep_hourly: 3}\n";
	static const char nested[] = "tasks:\n  postgres:\n    s3: {bucket: b}\n"
	    "    on_success: [echo, [x]]\n";
	static const char notlist[] = "tasks:\n  postgres:\n    s3: {bucket: b}\n"
	    "    on_failure: /bin/false\n";
	struct conf c;

	if (ok(load(&c, gen("extras.yml", good, sizeof good - 1, 0600)) == 0,
	    "retention, encrypt, hooks, globals and gzip_level load")) {
		is_long(c.gzip_level, 1, "gzip_level");
		is_str(c.pg_dumpall, "/usr/bin/pg_dumpall", "pg_dumpall");
		ok(c.retention.present && c.retention.keep_daily == 7 &&
		    c.retention.keep_weekly == 4 && c.retention.keep_days == 0 &&
		    c.retention.keep_monthly == 0, "the task's retention");
		ok(c.encrypt.present && c.encrypt.age_recipients &&
		    strcmp(c.encrypt.age_recipients[1], "age1def") == 0 &&
		    c.encrypt.age_recipients[2] == NULL, "encrypt.age_recipients, NULL-ended");
		is_str(c.encrypt.age, "/usr/bin/age", "encrypt.age");
		ok(c.on_success && strcmp(c.on_success[2], "two words") == 0 &&
		    c.on_success[3] == NULL, "on_success is an argv");
		ok(c.on_failure == NULL, "an empty list is none");
		is_str(c.ping_url, "https://hc.example/uuid", "ping_url");
		is_long(c.has_secret, 1, "a written ping_url counts as a secret");
		is_str(c.metrics_file, "/var/lib/m.prom", "metrics_file");
		ok(c.dbs[0].globals == 1 && c.dbs[1].globals == 0, "globals per database");
		ok(c.dbs[0].retention.present && c.dbs[0].retention.keep_days == 30 &&
		    !c.dbs[1].retention.present, "a database's own retention");
		conf_free(&c);
	}
	bad_file(gen("noage.yml", noage, sizeof noage - 1, 0600), 2, 3,
	    "encrypt.age_recipients is missing");
	bad_file(gen("level.yml", level, sizeof level - 1, 0600), 4, 17,
	    "gzip_level: expected an integer from 1 to 9, found \"10\"");
	bad_file(gen("keep.yml", keep, sizeof keep - 1, 0600), 4, 17,
	    "unknown key \"keep_hourly\" in tasks.postgres.retention");
	bad_file(gen("nested.yml", nested, sizeof nested - 1, 0600), 4, 24,
	    "on_success[1]: expected a string, found a list");
	bad_file(gen("notlist.yml", notlist, sizeof notlist - 1, 0600), 4, 17,
	    "on_failure: expected a list, found");
}

/* More dbs entries than the cap: a clear error, not a slow death. */
static void
test_many_dbs(void)
{
	static const char head[] = "tasks:\n  postgres:\n    s3: {bucket: b}\n    dbs:\n";
	size_t n = sizeof head - 1, i, cap = 10002 * 20 + n;
	char *buf = malloc(cap);
	struct conf c;

	memcpy(buf, head, n);
	for (i = 0; i < 10000; i++)
		n += (size_t)snprintf(buf + n, cap - n, "    - {database: d}\n");
	if (ok(load(&c, gen("10000-dbs.yml", buf, n, 0600)) == 0, "10000 databases load")) {
		is_long(c.ndbs, 10000, "all 10000 are there");
		conf_free(&c);
	}
	n += (size_t)snprintf(buf + n, cap - n, "    - {database: d}\n");
	bad_file(gen("10001-dbs.yml", buf, n, 0600), 10005, 7, "more than 10000 databases");
	free(buf);
}

static void
test_duration(void)
{
	static const struct { const char *in; long want; } good[] = {
		{ "90", 90 }, { "90s", 90 }, { "30m", 1800 }, { "2h", 7200 }, { "1d", 86400 },
		{ "007", 7 }, { "2147483647", 2147483647L }, { "24855d", 24855L * 86400 },
		{ "35791394m", 35791394L * 60 },
	};
	static const char *const bad[] = {
		"0", "0s", "0d", "", "s", "-1", "+1", " 1", "1 ", "1 m", "1x", "1M", "1H", "1ms",
		"1.5h", "1e3", "2147483648", "24856d", "35791395m", "99999999999999999999999",
		"0x10", "1mm",
	};
	size_t i;
	long v;

	for (i = 0; i < sizeof good / sizeof good[0]; i++) {
		v = -1;
		ok(conf_duration(good[i].in, &v) == 0 && v == good[i].want,
		    "duration \"%s\" is %ld seconds", good[i].in, good[i].want);
	}
	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		v = 12345;
		ok(conf_duration(bad[i], &v) == -1 && v == 12345, "duration \"%s\" refused",
		    bad[i]);
	}
	ok(conf_duration(NULL, &v) == -1, "duration NULL refused");
}

static void
test_size(void)
{
	static const struct { const char *in; uint64_t want; } good[] = {
		{ "8388608", 8388608 }, { "8M", 8 << 20 }, { "8MiB", 8 << 20 },
		{ "1G", 1 << 30 }, { "1GiB", 1 << 30 }, { "1k", 1024 }, { "1KiB", 1024 },
		{ "5m", 5 << 20 }, { "1T", 1ULL << 40 }, { "1", 1 },
		{ "18446744073709551615", UINT64_MAX },
		{ "17179869183G", 17179869183ULL << 30 },
	};
	static const char *const bad[] = {
		"0", "0M", "", "M", "MiB", "-1M", "+1M", " 8M", "8M ", "8 M", "8MB", "8Mi",
		"8mib", "8MIB", "8P", "8E", "1.5G", "8B", "18446744073709551616",
		"17179869184G", "16777216T", "8MiBs",
	};
	uint64_t v;
	size_t i;

	for (i = 0; i < sizeof good / sizeof good[0]; i++) {
		v = 0;
		ok(conf_size(good[i].in, &v) == 0 && v == good[i].want, "size \"%s\" is %llu",
		    good[i].in, (unsigned long long)good[i].want);
	}
	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		v = 12345;
		ok(conf_size(bad[i], &v) == -1 && v == 12345, "size \"%s\" refused", bad[i]);
	}
	ok(conf_size(NULL, &v) == -1, "size NULL refused");
}

/* max_rate: kB MB GB are powers of 1000, KiB MiB GiB of 1024. */
static void
test_rate(void)
{
	static const struct { const char *in; uint64_t want; } good[] = {
		{ "40MB", 40000000 }, { "500kB", 500000 }, { "500KB", 500000 },
		{ "1GB", 1000000000 }, { "40MiB", 40ULL << 20 }, { "100KiB", 102400 },
		{ "2GiB", 2ULL << 30 }, { "100000", 100000 }, { "100000B", 100000 },
		{ "100GB", 100000000000ULL }, { "100kB", 100000 },
	};
	static const char *const bad[] = {
		"", "0", "40", "99999", "99kB", "40Mb", "40mb", "40M", "40 MB", "40MBs",
		"1.5MB", "-40MB", "101GB", "94GiB", "40TB", "18446744073709551616",
		"18446744073709551615GB", "MB",
	};
	uint64_t v;
	size_t i;

	for (i = 0; i < sizeof good / sizeof good[0]; i++) {
		v = 0;
		ok(conf_rate(good[i].in, &v) == 0 && v == good[i].want, "rate \"%s\" is %llu B/s",
		    good[i].in, (unsigned long long)good[i].want);
	}
	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		v = 12345;
		ok(conf_rate(bad[i], &v) == -1 && v == 12345, "rate \"%s\" refused", bad[i]);
	}
}

static void
cleanup(void)
{
	char path[4200];
	size_t i;

	for (i = 0; i < nmade; i++) {
		snprintf(path, sizeof path, "%s/%.63s", tmp, made[i]);
		unlink(path);
	}
	rmdir(tmp);
}

int
main(int argc, char **argv)
{
	(void)argc;
	if (find_src(argv[0]) == -1) {
		printf("1..0 # SKIP cannot find tests/data/conf (set PGBAK_SRC)\n");
		return 0;
	}
	snprintf(tmp, sizeof tmp, "%s/pgbak-conf.XXXXXX",
	    getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	if (mkdtemp(tmp) == NULL) {
		printf("Bail out! cannot make a temporary directory\n");
		return 1;
	}
	unsetenv("PGBAK_BUCKET");
	test_duration();
	test_size();
	test_rate();
	test_valid();
	test_full();
	test_env();
	test_s3_only();
	test_s3_fd();
	test_bucket();
	test_bad_fixtures();
	test_generated();
	test_many_dbs();
	test_extras();
	test_example();
	cleanup();
	return tap_done();
}
