/*
 * s3cfg: flag > settings file > environment, endpoints, addressing style,
 * s3://BUCKET/KEY, and the messages that say what to set.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "s3cfg.h"
#include "s3tap.h"

static const char *env_names[] = {
	"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_REGION",
	"AWS_DEFAULT_REGION", "AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL", "AWS_CA_BUNDLE",
	"PGBAK_BUCKET", "PGBAK_S3_TRIES", "PGBAK_S3_STALL", "AWS_PROFILE",
	"AWS_CONFIG_FILE",
};

static void
env_reset(void)
{
	size_t i;

	for (i = 0; i < sizeof env_names / sizeof env_names[0]; i++)
		unsetenv(env_names[i]);
	setenv("AWS_ACCESS_KEY_ID", "envkey", 1);
	setenv("AWS_SECRET_ACCESS_KEY", "envsecret", 1);
	setenv("AWS_CONFIG_FILE", "/nonexistent/pgbak-config", 1);	/* not the user's */
}

/* Load; on error return the message (static), else "" and fill c. */
static const char *
load(struct s3_cfg *c, const struct s3_flags *f, const char *key)
{
	static struct log_err e;

	e.msg[0] = '\0';
	if (s3_cfg_load(c, f, key, &e) < 0)
		return e.msg[0] ? e.msg : "(error without message)";
	return "";
}

static void
test_env_only(void)
{
	struct s3_flags f = { 0 };
	struct s3_cfg c;

	env_reset();
	setenv("PGBAK_BUCKET", "envbucket", 1);
	setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:7480/", 1);
	setenv("AWS_SESSION_TOKEN", "tok", 1);
	tap_is(load(&c, &f, "dir/a b.gz"), "", "environment alone is enough");
	tap_is(c.endpoint, "http://127.0.0.1:7480", "endpoint from AWS_ENDPOINT_URL, '/' dropped");
	tap_is(c.bucket, "envbucket", "bucket from PGBAK_BUCKET");
	tap_is(c.region, "us-east-1", "region defaults to us-east-1");
	tap_ok(c.path_style == 1, "custom endpoint: path-style");
	tap_is(c.host, "127.0.0.1:7480", "path-style Host is the endpoint's authority");
	tap_is(c.base_path, "/envbucket", "path-style signed path prefix");
	tap_ok(c.access_key == NULL && c.secret == NULL && c.token == NULL,
	    "the environment's keys are the chain's (lib/creds), not the settings'");
	tap_ok(c.max_parts == 10000 && c.parallel == S3_PARALLEL && c.part_size == 0 &&
	    c.tries == S3_TRIES && c.stall == S3_STALL, "defaults for tuning");
	tap_is(s3_cfg_url(&c), "s3://envbucket/dir/a b.gz", "s3_cfg_url");
	s3_cfg_free(&c);

	setenv("AWS_ENDPOINT_URL_S3", "minio.example.com:9000", 1);
	setenv("AWS_DEFAULT_REGION", "eu-west-3", 1);
	tap_is(load(&c, &f, "k"), "", "AWS_ENDPOINT_URL_S3 and AWS_DEFAULT_REGION");
	tap_is(c.endpoint, "https://minio.example.com:9000", "no scheme means https://");
	tap_is(c.region, "eu-west-3", "region from AWS_DEFAULT_REGION");
	s3_cfg_free(&c);
	setenv("AWS_REGION", "ap-south-1", 1);
	tap_is(load(&c, &f, "k"), "", "AWS_REGION");
	tap_is(c.region, "ap-south-1", "AWS_REGION wins over AWS_DEFAULT_REGION");
	s3_cfg_free(&c);
}

static void
test_aws(void)
{
	struct s3_flags f = { 0 };
	struct s3_cfg c;

	env_reset();
	f.bucket = "my-backups";
	f.region = "eu-central-1";
	tap_is(load(&c, &f, "x"), "", "no endpoint: AWS");
	tap_is(c.endpoint, "https://s3.eu-central-1.amazonaws.com", "AWS regional endpoint");
	tap_ok(c.path_style == 0, "AWS: virtual-hosted");
	tap_is(c.host, "my-backups.s3.eu-central-1.amazonaws.com", "virtual-hosted Host");
	tap_is(c.base_path, "", "virtual-hosted signed path prefix is empty");
	s3_cfg_free(&c);
	f.bucket = "my.backups";
	tap_is(load(&c, &f, "x"), "", "dotted bucket on AWS");
	tap_ok(c.path_style == 1, "dotted bucket: path-style (a TLS wildcard cannot match it)");
	s3_cfg_free(&c);
}

/* Write dir/name: a settings file with those s3 lines; its path into path. */
static void
settings(char path[4096], const char *dir, const char *name, const char *s3)
{
	FILE *fp;

	snprintf(path, 4096, "%s/%s", dir, name);
	fp = fopen(path, "w");
	fprintf(fp, "tasks:\n  postgres:\n    dbs:\n      - database: app\n    s3:\n%s", s3);
	fclose(fp);
}

static void
test_file(const char *dir)
{
	char path[4096];
	struct s3_flags f = { 0 };
	struct s3_cfg c;
	FILE *fp;

	settings(path, dir, "settings.yml",
	    "      endpoint: \"http://127.0.0.1:9\"\n      bucket: filebucket\n"
	    "      access_key: filekey\n      access_secret: filesecret\n"
	    "      region: file-region\n      path_style: false\n      part_size: 6MiB\n"
	    "      max_parts: 1000\n      parallel: 2\n      storage_class: STANDARD_IA\n"
	    "      ca_file: /etc/ssl/x.pem\n");

	env_reset();
	setenv("PGBAK_BUCKET", "envbucket", 1);
	setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:7480", 1);
	setenv("AWS_REGION", "env-region", 1);
	setenv("AWS_SESSION_TOKEN", "tok", 1);
	setenv("AWS_CA_BUNDLE", "/env.pem", 1);
	f.file = path;
	tap_is(load(&c, &f, "k"), "", "settings file");
	tap_is(c.endpoint, "http://127.0.0.1:9", "file endpoint beats the environment");
	tap_is(c.bucket, "filebucket", "file bucket beats PGBAK_BUCKET");
	tap_is(c.access_key, "filekey", "file access key beats AWS_ACCESS_KEY_ID");
	tap_is(c.secret, "filesecret", "file secret beats AWS_SECRET_ACCESS_KEY");
	tap_ok(c.token == NULL, "no environment session token with the file's key");
	tap_is(c.region, "file-region", "file region beats AWS_REGION");
	tap_is(c.ca_file, "/etc/ssl/x.pem", "file ca_file beats AWS_CA_BUNDLE");
	tap_is(c.storage_class, "STANDARD_IA", "storage class");
	tap_ok(c.path_style == 0, "path_style: false honoured on a custom endpoint");
	tap_is(c.host, "filebucket.127.0.0.1:9", "...so the bucket goes into the Host");
	tap_ok(c.part_size == 6ULL << 20 && c.max_parts == 1000 && c.parallel == 2,
	    "part_size, max_parts, parallel");
	s3_cfg_free(&c);

	f.bucket = "flagbucket";
	f.endpoint = "https://flag.example";
	f.region = "flag-region";
	tap_is(load(&c, &f, "k"), "", "flags and file");
	tap_ok(strcmp(c.bucket, "flagbucket") == 0 && strcmp(c.region, "flag-region") == 0 &&
	    strcmp(c.endpoint, "https://flag.example") == 0, "flags beat the file");
	s3_cfg_free(&c);
	tap_is(load(&c, &f, "s3://flagbucket/a/b"), "", "s3:// URL naming the same bucket");
	tap_is(c.key, "a/b", "key after s3://BUCKET/");
	s3_cfg_free(&c);
	tap_is(load(&c, &f, "s3://other/a"), "-b flagbucket and s3://other/ name different "
	    "buckets", "conflicting buckets refused");

	unlink(path);
	tap_ok(strstr(load(&c, &f, "k"), path) != NULL, "a missing settings file: error naming it");

	/* Region: flags, settings, AWS_REGION, the profile's, us-east-1. */
	snprintf(path, sizeof path, "%s/config", dir);
	fp = fopen(path, "w");
	fprintf(fp, "[default]\nregion = dflt-1\n[profile p]\n  # comment\nregion=prof-1\n");
	fclose(fp);
	env_reset();
	setenv("AWS_CONFIG_FILE", path, 1);
	memset(&f, 0, sizeof f);
	f.bucket = "b";
	tap_is(load(&c, &f, "k"), "", "a config file");
	tap_is(c.region, "dflt-1", "region from the default profile");
	s3_cfg_free(&c);
	setenv("AWS_PROFILE", "p", 1);
	tap_is(load(&c, &f, "k"), "", "AWS_PROFILE");
	tap_is(c.region, "prof-1", "region from [profile p]");
	s3_cfg_free(&c);
	setenv("AWS_DEFAULT_REGION", "env-1", 1);
	tap_is(load(&c, &f, "k"), "", "AWS_DEFAULT_REGION and a profile");
	tap_is(c.region, "env-1", "AWS_DEFAULT_REGION beats the profile's");
	s3_cfg_free(&c);
	unsetenv("AWS_DEFAULT_REGION");
	setenv("AWS_PROFILE", "none", 1);
	tap_is(load(&c, &f, "k"), "", "a profile without region");
	tap_is(c.region, "us-east-1", "...us-east-1");
	s3_cfg_free(&c);
	unlink(path);

	/* The settings' keys go together. */
	snprintf(path, sizeof path, "%s/half.yml", dir);
	fp = fopen(path, "w");
	fprintf(fp, "tasks:\n  postgres:\n    dbs:\n      - database: app\n    s3:\n"
	    "      bucket: b\n      access_key: k\n");
	fclose(fp);
	f.file = path;
	tap_ok(strstr(load(&c, &f, "k"), "access_key is set but access_secret is not") != NULL,
	    "access_key without access_secret refused");
	fp = fopen(path, "w");
	fprintf(fp, "tasks:\n  postgres:\n    dbs:\n      - database: app\n    s3:\n"
	    "      bucket: b\n      session_token: t\n");
	fclose(fp);
	tap_ok(strstr(load(&c, &f, "k"), "session_token is set without") != NULL,
	    "session_token without the keys refused");
	fp = fopen(path, "w");
	fprintf(fp, "tasks:\n  postgres:\n    dbs:\n      - database: app\n    s3:\n"
	    "      bucket: b\n      access_key: k\n      access_secret: s\n"
	    "      session_token: t\n");
	fclose(fp);
	tap_is(load(&c, &f, "k"), "", "the three together");
	tap_is(c.token, "t", "session_token read");
	s3_cfg_free(&c);
	unlink(path);
}

static void
test_errors(void)
{
	struct s3_flags f = { 0 };
	struct s3_cfg c;

	env_reset();
	tap_is(load(&c, &f, "k"), "no bucket: give -b BUCKET or s3://BUCKET/KEY, or set bucket "
	    "in PGBAK_BUCKET", "missing bucket names where to set it");
	f.bucket = "b";
	unsetenv("AWS_ACCESS_KEY_ID");
	unsetenv("AWS_SECRET_ACCESS_KEY");
	tap_is(load(&c, &f, "k"), "", "no keys anywhere: loads (the chain has other sources)");
	s3_cfg_free(&c);
	env_reset();
	tap_is(load(&c, &f, ""), "the key must be 1 to 1024 bytes long", "empty key");
	tap_is(load(&c, &f, "s3://b/"), "s3://b/: want s3://BUCKET/KEY", "s3:// without key");
	tap_is(load(&c, &f, "s3://b"), "s3://b: want s3://BUCKET/KEY", "s3:// without slash");
	f.endpoint = "ftp://x";
	tap_is(load(&c, &f, "k"), "endpoint ftp://x from -e: only http:// and https:// are "
	    "supported", "ftp:// refused");
	f.endpoint = "http://u:p@x";
	tap_is(load(&c, &f, "k"), "endpoint http://u:p@x from -e: want [https://]HOST[:PORT]",
	    "credentials in the endpoint refused");
	f.endpoint = "http://x/prefix";
	tap_is(load(&c, &f, "k"), "endpoint http://x/prefix from -e: a path, query or fragment "
	    "is not supported", "endpoint path refused");
	f.endpoint = "HTTP://X:1";
	tap_is(load(&c, &f, "k"), "", "scheme is case-insensitive");
	tap_is(c.endpoint, "http://X:1", "...and lowercased");
	s3_cfg_free(&c);
	f.endpoint = NULL;
	f.bucket = "a/b";
	tap_is(load(&c, &f, "k"), "bucket a/b: a bucket name has only letters, digits, '.', '-' "
	    "and '_'", "bucket with '/' refused");
	f.bucket = "b";
	setenv("PGBAK_S3_TRIES", "0", 1);
	tap_is(load(&c, &f, "k"), "PGBAK_S3_TRIES=0: want a number from 1 to 100",
	    "PGBAK_S3_TRIES checked");
	setenv("PGBAK_S3_TRIES", "2", 1);
	setenv("PGBAK_S3_STALL", "3", 1);
	tap_is(load(&c, &f, "k"), "", "PGBAK_S3_TRIES and PGBAK_S3_STALL");
	tap_ok(c.tries == 2 && c.stall == 3, "...are used");
	s3_cfg_free(&c);
}

/* SSE and Object Lock: the key's MD5, Content-MD5 kept with a lock, flags first. */
static void
test_protection(const char *dir)
{
	char path[4096];
	struct s3_flags f = { 0 };
	struct s3_cfg c;

	settings(path, dir, "protect.yml", "      bucket: b\n      sse_customer_key: ${S3CFG_SSE_C}\n"
	    "      object_lock: { mode: GOVERNANCE, days: 7 }\n");
	env_reset();
	/* 32 zero bytes */
	setenv("S3CFG_SSE_C", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=", 1);
	f.file = path;
	tap_is(load(&c, &f, "k"), "", "sse_customer_key and object_lock");
	tap_is(c.sse_c_key_md5, "cLyPS3KoaSFGi/joRB3OUQ==", "the key's MD5, base64");
	tap_ok(c.lock_mode && strcmp(c.lock_mode, "GOVERNANCE") == 0 && c.lock_days == 7,
	    "object_lock mode and days");
	tap_ok(c.content_md5 == 1, "Content-MD5 is required with Object Lock");
	s3_cfg_free(&c);
	f.lock_mode = "COMPLIANCE";
	f.lock_days = "30";
	tap_is(load(&c, &f, "k"), "", "...and with the flags");
	tap_ok(strcmp(c.lock_mode, "COMPLIANCE") == 0 && c.lock_days == 30, "flags beat the file");
	s3_cfg_free(&c);
	setenv("S3CFG_SSE_C", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA==", 1);	/* 31 bytes */
	tap_ok(strstr(load(&c, &f, "k"), "want the base64 of exactly 32 bytes") != NULL,
	    "31 bytes refused");
	unsetenv("S3CFG_SSE_C");

	memset(&f, 0, sizeof f);
	f.sse = "aws:kms";
	f.bucket = "b";
	tap_is(load(&c, &f, "k"), "", "--sse aws:kms alone");
	tap_ok(c.content_md5 == 0 && c.lock_mode == NULL && c.sse_c_key == NULL,
	    "twin: no lock, no Content-MD5 requirement");
	s3_cfg_free(&c);
	unlink(path);
}

int
main(void)
{
	char dir[] = "/tmp/pgbak-s3cfg.XXXXXX";

	if (mkdtemp(dir) == NULL)
		return 1;
	test_env_only();
	test_aws();
	test_file(dir);
	test_errors();
	test_protection(dir);
	rmdir(dir);
	return tap_done();
}
